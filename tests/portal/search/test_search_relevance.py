"""What a librarian means, against a real node: natural phrases, compounds, English,
taxonomy labels, Unicode forms, typos and the administrators' thesaurus.

Expected records are recounted from ``data/innovations.jsonl`` with plain string
tests, never taken from the engine.
"""

from __future__ import annotations

import json
import re
import time
import unicodedata

import pytest

from portal.search.synonyms import SynonymIndex
from registry.db import transaction
from registry.search_log import log_search
from tests.helpers import fold, text_of

from ...conftest import ROOT, TEST_RECORD, data_site, published_records

SEED = SynonymIndex(
    [
        {"kind": s["kind"], "broader": s.get("term"), "terms": s.get("terms") or s["narrower"]}
        for s in json.loads((ROOT / "data" / "thesaurus.json").read_text("utf-8"))["sets"]
    ]
)


def api(http, **params) -> dict:
    response = http.get("/api/v1/search", query_string={"size": 100, **params})
    assert response.status_code == 200, response.data
    return response.get_json()


def ids(http, q: str) -> list[str]:
    return [hit["id"] for hit in api(http, q=q)["hits"]]


def having(*needles: str) -> set[str]:
    """Published records whose text contains every needle (folded substrings)."""
    return {r["id"] for r in published_records() if all(n in text_of(r) for n in needles)}


@pytest.mark.parametrize(
    "q", ["cursus voor senioren", "kennisdeling tussen bibliotheken",
          "samenwerking met het consultatiebureau", "ideeen voor jongeren met weinig geld"],
)  # fmt: skip
def test_natural_phrases_find_records(http, q):
    assert api(http, q=q)["total"] > 0


def test_stopwords_change_nothing(http):
    assert ids(http, "cursus voor de senioren") == ids(http, "cursus senioren")


def test_records_with_every_word_rank_first(http):
    words = ("aanbod", "moeite")
    assert not any(SEED.alternatives(w) for w in words), "pick words without synonyms"

    def whole(word, record):
        return re.search(rf"\b{word}\b", text_of(record))

    both = {r["id"] for r in published_records() if all(whole(w, r) for w in words)}
    one = {
        r["id"] for r in published_records()
        if sum(bool(whole(w, r)) for w in words) == 1 and sum(w in text_of(r) for w in words) == 1
    }  # fmt: skip
    assert both and one, "the data should have records with both words and with one"
    found = ids(http, " ".join(words) + " ")
    assert one & set(found)  # one word of two is enough to be found
    assert max(found.index(i) for i in both) < min(found.index(i) for i in one & set(found))


def test_a_compound_meets_its_parts_and_a_part_meets_the_compound(http):
    expected = having("gratis", "abonnement")
    assert expected
    assert expected <= set(ids(http, "bibliotheekabonnement gratis"))
    compounds = {
        r["id"] for r in published_records()
        if re.search(r"\w+abonnement", text_of(r))
    }  # fmt: skip
    assert compounds
    assert compounds <= set(ids(http, "abonnement "))


def test_makers_finds_every_maker_record(http):
    expected = {r["id"] for r in published_records() if re.search(r"\bmaker", text_of(r))}
    assert expected
    assert expected <= set(ids(http, "makers "))
    assert expected <= set(ids(http, "maker "))


@pytest.mark.parametrize("q", ["reading to children", "digital skills", "library without staff"])
def test_english_queries_find_records_and_are_not_corrected_into_dutch(http, q):
    result = api(http, q=q)
    assert result["total"] > 0
    assert "corrected_query" not in result


def test_taxonomy_labels_are_searchable_in_both_languages(http):
    taxonomy = json.loads((ROOT / "data" / "taxonomy.json").read_text("utf-8"))
    checked = 0
    for term in taxonomy["innovation_types"]:
        label_nl, label_en = fold(term["nl"]), fold(term["en"])
        if SEED.alternatives(label_nl) or SEED.alternatives(label_en):
            continue  # the thesaurus would find the records as well
        expected = {r["id"] for r in published_records() if r["innovation_type"] == term["id"]}
        if not {i for i in expected if label_nl not in text_of(by_id(i))}:
            continue  # every record says it in words: labels prove nothing
        assert expected <= set(ids(http, term["nl"] + " "))
        assert expected <= set(ids(http, term["en"] + " "))
        checked += 1
    assert checked, "no innovation type label to check"


def by_id(record_id: str) -> dict:
    return next(r for r in published_records() if r["id"] == record_id)


def test_decomposed_unicode_finds_what_composed_text_finds(http):
    composed = ids(http, "ideeën ")
    assert composed
    assert ids(http, unicodedata.normalize("NFD", "ideeën") + " ") == composed
    assert ids(http, "ide\u00adeën ") == composed


def test_a_typo_shows_the_corrected_results_at_once(http):
    result = api(http, q="voorlezn")
    assert result["corrected_query"] == "voorlezen"
    assert {h["id"] for h in result["hits"]} == set(ids(http, "voorlezen"))
    as_typed = api(http, q="voorlezn", correct="0")
    assert as_typed["total"] == 0 and as_typed["did_you_mean"] == "voorlezen"
    html = http.get("/zoeken?q=voorlezn&lang=nl").get_data(as_text=True)
    assert "<em>voorlezen</em>" in html and 'correct=0">voorlezn</a>' in html


def test_each_misspelt_word_of_several_is_corrected(http):
    result = api(http, q="leesbevordring scool")
    assert result["corrected_query"] == "leesbevordering school"
    assert result["total"] > 0


EXTRA = {
    **TEST_RECORD,
    "id": "test-zacht-afbreekstreepje",
    "title": "Voor\u00adleesfeest in de bieb",
    "summary": "Een feest met voor\u00adlezen.",
    "description": "Alleen in deze test.",
    "keywords": ["zwijntjesproef"],
}
PASSWORD = "thesaurus-wachtwoord"


@pytest.fixture(scope="module")
def site(tmp_path_factory, client, opensearch_url):
    """The real data plus a record with soft hyphens, an admin and an analyst; the
    portal checks the thesaurus on every request."""
    from portal import create_app

    users = [
        ("beheer@bieb.example", "admin", PASSWORD),
        ("analist@bieb.example", "analyst", PASSWORD),
    ]
    path = tmp_path_factory.mktemp("thesaurus")
    with data_site(path, client, opensearch_url, "thesaurus", [EXTRA], users,
                   TAXONOMY_CHECK_S=0) as made:  # fmt: skip
        yield {"app": create_app(made["config"]), "factory": made["factory"]}


_address = iter(range(1, 250))


def login(app, email: str):
    """A test client logged in as ``email``, from its own address (login rate limits)."""
    http = app.test_client()
    http.environ_base["REMOTE_ADDR"] = f"10.8.0.{next(_address)}"
    response = http.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302
    return http


def test_a_soft_hyphen_does_not_hide_a_word(site):
    http = site["app"].test_client()
    result = api(http, q="voorleesfeest")
    assert [h["id"] for h in result["hits"]] == [EXTRA["id"]]
    assert "\u00ad" not in json.dumps(result, ensure_ascii=False)
    assert "<mark>" in result["hits"][0]["highlight"]["title"][0]


def test_a_thesaurus_change_is_live_without_a_rebuild_and_undoable(site):
    admin = login(site["app"], "beheer@bieb.example")
    anonymous = site["app"].test_client()
    assert api(anonymous, q="knorretjesdag", correct="0")["total"] == 0
    response = admin.post(
        "/beheer/thesaurus",
        data={"action": "add", "kind": "equivalent", "terms": "knorretjesdag, zwijntjesproef"},
    )
    assert response.status_code == 302
    started = time.monotonic()
    while api(anonymous, q="knorretjesdag")["total"] == 0 and time.monotonic() - started < 5:
        time.sleep(0.2)
    assert [h["id"] for h in api(anonymous, q="knorretjesdag")["hits"]] == [EXTRA["id"]]
    page = admin.get("/beheer/thesaurus?zoek=knorretjesdag").get_data(as_text=True)
    assert "knorretjesdag" in page and "zwijntjesproef" in page
    assert admin.post("/beheer/thesaurus", data={"action": "undo"}).status_code == 302
    assert api(anonymous, q="knorretjesdag", correct="0")["total"] == 0


@pytest.mark.parametrize(
    "form, message",
    [
        ({"action": "add", "kind": "equivalent", "terms": "alleen"}, "minstens twee"),
        ({"action": "add", "kind": "equivalent", "terms": "de, het"}, "stopwoorden"),
        ({"action": "add", "kind": "equivalent", "terms": "a1, " + "x" * 61}, "60 tekens"),
        ({"action": "remove", "set_id": "99999999"}, "bestaat niet"),
        ({"action": "what"}, "gelijkwaardige"),
    ],
)
def test_a_bad_thesaurus_entry_is_a_clear_error_and_changes_nothing(site, form, message):
    admin = login(site["app"], "beheer@bieb.example")
    before = admin.get("/beheer/thesaurus/export").get_json()
    response = admin.post("/beheer/thesaurus?lang=nl", data=form)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert admin.get("/beheer/thesaurus/export").get_json() == before


def test_a_bad_import_file_changes_nothing(site):
    import io

    admin = login(site["app"], "beheer@bieb.example")
    before = admin.get("/beheer/thesaurus/export").get_json()
    bad = json.dumps({"sets": [{"kind": "equivalent", "terms": ["fiets", "rijwiel"]},
                               {"kind": "equivalent", "terms": [""]}]})  # fmt: skip
    response = admin.post(
        "/beheer/thesaurus?lang=nl",
        data={"action": "import", "file": (io.BytesIO(bad.encode()), "t.json")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400 and "set 2" in response.get_data(as_text=True)
    assert admin.get("/beheer/thesaurus/export").get_json() == before


def test_zero_result_queries_lead_administrators_to_the_thesaurus(site):
    with transaction(site["factory"]) as session:
        log_search(session, "flurbelquest", {}, 0, 5)
    admin_page = (
        login(site["app"], "beheer@bieb.example").get("/statistieken").get_data(as_text=True)
    )
    assert "/beheer/thesaurus?toevoegen=flurbelquest" in admin_page
    analyst_page = login(site["app"], "analist@bieb.example").get("/statistieken")
    assert "toevoegen=flurbelquest" not in analyst_page.get_data(as_text=True)


def test_the_thesaurus_cli_adds_lists_and_refuses_bad_sets(site):
    runner = site["app"].test_cli_runner()
    result = runner.invoke(args=["thesaurus", "add", "snuffelproef", "zwijntjesproef"])
    assert result.exit_code == 0 and "added set" in result.output
    listed = runner.invoke(args=["thesaurus", "list"]).output
    assert "snuffelproef = zwijntjesproef" in listed
    bad = runner.invoke(args=["thesaurus", "add", "de", "het"])
    assert bad.exit_code == 1 and "error:" in bad.output
    assert runner.invoke(args=["thesaurus", "undo"]).exit_code == 0
    assert "snuffelproef" not in runner.invoke(args=["thesaurus", "list"]).output


def test_autocomplete_meets_decomposed_unicode(http):
    typed = http.get("/api/v1/autocomplete", query_string={"q": "lees"}).get_json()
    nfd = unicodedata.normalize("NFD", "lées")  # an accent typed on the way
    decomposed = http.get("/api/v1/autocomplete", query_string={"q": nfd}).get_json()
    assert typed["suggestions"] and decomposed == typed

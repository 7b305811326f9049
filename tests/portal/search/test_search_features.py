"""Search features against a real node: text syntax, escaping, Dutch
sorting, URL round-trips, cursor paging, exports, feed, zero-result help, OpenAPI.

Uses its own registry: the real data plus a few crafted records (markup in a title,
awkward programme names, Dutch title sorting, a record without evidence level).
"""

from __future__ import annotations

import csv
import io
import json
import re
from xml.etree import ElementTree as ET

import pytest

from indexer.client import IndexNames
from indexer.rebuild import rebuild
from registry.records import import_jsonl
from tests.conftest import DATA_FILE, RUN_ID, make_registry, published_records
from tests.conftest import TEST_RECORD as TEMPLATE
from tests.helpers import fold, text_of

AWKWARD_PROGRAMME = 'Lezen & Schrijven / "Tel mee" + \'t Taalhuis – één'
EXTRA = [
    {"id": "test-markup", "title": "<script>alert(1)</script> & <b>vetgedrukt</b> markeerproef"},
    {"id": "test-programme", "title": "Programmaproef", "programmes": [AWKWARD_PROGRAMME]},
    {"id": "test-hertogenbosch", "title": "'s-Hertogenbosch sorteerproef"},
    {"id": "test-ijsselstein", "title": "IJsselstein sorteerproef"},
    {"id": "test-zonder-bewijs", "title": "Zonder bewijsniveau", "evidence_level": None},
]


@pytest.fixture(scope="module")
def special(tmp_path_factory, client, opensearch_url):
    from portal import create_app

    path = tmp_path_factory.mktemp("special")
    url, factory = make_registry(path)
    extra = path / "extra.jsonl"
    extra.write_text(
        "\n".join(json.dumps({**TEMPLATE, **record}) for record in EXTRA) + "\n", "utf-8"
    )
    assert not import_jsonl(factory, DATA_FILE).rejected
    assert not import_jsonl(factory, extra).rejected
    names = IndexNames(f"t{RUN_ID}-special-")
    rebuild(client, factory, names)
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": url,
            "OPENSEARCH_URL": opensearch_url,
            "INDEX_PREFIX": names.prefix,
        }
    )
    yield app.test_client()
    client.indices.delete(index=f"{names.prefix}*", ignore_unavailable=True)


def api(http, **params) -> dict:
    response = http.get("/api/v1/search", query_string=params)
    assert response.status_code == 200, response.data
    return response.get_json()


def test_last_word_completes_as_a_prefix(http):
    expected = {
        r["id"]
        for r in published_records()
        if any(
            w.startswith("leesbev")
            for w in re.findall(r"\w+", fold(r["title"] + " " + " ".join(r["keywords"])))
        )
    }
    assert expected
    found = {h["id"] for h in api(http, q="leesbev", size=100)["hits"]}
    assert expected <= found


def test_phrase_search_requires_the_words_together(http):
    loose = api(http, q="digitale inclusie", size=100)
    phrase = api(http, q='"digitale inclusie"', size=100)
    assert 0 < phrase["total"] <= loose["total"]
    by_id = {r["id"]: r for r in published_records()}
    for hit in phrase["hits"]:
        record = by_id[hit["id"]]
        haystack = text_of(record) + " " + fold(" ".join(record["programmes"]))
        assert "digitale inclusie" in haystack, hit["id"]


def test_minus_excludes_a_word(http):
    with_word = api(http, q="lezen", size=100)
    without = api(http, q="lezen -jongeren", size=100)
    assert without["total"] < with_word["total"]
    by_id = {r["id"]: r for r in published_records()}
    assert all("jongeren" not in text_of(by_id[h["id"]]) for h in without["hits"])


def test_empty_query_lists_everything_newest_first(http):
    result = api(http, size=100)
    dates = [h["created"] for h in result["hits"]]
    assert dates == sorted(dates, reverse=True)
    assert result["total"] == len(published_records())


def test_markup_in_a_title_is_text_everywhere(special):
    hit = next(h for h in api(special, q="markeerproef")["hits"] if h["id"] == "test-markup")
    assert hit["title"].startswith("<script>")  # JSON carries the raw text
    assert "&lt;script&gt;" in hit["highlight"]["title"][0]
    assert "<script" not in hit["highlight"]["title"][0]
    escaped = {
        "/zoeken?q=markeerproef": "&lt;script&gt;alert(1)&lt;",
        "/innovaties/test-markup": "&lt;script&gt;alert(1)&lt;/script&gt;",
        "/zoeken?q=script": "&lt;<mark>script</mark>&gt;",
    }
    for path, expected in escaped.items():
        html = special.get(path).get_data(as_text=True)
        assert "<script>alert" not in html and "<b>vetgedrukt" not in html, path
        assert expected in html, path


def test_title_sort_files_dutch_names_in_their_places(special):
    titles = [h["title"] for h in api(special, sort="title", size=100, province="utrecht")["hits"]]
    everything = []
    page = 1
    while True:
        result = api(special, sort="title", size=100, page=page)
        everything += [h["title"] for h in result["hits"]]
        if page * 100 >= result["total"]:
            break
        page += 1
    assert titles  # the filter found the crafted records
    position = {t: i for i, t in enumerate(everything)}
    herto = position["'s-Hertogenbosch sorteerproef"]
    ijssel = position["IJsselstein sorteerproef"]
    before_h = [t for t in everything[:herto] if fold(t)[:1].isalpha()]
    assert all(fold(t)[0] <= "h" for t in before_h)
    assert all(fold(t)[0] >= "h" for t in everything[herto + 1 :] if fold(t)[:1].isalpha())
    assert fold(everything[ijssel - 1])[0] <= "i" <= fold(everything[ijssel + 1])[0]


def test_awkward_programme_round_trips_through_url_and_filter(special):
    result = api(special, programme=AWKWARD_PROGRAMME)
    assert [h["id"] for h in result["hits"]] == ["test-programme"]
    item = next(i for i in result["facets"]["programme"] if i["value"] == AWKWARD_PROGRAMME)
    assert item["selected"] and item["count"] == 1
    html = special.get("/zoeken", query_string={"programme": AWKWARD_PROGRAMME}).get_data(
        as_text=True
    )
    attribute = AWKWARD_PROGRAMME.replace("&", "&amp;").replace('"', "&#34;").replace("'", "&#39;")
    assert f'value="{attribute}" checked' in html
    from portal.search.params import SearchRequest

    request = SearchRequest(filters={"programme": (AWKWARD_PROGRAMME,)})
    again = special.get("/api/v1/search?" + request.query_string()).get_json()
    assert again["total"] == 1


def test_missing_evidence_level_is_counted_as_unknown(special):
    evidence = {i["value"]: i for i in api(special)["facets"]["evidence"]}
    assert evidence["unknown"]["count"] == 1
    assert evidence["unknown"]["label"] == "onbekend"


def test_cursor_walks_every_result_exactly_once(http):
    seen, cursor, pages = [], "start", 0
    while cursor:
        result = api(http, cursor=cursor, size=25, sort="title")
        seen += [h["id"] for h in result["hits"]]
        cursor = result["next_cursor"]
        pages += 1
        assert pages < 20
    assert len(seen) == len(set(seen)) == len(published_records())


def test_bad_cursor_is_a_400(http):
    response = http.get("/api/v1/search?cursor=bm9wZQ")
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "cursor"


def test_csv_export_streams_every_match_with_labels(http):
    response = http.get("/api/v1/export?format=csv&phase=experiment")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    expected = {r["id"] for r in published_records() if r["phase"] == "experiment"}
    assert {row["id"] for row in rows} == expected
    # the phase has one name everywhere: the filter's (the taxonomy's short label)
    assert {row["phase"] for row in rows} == {"Experiment"}


def test_json_export_has_every_match(http):
    response = http.get("/api/v1/export?format=json&province=zeeland")
    items = json.loads(response.get_data(as_text=True))
    assert {i["id"] for i in items} == {
        r["id"] for r in published_records() if r["province"] == "zeeland"
    }
    assert http.get("/api/v1/export?format=xml").status_code == 400


def test_atom_feed_is_newest_first(http):
    response = http.get("/feed.atom?phase=idee")
    assert response.mimetype == "application/atom+xml"
    root = ET.fromstring(response.data)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    entries = root.findall("a:entry", ns)
    expected = [r for r in published_records() if r["phase"] == "idee"]
    assert len(entries) == min(50, len(expected))
    updated = [e.find("a:updated", ns).text for e in entries]
    assert updated == sorted(updated, reverse=True)


def test_opensearch_description_and_links(http):
    response = http.get("/opensearch.xml")
    assert response.mimetype == "application/opensearchdescription+xml"
    assert "{searchTerms}" in response.get_data(as_text=True)
    html = http.get("/zoeken").get_data(as_text=True)
    assert 'rel="search"' in html and 'type="application/atom+xml"' in html


def test_zero_results_suggest_a_spelling_and_show_filter_relaxations(http):
    corrected = api(http, q="leesbevordring")
    assert corrected["corrected_query"] == "leesbevordering" and corrected["total"] > 0
    result = api(http, q="leesbevordring", correct="0")
    assert result["total"] == 0 and result["did_you_mean"] == "leesbevordering"
    # a province and a phase that no published record has together, each of them used
    records = published_records()
    province, phase = next(
        (p, f)
        for p in sorted({r["province"] for r in records if r["province"]})
        for f in ("idee", "experiment", "beschikbaar")
        if any(r["phase"] == f for r in records)
        and not any(r["province"] == p and r["phase"] == f for r in records)
    )
    result = api(http, province=province, phase=phase)
    assert result["total"] == 0
    without = {w["facet"]: w["total"] for w in result["without_filter"]}
    assert without["province"] == sum(r["phase"] == phase for r in records) > 0
    assert without["phase"] == sum(r["province"] == province for r in records) > 0
    html = http.get("/zoeken?q=leesbevordring&correct=0").get_data(as_text=True)
    assert "Bedoelde u" in html and "q=leesbevordering" in html
    html = http.get("/zoeken?q=leesbevordring").get_data(as_text=True)
    assert "Resultaten voor <em>leesbevordering</em>" in html


def test_autocomplete_suggests_titles_and_keywords(http):
    suggestions = http.get("/api/v1/autocomplete?q=lees").get_json()["suggestions"]
    titles = [s for s in suggestions if s["kind"] == "title"]
    keywords = [s["text"] for s in suggestions if s["kind"] == "keyword"]
    assert titles and all(
        any(w.startswith("lees") for w in re.findall(r"\w+", fold(s["text"]))) for s in titles
    )
    assert "leesbevordering" in keywords
    assert http.get("/api/v1/autocomplete?q=" + "x" * 101).status_code == 400


def test_detail_page_has_related_innovations_and_evidence_in_words(http):
    html = http.get("/innovaties/walk-and-talk").get_data(as_text=True)
    assert "Verwante innovaties" in html
    assert "Bereik en output gemonitord" in html  # evidence level 2 in words


def test_page_past_the_last_shows_the_last_page_with_a_message(http):
    response = http.get("/zoeken?page=50&size=10")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Pagina 50 bestaat niet" in html
    last = -(-len(published_records()) // 10)
    assert f'aria-current="page" href="?size=10&amp;page={last}"' in html


def test_browser_language_picks_english(http):
    html = http.get("/zoeken", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in html and "Search innovations" in html
    html = http.get("/zoeken", headers={"Accept-Language": "de,en;q=0.5,nl;q=0.8"}).get_data(
        as_text=True
    )
    assert '<html lang="nl">' in html


def test_openapi_lists_every_facet_parameter(http):
    spec = http.get("/api/v1/openapi.json").get_json()
    params = {p["name"] for p in spec["paths"]["/api/v1/search"]["get"]["parameters"]}
    from portal.search.facets import FACETS

    assert {f.url_param for f in FACETS} <= params
    assert "SearchResult" in spec["components"]["schemas"]
    assert "/api/v1/stats" in spec["paths"]

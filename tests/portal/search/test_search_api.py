"""Public search over HTTP against the real data.

Expected numbers are recounted from ``data/innovations.jsonl`` and
``data/taxonomy.json`` here, never taken from the code under test.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections import Counter

import pytest

from tests.conftest import TAXONOMY_FILE, published_records
from tests.helpers import assert_error_answer

FIELD_OF = {
    "priority": "priorities",
    "community": "communities",
    "phase": "phase",
    "type": "innovation_type",
    "target": "target_groups",
    "province": "province",
    "programme": "programmes",
}


def current_community(community_id: str) -> str:
    """Successor of a historical community, straight from taxonomy.json's links."""
    terms = {t["id"]: t for t in json.loads(TAXONOMY_FILE.read_text("utf-8"))["communities"]}
    term = terms[community_id]
    while term["status"] != "active":
        term = terms[term.get("merged_into") or term.get("renamed_to")]
    return term["id"]


def values_of(record: dict, facet: str) -> list[str]:
    raw = record[FIELD_OF[facet]]
    values = raw if isinstance(raw, list) else [raw]
    if facet == "community":
        return list(dict.fromkeys(current_community(v) for v in values))
    return values


def matches(record: dict, selection: dict[str, list[str]]) -> bool:
    for facet, wanted in selection.items():
        if facet == "evidence_min":
            if record["evidence_level"] < int(wanted[0]):
                return False
        elif not set(values_of(record, facet)) & set(wanted):
            return False
    return True


def recount(facet: str, selection: dict[str, list[str]]) -> Counter:
    """Disjunctive counts: every selection except the facet's own."""
    others = {k: v for k, v in selection.items() if k != facet}
    counts: Counter = Counter()
    for record in published_records():
        if matches(record, others):
            counts.update(values_of(record, facet))
    return counts


def search(http, query: str) -> dict:
    response = http.get(f"/api/v1/search?{query}")
    assert response.status_code == 200, response.data
    return response.get_json()


def test_no_filter_shows_every_published_record(http):
    result = search(http, "size=100")
    assert result["total"] == len(published_records())
    assert set(result) == {"total", "page", "size", "hits", "facets", "notices"}
    hit = result["hits"][0]
    assert set(hit) >= {
        "id",
        "title",
        "summary",
        "priorities",
        "communities",
        "phase",
        "type",
        "target_groups",
        "evidence_level",
        "province",
        "organisation",
        "url",
        "highlight",
    }
    assert set(result["facets"]) == {
        "priority",
        "community",
        "phase",
        "type",
        "target",
        "province",
        "programme",
        "evidence",
    }


@pytest.mark.parametrize("facet", sorted(FIELD_OF))
def test_unfiltered_facet_counts_equal_a_recount(http, facet):
    result = search(http, "")
    shown = {item["value"]: item["count"] for item in result["facets"][facet]}
    assert shown == dict(recount(facet, {}))


def test_disjunctive_counts_with_two_phases_and_a_province(http):
    selection = {"phase": ["idee", "experiment"], "province": ["noord-brabant"]}
    result = search(http, "phase=idee&phase=experiment&province=noord-brabant&size=100")
    expected_hits = [r for r in published_records() if matches(r, selection)]
    assert result["total"] == len(expected_hits)
    assert {h["id"] for h in result["hits"]} == {r["id"] for r in expected_hits}
    for facet in ("phase", "province", "community", "priority"):
        shown = {i["value"]: i["count"] for i in result["facets"][facet] if i["count"]}
        assert shown == dict(recount(facet, selection)), facet
    phase = {i["value"]: i for i in result["facets"]["phase"]}
    assert phase["idee"]["selected"] and phase["experiment"]["selected"]
    assert phase["beschikbaar"]["count"] > 0 and not phase["beschikbaar"]["selected"]


def test_phase_keeps_natural_order_and_others_sort_by_count(http):
    result = search(http, "")
    assert [i["value"] for i in result["facets"]["phase"]] == ["idee", "experiment", "beschikbaar"]
    counts = [i["count"] for i in result["facets"]["province"]]
    assert counts == sorted(counts, reverse=True)


def test_selected_value_shows_at_count_zero(http):
    empty_province = next(
        p
        for p in ("flevoland", "overijssel", "limburg")
        if not any(r["province"] == p and r["phase"] == "idee" for r in published_records())
    )
    result = search(http, f"phase=idee&province={empty_province}")
    item = next(i for i in result["facets"]["province"] if i["value"] == empty_province)
    assert item["selected"] and item["count"] == recount("province", {"phase": ["idee"]}).get(
        empty_province, 0
    )
    if result["total"] == 0:
        phase_item = next(i for i in result["facets"]["phase"] if i["value"] == "idee")
        assert phase_item["selected"]


def test_evidence_filters_as_at_least(http):
    result = search(http, "evidence_min=2&size=100")
    expected = [r for r in published_records() if r["evidence_level"] >= 2]
    assert result["total"] == len(expected)
    evidence = {i["value"]: i["count"] for i in result["facets"]["evidence"]}
    assert evidence == {
        str(k): v for k, v in Counter(r["evidence_level"] for r in published_records()).items()
    }


def test_historical_community_resolves_with_a_notice(http):
    old = search(http, "community=technologie-en-makers&size=100")
    new = search(http, "community=werkplaats&size=100")
    assert (
        old["total"]
        == new["total"]
        == sum(1 for r in published_records() if "werkplaats" in values_of(r, "community"))
    )
    assert old["notices"] and "Werkplaats" in old["notices"][0]
    assert new["notices"] == []
    werkplaats = next(i for i in old["facets"]["community"] if i["value"] == "werkplaats")
    assert werkplaats["selected"]


def test_dutch_analysis_folds_diacritics_and_stems(http):
    expected = {
        r["id"]
        for r in published_records()
        if "ideeën" in " ".join([r["title"], r["summary"], r["description"], r["results"] or ""])
    }
    assert expected, "the data set should contain ideeën"
    found = {h["id"] for h in search(http, "q=ideeen&size=100")["hits"]}
    assert expected <= found
    accented = http.get("/api/v1/search", query_string={"q": "ideeën", "size": 100}).get_json()
    assert {h["id"] for h in accented["hits"]} == found


def test_highlight_is_html_escaped_markup(http):
    result = search(http, "q=koffiepauze")
    assert result["hits"]
    fragments = [f for hit in result["hits"] for fs in hit["highlight"].values() for f in fs]
    assert any("<mark>koffiepauze</mark>" in f.lower() for f in fragments)
    assert all("<" not in f.replace("<mark>", "").replace("</mark>", "") for f in fragments)


@pytest.mark.parametrize(
    "query, code, field",
    [
        ("sort=random", "invalid_sort", "sort"),
        ("page=0", "invalid_page", "page"),
        ("page=abc", "invalid_page", "page"),
        ("size=1000", "invalid_size", "size"),
        ("size=0", "invalid_size", "size"),
        ("evidence_min=9", "invalid_evidence_min", "evidence_min"),
        ("q=" + "a" * 501, "q_too_long", "q"),
        ("q=%00abc", "invalid_q", "q"),
        ("lang=fr", "invalid_lang", "lang"),
        ("phase=bogus", "unknown_value", "phase"),
        ("page=500&size=100", "page_out_of_range", "page"),
    ],
)
def test_bad_parameters_answer_400_with_an_error_object(http, query, code, field):
    assert_error_answer(http.get(f"/api/v1/search?{query}"), code, field)


@pytest.mark.parametrize(
    "q", ['"unbalanced', "(open", "a:b", "path/to", "back\\slash", "star*", "tilde~2", "+-!"]
)
def test_user_syntax_never_errors(http, q):
    response = http.get("/api/v1/search", query_string={"q": q})
    assert response.status_code == 200


def dutch_title_key(title: str) -> str:
    """A title as a Dutch index files it, recounted here: without an elided leading
    article (``'s-``, ``'t``) or leading quotes and brackets, without diacritics and
    case."""
    title = re.sub(r"^\s*(?:'s|'t|’s|’t)[-\s]+", "", title, flags=re.IGNORECASE)
    title = title.lstrip(" '\"‘’“”«(").strip()
    decomposed = unicodedata.normalize("NFKD", title)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def test_sorting_by_title_follows_the_titles_of_the_data(http):
    first = search(http, "sort=title&size=50")["hits"]
    again = search(http, "sort=title&size=50")["hits"]
    assert [h["id"] for h in first] == [h["id"] for h in again]
    records = sorted(published_records(), key=lambda r: (dutch_title_key(r["title"]), r["id"]))
    expected = [r["id"] for r in records[:50]]
    # not the order of ids: the check can fail when the sort ignores titles
    assert expected != sorted(expected)
    assert [h["id"] for h in first] == expected


def test_paging_walks_every_record_once(http):
    published = len(published_records())
    pages = math.ceil(published / 20)
    seen = []
    for page in range(1, pages + 1):
        hits = search(http, f"sort=newest&size=20&page={page}")["hits"]
        assert len(hits) == (20 if page < pages else published - 20 * (pages - 1))
        seen += [h["id"] for h in hits]
    assert len(seen) == len(set(seen)) == published


def test_detail_api_shows_public_fields_and_404s_the_rest(http):
    record = published_records()[0]
    response = http.get(f"/api/v1/innovations/{record['id']}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["title"] == record["title"]
    assert not {"contact", "budget_eur", "lessons_learned", "internal_notes"} & set(body)
    from tests.conftest import read_data

    hidden = next(r for r in read_data() if r["status"] in ("draft", "in_review", "archived"))
    response = http.get(f"/api/v1/innovations/{hidden['id']}")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_every_hit_is_what_the_documented_schema_dumps(http):
    """The API's hit schema (the OpenAPI ``SearchHit``) reproduces real answers key for
    key and in order, and each hit holds its record's values under the API's names."""
    from portal.schemas import SearchHitView

    schema = SearchHitView()
    records = {r["id"]: r for r in published_records()}
    hits = [hit for query in ("size=100", "q=lezen") for hit in search(http, query)["hits"]]
    assert len(hits) > 100 and any(hit["highlight"] for hit in hits)
    for hit in hits:
        assert list(schema.dump(hit).items()) == list(hit.items())
        record = records[hit["id"]]
        assert hit["type"] == record["innovation_type"]
        assert hit["evidence_level"] == record.get("evidence_level")
        assert hit["title"] == record["title"]

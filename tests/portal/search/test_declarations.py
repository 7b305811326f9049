"""A facet is one declaration: adding one to FACETS (here a temporary facet over the
existing ``keywords.raw`` keyword field) makes it appear in the query, the search
page, the API, the OpenAPI document and the statistics with no other change."""

from __future__ import annotations

import json
import sys
from collections import Counter

import pytest

from portal.search import facets as declarations
from portal.search.facets import Facet
from portal.search.params import SearchRequest
from portal.search.query import PAGE_STEPS, compose, plan_search
from portal.stats.tables import stats_table_names, table_names
from registry.taxonomy import Taxonomy
from tests.conftest import DATA_FILE, TAXONOMY_FILE

EXTRA = Facet("keyword", "Keyword", "keywords.raw", None, max_values=500)


def published_keywords() -> Counter:
    """How many published records carry each keyword, counted from the data file."""
    counts: Counter = Counter()
    for line in DATA_FILE.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record.get("status", "published") == "published":
            counts.update(set(record.get("keywords") or []))
    return counts


@pytest.fixture
def extra_facet(monkeypatch):
    """FACETS with :data:`EXTRA` appended, wherever the declaration was imported."""
    original, original_by_name = declarations.FACETS, declarations.FACETS_BY_NAME
    facets = (*original, EXTRA)
    by_name = {**original_by_name, EXTRA.name: EXTRA}
    for module in list(sys.modules.values()):
        if getattr(module, "FACETS", None) is original:
            monkeypatch.setattr(module, "FACETS", facets)
        if getattr(module, "FACETS_BY_NAME", None) is original_by_name:
            monkeypatch.setattr(module, "FACETS_BY_NAME", by_name)
    return EXTRA


def test_the_query_counts_and_filters_a_declared_facet(extra_facet):
    taxonomy = Taxonomy.from_file(TAXONOMY_FILE)
    request = SearchRequest(filters={"keyword": ("leesbevordering",)})
    body = compose(plan_search(request, taxonomy), PAGE_STEPS)
    assert body["aggs"]["keyword"]["aggs"]["values"]["terms"]["field"] == "keywords.raw"
    assert {"terms": {"keywords.raw": ["leesbevordering"]}} in body["post_filter"]["bool"]["filter"]
    # disjunctive: the other facets count with the keyword filter, the keyword without
    assert body["aggs"]["keyword"]["filter"] == {"match_all": {}}
    assert body["aggs"]["phase"]["filter"]["bool"]["filter"] == [
        {"terms": {"keywords.raw": ["leesbevordering"]}}
    ]


def test_a_declared_facet_reaches_api_page_openapi_and_statistics(
    extra_facet, http, client, loaded
):
    keyword, expected = published_keywords().most_common(1)[0]

    result = http.get("/api/v1/search", query_string={"keyword": keyword}).get_json()
    assert result["total"] == expected
    buckets = {item["value"]: item for item in result["facets"]["keyword"]}
    assert buckets[keyword]["count"] == expected
    assert buckets[keyword]["selected"] is True

    page = http.get("/zoeken", query_string={"keyword": keyword, "lang": "en"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Keyword" in html and keyword in html

    spec = http.get("/api/v1/openapi.json").get_json()
    params = {p["name"]: p for p in spec["paths"]["/api/v1/search"]["get"]["parameters"]}
    assert params["keyword"]["schema"]["type"] == "array"

    from portal.stats.service import facet_statistics
    from portal.stats.tables import stats_tables

    taxonomy = Taxonomy.from_file(TAXONOMY_FILE)
    stats = facet_statistics(
        client, loaded["names"], taxonomy, SearchRequest(), "en", crosstab=("keyword", "phase")
    )
    counted = {item["value"]: item["count"] for item in stats["facets"]["keyword"]}
    assert counted[keyword] >= expected  # members' statistics also count archived records
    with http.application.test_request_context():
        assert "facet-keyword" in stats_tables(stats)


def test_a_declared_facet_has_a_csv_table_without_a_server(extra_facet):
    assert "facet-keyword" in stats_table_names()
    assert stats_table_names().index("facet-keyword") == len(declarations.FACETS) - 1
    assert "facet-keyword" in table_names() and "top-queries" in table_names()


def test_without_it_the_table_is_gone_again():
    assert "facet-keyword" not in stats_table_names()
    assert "facet-phase" in stats_table_names()

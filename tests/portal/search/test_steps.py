"""The search body's named steps, without a server: each step owns its keys, and a
caller (page, cursor walk, export, zero-result count) gets exactly the keys it
composes."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal.search.facets import FACETS_BY_NAME
from portal.search.hits import hit_source
from portal.search.params import SearchRequest
from portal.search.query import (
    CORRECTED_PAGE_STEPS,
    COUNT_STEPS,
    CURSOR_STEPS,
    EXPORT_STEPS,
    PAGE_STEPS,
    build_search_body,
    compose,
    count_only_step,
    filtered_query_step,
    paging_step,
    plan_search,
    post_filter_step,
    text_query,
    text_query_step,
)
from registry.taxonomy import Taxonomy

TAXONOMY = Taxonomy.from_file(Path(__file__).resolve().parents[3] / "data" / "taxonomy.json")

WITH_WORDS = SearchRequest(
    q="leesbevordering jongeren",
    filters={"phase": ("idee", "experiment"), "community": ("basisvaardigheden",)},
    sort="title",
    page=3,
    size=7,
)
PLAIN = SearchRequest()


def test_a_page_has_every_part_of_a_result_list():
    body = compose(plan_search(WITH_WORDS, TAXONOMY), PAGE_STEPS)
    assert set(body) == {
        "query", "aggs", "sort", "from", "size", "track_total_hits", "_source",
        "post_filter", "highlight", "track_scores", "suggest",
    }  # fmt: skip
    assert (body["from"], body["size"]) == (14, 7)
    assert body["_source"] == list(hit_source("public"))
    assert body["sort"][0] == {"title_sort": "asc"}
    assert set(body["aggs"]) == set(FACETS_BY_NAME)
    assert body["suggest"]["text"] == "leesbevordering jongeren"


def test_without_words_a_page_has_no_highlight_scores_or_spelling():
    body = compose(plan_search(PLAIN, TAXONOMY), PAGE_STEPS)
    assert body["query"] == {"match_all": {}}
    assert not {"highlight", "track_scores", "suggest", "post_filter"} & set(body)
    assert body["sort"][0] == {"created": {"order": "desc", "missing": "_last"}}


def test_the_plan_resolves_a_merged_community_once_for_every_step():
    plan = plan_search(WITH_WORDS, TAXONOMY)
    assert plan.resolved.renamed == [("basisvaardigheden", ["participatie-zelfredzaamheid"])]
    clauses = post_filter_step(plan)["post_filter"]["bool"]["filter"]
    assert {"terms": {"communities": ["participatie-zelfredzaamheid"]}} in clauses
    assert {"terms": {"phase": ["idee", "experiment"]}} in clauses


def test_a_cursor_page_has_no_offset_and_no_spelling():
    page = compose(plan_search(WITH_WORDS, TAXONOMY), PAGE_STEPS)
    cursor = compose(plan_search(WITH_WORDS, TAXONOMY), CURSOR_STEPS)
    assert "from" not in cursor and "suggest" not in cursor
    assert cursor["size"] == WITH_WORDS.size
    assert {k: v for k, v in page.items() if k not in ("from", "suggest")} == cursor


def test_a_corrected_page_is_the_page_without_spelling():
    plan = plan_search(WITH_WORDS, TAXONOMY)
    page = compose(plan, PAGE_STEPS)
    corrected = compose(plan, CORRECTED_PAGE_STEPS)
    assert "suggest" not in corrected
    assert {k: v for k, v in page.items() if k != "suggest"} == corrected


def test_an_export_filters_in_the_query_and_counts_nothing():
    plan = plan_search(WITH_WORDS, TAXONOMY)
    body = compose(plan, EXPORT_STEPS)
    assert set(body) == {"query", "sort", "size", "track_total_hits", "_source"}
    assert body["query"]["bool"]["must"] == [text_query_step(plan)["query"]]
    assert (
        body["query"]["bool"]["filter"] == post_filter_step(plan)["post_filter"]["bool"]["filter"]
    )


def test_a_filtered_query_without_filters_is_the_text_query():
    plan = plan_search(SearchRequest(q="makerspace"), TAXONOMY)
    assert filtered_query_step(plan) == text_query_step(plan)


def test_a_count_asks_for_no_hits_and_the_exact_total():
    body = compose(plan_search(WITH_WORDS, TAXONOMY), COUNT_STEPS)
    assert set(body) == {"query", "post_filter", "size", "track_total_hits"}
    assert body["size"] == 0 and body["track_total_hits"] is True


def test_a_later_step_replaces_an_earlier_steps_key():
    plan = plan_search(WITH_WORDS, TAXONOMY)
    assert compose(plan, (paging_step, count_only_step))["size"] == 0
    assert compose(plan, (count_only_step, paging_step))["size"] == 7


def test_members_search_their_own_fields():
    public = text_query_step(plan_search(WITH_WORDS, TAXONOMY, "public"))["query"]
    members = text_query_step(plan_search(WITH_WORDS, TAXONOMY, "members"))["query"]
    assert "lessons_learned" not in str(public)
    assert "lessons_learned" in str(members)


@pytest.mark.parametrize("request_", [WITH_WORDS, PLAIN])
def test_build_search_body_is_the_page_composition(request_):
    body, resolved = build_search_body(request_, TAXONOMY)
    plan = plan_search(request_, TAXONOMY)
    assert body == compose(plan, PAGE_STEPS)
    assert resolved == plan.resolved
    assert body["query"] == text_query(request_.q)


def test_compose_returns_a_new_body_each_time():
    plan = plan_search(WITH_WORDS, TAXONOMY)
    first = compose(plan, PAGE_STEPS)
    first["size"] = 999
    assert compose(plan, PAGE_STEPS)["size"] == 7

"""Parsing and rebuilding search URLs without a server: limits, codes, facets."""

from __future__ import annotations

from pathlib import Path

import pytest
from werkzeug.datastructures import MultiDict

from portal.search.facets import FACETS, FACETS_BY_NAME
from portal.search.params import (
    DEFAULT_SIZE,
    MAX_Q_LENGTH,
    MAX_RESULT_WINDOW,
    MAX_SIZE,
    SORTS,
    SearchParamError,
    parse_search_args,
)
from portal.search.query import sort_clause
from registry.taxonomy import Taxonomy

TAXONOMY = Taxonomy.from_file(Path(__file__).resolve().parents[3] / "data" / "taxonomy.json")


def parse(**args):
    pairs = [(k, v) for k, values in args.items() for v in (values if isinstance(values, list)
             else [values])]  # fmt: skip
    return parse_search_args(MultiDict(pairs), TAXONOMY)


def error(**args) -> SearchParamError:
    with pytest.raises(SearchParamError) as caught:
        parse(**args)
    return caught.value


def test_no_parameters_are_the_defaults():
    request = parse()
    assert (request.q, request.filters, request.page, request.size) == ("", {}, 1, DEFAULT_SIZE)
    assert request.effective_sort == "newest"
    assert parse(q="lezen").effective_sort == "relevance"


@pytest.mark.parametrize(
    ("args", "code", "field"),
    [
        ({"sort": "random"}, "invalid_sort", "sort"),
        ({"sort": ""}, "invalid_sort", "sort"),
        ({"page": "0"}, "invalid_page", "page"),
        ({"page": "x"}, "invalid_page", "page"),
        ({"size": str(MAX_SIZE + 1)}, "invalid_size", "size"),
        ({"size": "0"}, "invalid_size", "size"),
        ({"evidence_min": "9"}, "invalid_evidence_min", "evidence_min"),
        ({"lang": "de"}, "invalid_lang", "lang"),
        ({"q": "a" * (MAX_Q_LENGTH + 1)}, "q_too_long", "q"),
        ({"q": "lezen\x00"}, "invalid_q", "q"),
        ({"phase": "bestaat-niet"}, "unknown_value", "phase"),
        ({"phase": ""}, "unknown_value", "phase"),
        ({"page": str(MAX_RESULT_WINDOW // DEFAULT_SIZE + 1)}, "page_out_of_range", "page"),
    ],
)
def test_bad_parameters_name_their_code_and_field(args, code, field):
    caught = error(**args)
    assert (caught.code, caught.field) == (code, field)
    assert caught.code in SearchParamError.codes


def test_the_longest_q_and_the_last_page_in_the_window_are_accepted():
    assert parse(q="a" * MAX_Q_LENGTH).q == "a" * MAX_Q_LENGTH
    last = MAX_RESULT_WINDOW // DEFAULT_SIZE
    assert parse(page=str(last)).offset == MAX_RESULT_WINDOW - DEFAULT_SIZE


def test_empty_q_and_empty_level_mean_everything():
    request = parse(q="", evidence_min="")
    assert request.q == "" and request.filters == {}


def test_facet_values_keep_their_order_once_and_map_to_facet_names():
    request = parse(phase=["experiment", "idee", "experiment"], evidence_min="2")
    assert request.filters == {"phase": ("experiment", "idee"), "evidence": ("2",)}


def test_a_historical_community_id_is_accepted():
    assert parse(community="basisvaardigheden").filters == {"community": ("basisvaardigheden",)}


def test_the_url_round_trips():
    request = parse(q="lezen", phase=["idee"], evidence_min="3", sort="title", size="50",
                    page="2", lang="en", correct="0")  # fmt: skip
    again = parse_search_args(MultiDict(request.to_args()), TAXONOMY)
    assert again == request


def test_toggling_a_value_adds_removes_and_replaces_a_level():
    phase, evidence = FACETS_BY_NAME["phase"], FACETS_BY_NAME["evidence"]
    request = parse(phase="idee", evidence_min="1", page="3")
    assert request.toggled(phase, "experiment").selected(phase) == ("idee", "experiment")
    assert request.toggled(phase, "idee").selected(phase) == ()
    assert request.toggled(evidence, "4").selected(evidence) == ("4",)
    assert request.toggled(phase, "experiment").page == 1


@pytest.mark.parametrize("sort", SORTS)
def test_every_sort_ends_with_the_id_tie_break(sort):
    clause = sort_clause(sort)
    assert clause[-1] == {"id": "asc"}


def test_sort_clauses_follow_the_declared_orders():
    assert sort_clause("relevance")[0] == "_score"
    assert sort_clause("newest")[0] == {"created": {"order": "desc", "missing": "_last"}}
    assert sort_clause("title")[0] == {"title_sort": "asc"}
    assert sort_clause("evidence")[:2] == [
        {"evidence_level": {"order": "desc", "missing": "_last"}},
        "_score",
    ]


def test_every_facet_has_a_url_parameter_the_parser_reads():
    for facet in FACETS:
        if facet.at_least:
            continue
        value = TAXONOMY.terms(facet.vocabulary)[0].id if facet.vocabulary else "x"
        assert parse(**{facet.url_param: value}).filters == {facet.name: (value,)}

"""The text query without a server: its shape and its clause budget."""

from __future__ import annotations

import json

import pytest

from portal.search.query import (
    ALL_CONCEPTS_BOOST,
    CLAUSE_BUDGET,
    SYNTAX_FIELDS,
    TEXT_FIELDS,
    text_query,
)
from portal.search.synonyms import SynonymIndex
from registry.text import words

SYNONYMS = SynonymIndex(
    [{"kind": "equivalent", "broader": None, "terms": [f"woord{i}", f"term{i} met meer woorden"]}
     for i in range(40)]
)  # fmt: skip


def term_clauses(query) -> int:
    """Term clauses the query expands to, counted as the budget counts them: one per
    word and field of every multi_match and simple_query_string."""
    if isinstance(query, dict):
        for key in ("multi_match", "simple_query_string"):
            if key in query:
                return len(query[key]["fields"]) * max(1, len(words(query[key]["query"])))
        return sum(term_clauses(value) for value in query.values())
    if isinstance(query, list):
        return sum(term_clauses(item) for item in query)
    return 0


def test_an_empty_query_matches_everything():
    assert text_query("  ") == {"match_all": {}}
    assert text_query('"') == {"match_all": {}}


def test_one_concept_has_no_bonus_and_several_have_one():
    single = text_query("lezen ")
    assert "should" not in single["bool"]
    double = text_query("lezen kinderen ")
    bonus = double["bool"]["should"][0]["constant_score"]
    assert bonus["boost"] == ALL_CONCEPTS_BOOST
    assert double["bool"]["must"][0]["bool"]["minimum_should_match"] == 1


def test_phrases_and_exclusions_search_the_records_own_fields():
    query = text_query('"digitale inclusie" -jongeren lezen')
    phrase = query["bool"]["must"][1]["simple_query_string"]
    assert phrase["query"] == '"digitale inclusie"' and phrase["fields"] == list(SYNTAX_FIELDS)
    assert query["bool"]["must_not"][0]["simple_query_string"]["query"] == "jongeren"


@pytest.mark.parametrize(
    "q",
    [
        " ".join(f"woord{i}" for i in range(40)),
        '"' + " ".join(["bibliotheek"] * 80) + '"',
        " ".join(f"-uit{i}" for i in range(60)),
        " ".join(f"w{i}" for i in range(100)),
    ],
)
def test_the_longest_queries_stay_within_the_clause_budget(q):
    query = text_query(q[:500], TEXT_FIELDS, SYNONYMS)
    assert term_clauses(query) <= CLAUSE_BUDGET
    json.dumps(query)


def test_expansions_go_to_the_first_concepts_first():
    typed = " ".join(f"woord{i}" for i in range(12)) + " "  # no word being typed
    query = text_query(typed, TEXT_FIELDS, SYNONYMS)
    clauses = query["bool"]["must"][0]["bool"]["should"]
    assert "bool" in clauses[0]  # the first word kept its synonym
    assert "multi_match" in clauses[-1]  # the last one had to do without

"""Query analysis without a server: parsing, concepts, decompounding, requirements."""

from __future__ import annotations

import pytest

from portal.search.analysis import (
    Decompounder,
    concepts,
    default_decompounder,
    parse_query,
    required_matches,
)
from portal.search.synonyms import SynonymIndex

SYNONYMS = SynonymIndex(
    [
        {"kind": "equivalent", "broader": None, "terms": ["senioren", "ouderen", "elderly"]},
        {"kind": "equivalent", "broader": None, "terms": ["library without staff", "open+"]},
        {"kind": "broader", "broader": "leesbevordering", "terms": ["voorlezen", "leesclub"]},
    ]
)


def test_phrases_exclusions_and_free_words():
    parsed = parse_query('cursus "digitale inclusie" -jongeren -"open dag" senioren')
    assert parsed.words == ("cursus", "senioren")
    assert parsed.phrases == ('"digitale inclusie"',)
    assert parsed.excluded == ("jongeren", '"open dag"')
    assert parsed.prefix == "senioren"


@pytest.mark.parametrize("q", ['"', '""', "  ", "()", "-", "- -", ":/"])
def test_stray_syntax_alone_is_an_empty_query(q):
    assert parse_query(q).empty


@pytest.mark.parametrize(
    "q, words", [('"unbalanced', ("unbalanced",)), ("a:b", ("a", "b")), ("path/to", ("path", "to"))]
)
def test_stray_syntax_is_text(q, words):
    assert parse_query(q).words == words


@pytest.mark.parametrize(
    "q, prefix",
    [("leesbev", "leesbev"), ("leesbev ", None), ("x -leesbev", None), ('"lees bev', None),
     ("a", None), ("lezen ki", "ki")],
)  # fmt: skip
def test_only_the_word_being_typed_is_a_prefix(q, prefix):
    assert parse_query(q).prefix == prefix


def test_unicode_forms_and_invisible_characters_fold_to_one_word():
    nfd = "coo\u0308peratie"  # o + combining diaeresis, as macOS pastes it
    assert parse_query(nfd).words == parse_query("coöperatie").words == ("cooperatie",)
    assert parse_query("biblio\u00adtheek\u200b").words == ("bibliotheek",)
    assert parse_query("ﬁetsen").words == ("fietsen",)  # NFKC: the ligature is two letters


def test_stopwords_are_no_concepts_unless_nothing_else_is_typed():
    found = concepts(parse_query("cursus voor de senioren "), SynonymIndex())
    assert [c.text for c in found] == ["cursus", "senioren"]
    assert [c.text for c in concepts(parse_query("de het "), SynonymIndex())] == ["de", "het"]


def test_a_thesaurus_term_of_several_words_is_one_concept_with_alternatives():
    found = concepts(parse_query("library without staff "), SYNONYMS)
    assert len(found) == 1
    assert found[0].text == "library without staff" and found[0].synonyms == ("open+",)
    assert found[0].is_phrase


def test_broader_terms_expand_one_way_only():
    assert concepts(parse_query("leesbevordering "), SYNONYMS)[0].synonyms == (
        "voorlezen",
        "leesclub",
    )
    assert concepts(parse_query("voorlezen "), SYNONYMS)[0].synonyms == ()


def test_the_last_word_keeps_its_prefix_flag():
    found = concepts(parse_query("cursus seni"), SynonymIndex())
    assert [c.prefix for c in found] == [False, True]


KNOWN = frozenset({"bibliotheek", "abonnement", "vereniging", "leven", "taal", "cafe", "voorlezen"})


@pytest.mark.parametrize(
    "word, parts",
    [
        ("bibliotheekabonnement", ("bibliotheek", "abonnement")),
        ("verenigingsleven", ("vereniging", "leven")),  # linking s
        ("taalcafe", ("taal", "cafe")),
        ("voorlezen", ()),  # a known word is no compound
        ("bibliotheekx", ()),  # not covered by known parts
        ("taal", ()),  # too short to be two parts
        ("bibliotheek2025", ()),
    ],
)
def test_decompounder_splits_only_fully_covered_compounds(word, parts):
    assert Decompounder(KNOWN).split(word) == parts


def test_decompounder_prefers_fewest_then_longest_parts():
    known = frozenset({"maker", "makers", "space", "pace"})
    assert Decompounder(known).split("makerspace") == ("maker", "space")


def test_the_shipped_word_list_splits_common_library_compounds():
    split = default_decompounder().split
    assert split("bibliotheekabonnement") == ("bibliotheek", "abonnement")
    assert split("computercursus") == ("computer", "cursus")


@pytest.mark.parametrize(
    "count, required", [(0, 1), (1, 1), (2, 1), (3, 2), (4, 2), (5, 3), (8, 4)]
)
def test_required_matches_grow_with_the_concepts(count, required):
    assert required_matches(count) == required

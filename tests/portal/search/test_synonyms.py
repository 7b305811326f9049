"""The synonym index without a server."""

from __future__ import annotations

from portal.search.synonyms import EMPTY, SynonymIndex

SETS = [
    {"kind": "equivalent", "broader": None, "terms": ["taalcafé", "language café", "praatcafé"]},
    {"kind": "equivalent", "broader": None, "terms": ["digitale vaardigheden", "digital skills"]},
    {"kind": "equivalent", "broader": None, "terms": ["digitaal", "digital"]},
    {"kind": "broader", "broader": "jeugd", "terms": ["kinderen", "jongeren"]},
]


def test_equivalent_terms_find_each_other_after_folding():
    index = SynonymIndex(SETS)
    assert index.alternatives("Taalcafe") == ("language café", "praatcafé")
    assert index.alternatives("language cafe") == ("taalcafé", "praatcafé")


def test_broader_expands_to_narrower_not_back():
    index = SynonymIndex(SETS)
    assert index.alternatives("jeugd") == ("kinderen", "jongeren")
    assert index.alternatives("kinderen") == ()


def test_match_takes_the_longest_term_first_without_overlap():
    index = SynonymIndex(SETS)
    found = index.match(("nieuwe", "digital", "skills", "digitaal"))
    assert [(m.start, m.end, m.alternatives) for m in found] == [
        (1, 3, ("digitale vaardigheden",)),
        (3, 4, ("digital",)),
    ]


def test_empty_index_matches_nothing():
    assert EMPTY.match(("digital", "skills")) == []
    assert len(EMPTY) == 0 and EMPTY.longest == 0

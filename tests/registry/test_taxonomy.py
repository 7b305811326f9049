"""Taxonomy resolution (pure): historical community ids resolve to current ones."""

from __future__ import annotations

import json

import pytest

from registry.taxonomy import Taxonomy, UnknownTerm
from tests.conftest import TAXONOMY_FILE


@pytest.fixture(scope="module")
def taxonomy():
    return Taxonomy.from_file(TAXONOMY_FILE)


def test_seed_history_resolves(taxonomy):
    assert taxonomy.resolve_community("basisvaardigheden") == ["participatie-zelfredzaamheid"]
    assert taxonomy.resolve_community("maatschappelijke-deelname") == [
        "participatie-zelfredzaamheid"
    ]
    assert taxonomy.resolve_community("community-en-connectie") == ["community-librarian-netwerk"]
    assert taxonomy.resolve_community("technologie-en-makers") == ["werkplaats"]
    assert taxonomy.resolve_community("werkplaats") == ["werkplaats"]


def test_chains_and_splits_and_retire():
    doc = {
        "communities": [
            {"id": "a", "nl": "A", "en": "A", "status": "merged", "merged_into": "b"},
            {"id": "b", "nl": "B", "en": "B", "status": "renamed", "renamed_to": "c"},
            {"id": "c", "nl": "C", "en": "C", "status": "split", "split_into": ["d", "e"]},
            {"id": "d", "nl": "D", "en": "D", "status": "active"},
            {"id": "e", "nl": "E", "en": "E", "status": "active"},
            {"id": "x", "nl": "X", "en": "X", "status": "retired"},
        ]
    }
    taxonomy = Taxonomy.from_document(doc)
    assert taxonomy.resolve_community("a") == ["d", "e"]
    assert taxonomy.resolve_community("x") == []
    assert taxonomy.resolve_communities(["a", "d", "x"]) == ["d", "e"]
    with pytest.raises(UnknownTerm):
        taxonomy.resolve_community("zzz")


def test_labels_in_both_languages(taxonomy):
    assert taxonomy.label("phases", "beschikbaar", "nl", short=True) == "Breed beschikbaar"
    assert taxonomy.label("phases", "beschikbaar", "en", short=True) == "Broadly available"
    assert taxonomy.label("evidence_levels", "0", "en") == "No information on results yet"
    history = json.loads(TAXONOMY_FILE.read_text("utf-8"))["history"]
    assert taxonomy.revision == len(history) > 0

"""Pure rules of index documents, without a server: visibility per audience, member
fields, the external version, the title sort key and the content hash."""

from __future__ import annotations

import pytest

from indexer.documents import (
    TAXONOMY_REVISION_BITS,
    build_document,
    content_hash,
    document_version,
    title_sort_key,
)
from registry.records import MEMBER_FIELDS
from registry.taxonomy import Taxonomy

from ..conftest import TAXONOMY_FILE, read_data

TAXONOMY = Taxonomy.from_file(TAXONOMY_FILE)
EDITOR_ONLY = "internal_notes"


def record_with(status: str) -> dict:
    """A record of the data file with ``status``, member fields and an editor's note."""
    base = next(r for r in read_data() if r["status"] == "published")
    return dict(
        base,
        status=status,
        version=3,
        contact={"name": "Anna", "email": "anna@bieb.example", "phone": "030"},
        budget_eur=1200,
        lessons_learned="Begin klein.",
        internal_notes="alleen voor de redactie",
    )


@pytest.mark.parametrize(
    ("status", "public", "members"),
    [
        ("published", True, True),
        ("archived", False, True),
        ("in_review", False, False),
        ("draft", False, False),
    ],
)
def test_a_document_exists_only_for_the_statuses_its_audience_may_see(status, public, members):
    record = record_with(status)
    assert (build_document(record, TAXONOMY, "public") is not None) is public
    assert (build_document(record, TAXONOMY, "members") is not None) is members


def test_member_fields_only_in_the_members_document_and_editor_notes_in_none():
    record = record_with("published")
    public = build_document(record, TAXONOMY, "public")
    members = build_document(record, TAXONOMY, "members")
    assert MEMBER_FIELDS and not set(MEMBER_FIELDS) & set(public)
    assert {name: members[name] for name in MEMBER_FIELDS} == {
        name: record[name] for name in MEMBER_FIELDS
    }
    assert EDITOR_ONLY not in public and EDITOR_ONLY not in members
    assert "alleen voor de redactie" not in repr(public) + repr(members)


def test_historical_communities_resolve_and_the_source_ids_stay():
    merged = next(t for t in TAXONOMY.terms("communities") if t.attributes.get("merged_into"))
    record = dict(record_with("published"), communities=[merged.id])
    doc = build_document(record, TAXONOMY, "public")
    assert doc["communities_source"] == [merged.id]
    assert doc["communities"] == [merged.attributes["merged_into"]]


def test_the_version_orders_by_record_version_first_then_taxonomy_revision():
    top = 2**TAXONOMY_REVISION_BITS - 1
    assert document_version(1, top) < document_version(2, 0)
    assert document_version(2, 0) < document_version(2, 1)
    assert document_version(5, 7) >> TAXONOMY_REVISION_BITS == 5
    assert document_version(5, 7) & top == 7
    for bad in (-1, top + 1):
        with pytest.raises(ValueError):
            document_version(1, bad)


@pytest.mark.parametrize(
    ("title", "key"),
    [
        ("'s-Hertogenbosch leest", "Hertogenbosch leest"),
        ("'t Leescafé", "Leescafé"),
        ("’s Avonds voorlezen", "Avonds voorlezen"),
        ('"Boekstart" op het consultatiebureau', 'Boekstart" op het consultatiebureau'),
        ("(Digi)taalhuis", "Digi)taalhuis"),
        ("IJsbreker", "IJsbreker"),
        ("Tsunami van verhalen", "Tsunami van verhalen"),
    ],
)
def test_title_sort_key_drops_elided_articles_and_leading_punctuation(title, key):
    assert title_sort_key(title) == key


def test_content_hash_ignores_key_order_and_its_own_field():
    doc = {"id": "a", "title": "Eén", "tags": ["x", "y"]}
    same = {"tags": ["x", "y"], "title": "Eén", "id": "a", "content_hash": "oud"}
    assert content_hash(doc) == content_hash(same)
    assert content_hash(doc) != content_hash({**doc, "title": "Een"})
    assert len(content_hash(doc)) == 64 and int(content_hash(doc), 16) >= 0


def test_the_stored_hash_is_the_hash_of_the_document():
    doc = build_document(record_with("published"), TAXONOMY, "members")
    assert doc["content_hash"] == content_hash(doc)

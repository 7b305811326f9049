"""The hit declaration without a server: the ``_source`` list, the shaper and the
API schema all come from :data:`portal.search.hits.HIT_FIELDS`."""

from __future__ import annotations

import pytest

from portal import schemas
from portal.search import hits
from portal.search.facets import FACETS_BY_NAME
from portal.search.hits import HIT_FIELDS, HitField, hit_schema, hit_source, shape_hit

CONTRACT_HIT_KEYS = [
    "id", "title", "summary", "priorities", "communities", "phase", "type",
    "target_groups", "evidence_level", "province", "organisation", "url", "created",
    "highlight",
]  # fmt: skip
"""A hit's keys in order as the API has always answered (DESIGN's list plus
``created``), written out here so a change to the declaration shows."""

SOURCE = {
    "id": "leesclub", "title": "Leesclub", "summary": "Samen lezen.",
    "priorities": ["leesbevordering"], "communities": ["lezen"], "phase": "experiment",
    "innovation_type": "dienstverlening", "target_groups": ["jeugd"], "evidence_level": 2,
    "province": "utrecht", "organisation": "Bibliotheek X", "url": "https://example.org",
    "created": "2026-01-02", "description": "not in a hit", "lessons_learned": "members",
}  # fmt: skip


def test_the_source_list_is_the_declared_record_fields():
    assert hit_source("public") == tuple(f.name for f in HIT_FIELDS)
    assert "innovation_type" in hit_source() and "type" not in hit_source()
    assert hit_source("members") == hit_source("public")  # no member-only field today


def test_a_hit_has_the_contract_keys_in_order():
    hit = shape_hit({"_source": SOURCE, "highlight": {"title": ["<mark>Lees</mark>club"]}})
    assert list(hit) == CONTRACT_HIT_KEYS
    assert hit["type"] == "dienstverlening"
    assert hit["highlight"] == {"title": ["<mark>Lees</mark>club"]}
    assert "description" not in hit and "lessons_learned" not in hit


def test_missing_optional_fields_are_empty_lists_or_none():
    hit = shape_hit({"_source": {"id": "a", "title": "T", "summary": "S"}})
    assert hit["priorities"] == [] and hit["target_groups"] == []
    assert hit["phase"] is None and hit["evidence_level"] is None and hit["url"] is None
    assert hit["highlight"] == {}
    with pytest.raises(KeyError):
        shape_hit({"_source": {"id": "a", "title": "T"}})


def test_the_api_schema_has_the_shapers_keys_and_reproduces_a_hit():
    hit = shape_hit({"_source": SOURCE})
    schema = hit_schema("public")
    assert list(schema().fields) == list(hit)
    assert list(schemas.SearchHitView().fields) == list(hit)
    assert schema().dump(hit) == hit


def test_every_labelled_field_names_a_facet_over_that_field():
    for declared in HIT_FIELDS:
        if declared.facet:
            assert FACETS_BY_NAME[declared.facet].field == declared.name


def test_a_member_only_field_reaches_members_only(monkeypatch):
    extra = HitField("lessons_learned", member_only=True, nullable=True)
    monkeypatch.setattr(hits, "HIT_FIELDS", (*HIT_FIELDS, extra))
    for cached in (hit_source, hits._plan, hit_schema):
        cached.cache_clear()
    try:
        assert "lessons_learned" not in hit_source("public")
        assert hit_source("members")[-1] == "lessons_learned"
        assert "lessons_learned" not in shape_hit({"_source": SOURCE}, "public")
        member_hit = shape_hit({"_source": SOURCE}, "members")
        assert member_hit["lessons_learned"] == "members"
        assert list(hit_schema("members")().fields) == list(member_hit)
    finally:
        monkeypatch.undo()
        for cached in (hit_source, hits._plan, hit_schema):
            cached.cache_clear()
    with pytest.raises(ValueError):
        hit_source("editors")


def test_a_required_field_after_an_optional_one_is_refused(monkeypatch):
    monkeypatch.setattr(hits, "HIT_FIELDS", (HitField("url"), HitField("id", required=True)))
    hits._plan.cache_clear()
    try:
        with pytest.raises(ValueError):
            shape_hit({"_source": {"id": "a"}})
    finally:
        monkeypatch.undo()
        hits._plan.cache_clear()

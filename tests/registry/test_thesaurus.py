"""The thesaurus in a real (SQLite) registry: validation, history, undo, import."""

from __future__ import annotations

import json

import pytest

from registry import thesaurus
from registry.db import transaction
from registry.thesaurus import ThesaurusError, validate_set

from ..conftest import ROOT


def _sets(factory) -> list[dict]:
    with factory() as session:
        return thesaurus.list_sets(session)


def test_the_seed_holds_every_set_of_the_data_file(registry):
    _url, factory = registry
    seed = json.loads((ROOT / "data" / "thesaurus.json").read_text(encoding="utf-8"))["sets"]
    assert len(seed) >= 60
    stored = _sets(factory)
    assert len(stored) == len(seed)
    first = seed[0]
    assert stored[0]["kind"] == first["kind"]
    assert set(first.get("terms") or first.get("narrower")) >= set(stored[0]["terms"])


@pytest.mark.parametrize(
    "kind, terms, broader, code",
    [
        ("equivalent", ["fietsen", " "], None, "empty_term"),
        ("equivalent", ["fietsen", "x" * 61], None, "term_too_long"),
        ("equivalent", ["fietsen", "de het"], None, "no_words"),
        ("equivalent", ["fietsen", "!!"], None, "no_words"),
        ("equivalent", ["fietsen"], None, "too_few_terms"),
        ("equivalent", ["fietsen", "Fietsen"], None, "too_few_terms"),
        ("equivalent", [f"woord{i}" for i in range(21)], None, "too_many_terms"),
        ("broader", [], "sport", "too_few_terms"),
        ("broader", ["sport", "voetbal"], "sport", "duplicate_term"),
        ("synonym", ["a1", "b1"], None, "invalid_kind"),
        ("equivalent", "fietsen", None, "too_few_terms"),
    ],
)
def test_bad_sets_are_refused_with_a_code(kind, terms, broader, code):
    with pytest.raises(ThesaurusError) as caught:
        validate_set(kind, terms, broader)
    assert caught.value.code == code


def test_terms_are_cleaned_and_folded_duplicates_dropped():
    spec = validate_set("equivalent", ["  Taal  Café ", "taal cafe", "Praatcafé"])
    assert spec.terms == ("taal café", "praatcafé")


def test_add_remove_undo_keep_a_history(registry):
    _url, factory = registry
    before = _sets(factory)
    with transaction(factory) as session:
        added = thesaurus.add_set(session, validate_set("equivalent", ["fietsen", "cycling"]), "t1")
    assert _sets(factory) == before + [added]
    with transaction(factory) as session:
        thesaurus.remove_set(session, added["id"], "t2")
    assert _sets(factory) == before
    with transaction(factory) as session:
        event = thesaurus.undo(session, "t3")
        assert event.op == "undo"
    assert _sets(factory) == before + [added]  # the removal is undone, with the same id
    with factory() as session:
        history = thesaurus.history(session, 3)
    assert [(e.op, e.actor) for e in history] == [("undo", "t3"), ("remove", "t2"), ("add", "t1")]
    assert history[1].undone_by == history[0].seq


def test_removing_a_missing_set_and_undoing_nothing_are_errors(registry):
    _url, factory = registry
    with transaction(factory) as session, pytest.raises(ThesaurusError) as caught:
        thesaurus.remove_set(session, 999_999, "t")
    assert caught.value.code == "not_found"
    with transaction(factory) as session:
        for _ in range(thesaurus.revision(session)):
            if thesaurus.last_undoable(session) is None:
                break
            thesaurus.undo(session, "t")
    with transaction(factory) as session, pytest.raises(ThesaurusError) as caught:
        thesaurus.undo(session, "t")
    assert caught.value.code == "nothing_to_undo"


def test_an_import_with_one_bad_set_changes_nothing(registry):
    _url, factory = registry
    before = _sets(factory)
    doc = {"sets": [{"kind": "equivalent", "terms": ["fietsen", "cycling"]},
                    {"kind": "equivalent", "terms": ["alleen"]}]}  # fmt: skip
    with pytest.raises(ThesaurusError) as caught:
        thesaurus.parse_document(doc)
    assert caught.value.where == "set 2" and caught.value.code == "too_few_terms"
    assert _sets(factory) == before


def test_export_then_import_with_replace_round_trips(registry):
    _url, factory = registry
    with factory() as session:
        exported = thesaurus.export_sets(session)
    with transaction(factory) as session:
        specs = thesaurus.parse_document(exported)
        assert thesaurus.import_sets(session, specs, "t", replace=True) == len(exported["sets"])
    with factory() as session:
        assert thesaurus.export_sets(session)["sets"] == exported["sets"]
    with transaction(factory) as session:
        assert thesaurus.import_sets(session, specs, "t") == 0  # present sets are skipped

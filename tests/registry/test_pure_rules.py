"""Pure rules of the registry, without a database: the verification cycle, e-mail
addresses, text normalisation and the planning of community operations."""

from __future__ import annotations

import datetime as dt
import json
import unicodedata

import pytest

from registry.editorial import cycle_of, verification_cutoff
from registry.taxonomy import Taxonomy
from registry.taxonomy_ops import Operation, TaxonomyError, planned_terms, suggest_parts
from registry.text import fold, normalize, words
from registry.users import UserError, normalise_email

from ..conftest import TAXONOMY_FILE

# -- verification: six calendar months --------------------------------------------


@pytest.mark.parametrize(
    ("today", "cutoff"),
    [
        ("2026-08-31", "2026-02-28"),  # no 31 February: the month's last day
        ("2024-08-31", "2024-02-29"),  # leap year
        ("2026-03-15", "2025-09-15"),  # across the year
        ("2026-12-01", "2026-06-01"),
    ],
)
def test_verification_is_overdue_after_six_calendar_months(today, cutoff):
    assert verification_cutoff(dt.date.fromisoformat(today)) == dt.date.fromisoformat(cutoff)


def test_six_calendar_months_are_not_a_fixed_number_of_days():
    spans = {
        (day - verification_cutoff(day)).days
        for day in (dt.date(2026, 8, 31), dt.date(2026, 3, 1), dt.date(2026, 12, 1))
    }
    assert len(spans) > 1


def test_the_verification_cycle_is_a_half_year():
    assert cycle_of(dt.date(2026, 6, 30)) == "2026-H1"
    assert cycle_of(dt.date(2026, 7, 1)) == "2026-H2"


# -- e-mail addresses -----------------------------------------------------------------


def test_an_address_is_trimmed_and_lower_cased():
    assert normalise_email("  Redactie@Bieb.Example ") == "redactie@bieb.example"


@pytest.mark.parametrize(
    "bad", ["", "geen-adres", "a@b", "@bieb.example", "lid@", "twee@@bieb.example", "a b@x.nl"]
)
def test_what_is_not_an_address_is_refused(bad):
    with pytest.raises(UserError, match="not an e-mail address"):
        normalise_email(bad)


def test_an_overlong_address_is_refused():
    with pytest.raises(UserError):
        normalise_email("a" * 300 + "@" + "b" * 30 + ".nl")


# -- text normalisation -------------------------------------------------------------


def test_normalize_composes_and_drops_invisible_characters():
    decomposed = unicodedata.normalize("NFD", "ideeën")
    assert decomposed != "ideeën"
    assert normalize(decomposed) == "ideeën"
    assert normalize("biblio\u00adtheek\u200b") == "bibliotheek"
    assert normalize("\ufb01ets") == "fiets"  # the fi ligature


def test_fold_and_words_see_what_the_index_sees():
    assert fold("Ideeën") == "ideeen"
    found = words("Open+ en 's-Hertogenbosch, café!")
    assert found == ["open+", "en", "s", "hertogenbosch", "cafe"]


# -- planning community operations (no database) -----------------------------------

TAXONOMY = Taxonomy.from_file(TAXONOMY_FILE)
ACTIVE = [
    t.id for t in TAXONOMY.terms("communities") if t.attributes.get("status", "active") == "active"
]


def test_the_data_has_enough_active_communities_for_these_tests():
    raw = json.loads(TAXONOMY_FILE.read_text("utf-8"))["communities"]
    assert len(ACTIVE) == sum(c.get("status", "active") == "active" for c in raw) >= 3


def test_a_merge_plans_one_new_term_and_retires_the_sources():
    a, b = ACTIVE[:2]
    planned = planned_terms(TAXONOMY, Operation("merge", [a, b], "samen", labels={"nl": "Samen"}))
    assert set(planned) == {a, b, "samen"}
    assert planned["samen"].labels["nl"] == "Samen"
    assert planned["samen"].attributes["status"] == "active"
    for source in (a, b):
        assert planned[source].attributes["status"] == "merged"
        assert planned[source].attributes["merged_into"] == "samen"


def test_a_rename_without_a_new_id_only_changes_the_label():
    a = ACTIVE[0]
    planned = planned_terms(TAXONOMY, Operation("rename", [a], labels={"en": "New label"}))
    assert list(planned) == [a]
    assert planned[a].labels["en"] == "New label"
    assert planned[a].labels["nl"] == TAXONOMY.get("communities", a).labels["nl"]


def test_a_split_keeps_assignments_and_refuses_parts_outside_it():
    a = ACTIVE[0]
    labels = {"deel-a": {"nl": "Deel A"}, "deel-b": {"nl": "Deel B"}}
    op = Operation(
        "split", [a], parts=["deel-a", "deel-b"], labels=labels, assignments={"r1": ["deel-b"]}
    )
    planned = planned_terms(TAXONOMY, op)
    assert planned[a].attributes["split_into"] == ["deel-a", "deel-b"]
    assert planned["deel-b"].labels["nl"] == "Deel B"
    assert planned[a].attributes["assignments"] == {"r1": ["deel-b"]}
    op.assignments = {"r1": ["elders"]}
    with pytest.raises(TaxonomyError, match="outside the split"):
        planned_terms(TAXONOMY, op)


@pytest.mark.parametrize(
    ("op", "message"),
    [
        (Operation("merge", [ACTIVE[0]], "x"), "two or more"),
        (Operation("rename", [ACTIVE[0]], "Hoofdletters"), "not a valid id"),
        (Operation("retire", ["bestaat-niet"]), "unknown community"),
        (Operation("create", [], ACTIVE[0], labels={"nl": "X"}), "exists already"),
        (Operation("verzin", [ACTIVE[0]]), "unknown operation"),
    ],
)
def test_impossible_operations_are_refused_before_anything_is_written(op, message):
    with pytest.raises(TaxonomyError, match=message):
        planned_terms(TAXONOMY, op)


def test_split_parts_are_suggested_by_label_words():
    parts = {"lezen": "Lezen en voorlezen", "digitaal": "Digitale vaardigheden"}
    text = "Een voorleesproject: voorlezen aan peuters, lezen thuis"
    assert suggest_parts(text, parts) == ["lezen"]
    assert suggest_parts("niets hiervan", parts) == []

"""The declarations of roles, record statuses and languages, and what derives from them."""

from __future__ import annotations

import pytest

from registry.languages import DEFAULT_LANGUAGE, LANGUAGES
from registry.roles import ROLE_LABELS, ROLES, Role, may, rights
from registry.statuses import (
    RECORD_STATUSES,
    STATUS_LABELS,
    ever_visible_statuses,
    visible_statuses,
)


def test_roles_from_least_to_most_rights():
    assert ROLES == ("member", "editor", "analyst", "admin")
    assert set(ROLE_LABELS) == set(ROLES)


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("member", {"member"}),
        ("editor", {"member", "editor"}),
        ("analyst", {"member", "analyst"}),
        ("admin", {"member", "editor", "analyst", "admin"}),
        (None, set()),
        ("nobody", set()),
    ],
)
def test_each_role_has_the_rights_of_the_design(role, expected):
    """The roles table of the design: editors and analysts may what members may,
    administrators what everyone may."""
    assert {str(r) for r in rights(role)} == expected
    for right in ROLES:
        assert may(role, right) is (right in expected)


def test_a_misspelt_right_fails_loudly():
    with pytest.raises(ValueError):
        may("admin", "administrator")


def test_requires_refuses_an_unknown_right_when_the_view_is_declared():
    from portal.auth import requires

    with pytest.raises(ValueError):
        requires("editors")
    assert callable(requires(Role.EDITOR))


def test_the_cli_offers_exactly_the_declared_roles():
    from portal.cli import create_user_command, set_role_command

    create_choices = next(p for p in create_user_command.params if p.name == "role").type.choices
    set_choices = next(p for p in set_role_command.params if p.name == "role").type.choices
    assert tuple(create_choices) == tuple(set_choices) == ROLES


def test_statuses_in_workflow_order_and_who_sees_them():
    assert RECORD_STATUSES == ("draft", "in_review", "published", "archived")
    assert set(STATUS_LABELS) == set(RECORD_STATUSES)
    assert visible_statuses("public") == ("published",)
    assert visible_statuses("members") == ("published", "archived")
    assert ever_visible_statuses() == ("published", "archived")
    with pytest.raises(ValueError, match="unknown audience"):
        visible_statuses("editors")


def test_the_record_schema_accepts_exactly_the_declared_statuses():
    from registry.schemas import InnovationSchema

    validator = InnovationSchema._declared_fields["status"].validators[0]
    assert tuple(validator.choices) == RECORD_STATUSES


def test_languages_dutch_first():
    assert LANGUAGES == ("nl", "en")
    assert DEFAULT_LANGUAGE == "nl"


def test_facets_and_the_record_schema_name_only_declared_vocabularies():
    from portal.search.facets import FACETS
    from registry.schemas import VOCABULARY_FIELDS
    from registry.taxonomy import VOCABULARIES

    named = {f.vocabulary for f in FACETS if f.vocabulary} | set(VOCABULARY_FIELDS.values())
    assert named <= set(VOCABULARIES)
    assert named == set(VOCABULARIES)  # every vocabulary is searchable


def test_a_facet_over_an_undeclared_vocabulary_is_refused():
    from portal.search.facets import Facet

    with pytest.raises(ValueError, match="no vocabulary 'colours'"):
        Facet("colour", "Colour", "colour", "colours")

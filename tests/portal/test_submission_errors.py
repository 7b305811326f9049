"""Structured errors of the record schema, worded for the submission form, without a
server: every message is a :class:`registry.schemas.Reason` (English text plus a code
and its limits), and :func:`portal.errors.field_message` words it by code."""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from marshmallow import ValidationError

from portal.errors import FIELD_REASONS, field_message
from portal.submission import errors_by_field
from registry.schemas import InnovationSchema, Reason
from registry.taxonomy import Taxonomy
from tests.conftest import TAXONOMY_FILE, read_data
from tests.helpers import translating_app

BROKEN = {
    "id": "Geen Slug",
    "title": "",
    "summary": "x" * 2001,
    "priorities": [],
    "communities": ["a", "b", "c", "d"],
    "evidence_level": 9,
    "places_applied": "veel",
    "start_year": 1200,
    "url": "ftp:/nergens",
    "keywords": ["x" * 101],
    "programmes": [f"p{i}" for i in range(21)],
    "contact": {"name": "Ans", "email": "geen-adres"},
    "status": "published",
    "extra": 1,
}


@pytest.fixture(scope="module")
def messages() -> dict:
    with pytest.raises(ValidationError) as caught:
        InnovationSchema(Taxonomy.from_file(TAXONOMY_FILE)).load(BROKEN)
    return caught.value.messages


@pytest.fixture(scope="module")
def unknown_phase() -> Reason:
    """A valid record from the data with a phase the taxonomy does not know (the
    vocabulary check runs once every field is valid)."""
    record = {**read_data()[0], "phase": "bijna-klaar"}
    with pytest.raises(ValidationError) as caught:
        InnovationSchema(Taxonomy.from_file(TAXONOMY_FILE)).load(record)
    return caught.value.messages["phase"][0]


@pytest.fixture(scope="module")
def app():
    return translating_app()


def first(messages: dict, name: str) -> Reason:
    return messages[name][0]


def test_every_message_is_a_reason_with_a_code(messages):
    def walk(value):
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for item in value.values():
                yield from walk(item)
        else:
            for item in value:
                yield from walk(item)

    reasons = list(walk(messages))
    assert reasons and all(isinstance(r, Reason) and r.code for r in reasons)


def test_codes_and_limits_travel_beside_the_unchanged_english_text(messages, unknown_phase):
    title = first(messages, "title")
    assert (title.code, title.params["min"], title.params["max"]) == ("length", 1, 300)
    assert title == "Length must be between 1 and 300."  # the import prints this text
    assert first(messages, "priorities").code == "too_short"
    assert first(messages, "evidence_level").code == "out_of_range"
    assert (first(messages, "start_year").params["min"], first(messages, "start_year").code) == (
        1900,
        "out_of_range",
    )
    assert first(messages, "places_applied").code == "invalid_integer"
    assert first(messages, "url").code == "invalid_url"
    assert messages["contact"]["email"][0].code == "invalid_email"
    assert (unknown_phase.code, unknown_phase.params["ids"]) == ("unknown_id", "bijna-klaar")
    assert unknown_phase == "unknown phases id: bijna-klaar"
    assert first(messages, "id").code == "invalid_slug"
    assert first(messages, "description").code == "required"
    assert first(messages, "extra").code == "unknown_field"
    assert first(messages, "programmes").code == "too_long"


def test_field_messages_are_worded_by_code_in_both_languages(messages, unknown_phase, app):
    errors = errors_by_field(messages)
    with app.test_request_context():
        with force_locale("nl"):
            assert field_message(first(messages, "title"), "text", "") == (
                "Dit veld is verplicht (hoogstens 300 tekens)."
            )
            assert field_message(first(messages, "summary"), "textarea", "x") == (
                "Hoogstens 2000 tekens."
            )
            communities = first(messages, "communities")
            assert field_message(communities, "multi") == "Kies er 1 tot en met 3."
            assert field_message(first(messages, "evidence_level"), "select", "9") == (
                "Vul een getal van 0 tot en met 5 in."
            )
            assert field_message(first(messages, "places_applied"), "number") == (
                "Vul een geheel getal in."
            )
            assert field_message(unknown_phase, "select") == "Onbekende waarde: bijna-klaar."
            assert field_message(first(messages, "programmes"), "lines") == "Hoogstens 20 waarden."
            # one keyword too long: an item of a list speaks of characters
            assert [field_message(m, "lines") for m in errors["keywords"]] == [
                "Hoogstens 100 tekens."
            ]
            assert [field_message(m, "email") for m in errors["contact_email"]] == [
                "Vul een geldig e-mailadres in."
            ]
        with force_locale("en"):
            assert field_message(first(messages, "description")) == "This field is required."
            assert field_message(first(messages, "priorities"), "multi") == (
                "This field is required."
            )


def test_a_code_without_wording_shows_the_schema_text_and_plain_text_passes(app):
    with app.test_request_context(), force_locale("nl"):
        assert field_message(Reason("unknown_field", "Unknown field.")) == "Unknown field."
        assert field_message("Iets anders.") == "Iets anders."


def test_every_worded_code_fills_its_placeholders(app):
    params = {"min": 1, "max": 3, "ids": "x"}
    with app.test_request_context():
        for lang in ("nl", "en"):
            with force_locale(lang):
                for code, text in FIELD_REASONS.items():
                    assert "%(" not in str(text) % params, (code, lang)

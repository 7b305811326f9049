"""Every domain error has one HTTP status and a message in nl and en (portal.errors),
found by walking the error classes rather than by listing them."""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale

import portal.errors  # noqa: F401  (imports every module that raises a domain error)
from portal.errors import DOMAIN_ERRORS, domain_message, domain_status
from portal.search.params import MAX_Q_LENGTH, MAX_SIZE, SearchParamError
from registry.errors import DomainError, domain_error_classes
from registry.taxonomy_ops import TaxonomyError
from tests.helpers import translating_app

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def every_code():
    for cls in domain_error_classes():
        for code in cls.codes:
            yield cls, code


@pytest.fixture(scope="module")
def app():
    return translating_app()


def test_the_walk_finds_the_registry_and_search_errors():
    names = {cls.__name__ for cls in domain_error_classes()}
    assert {
        "TaxonomyError", "ThesaurusError", "EditorialError", "Forbidden", "UserError",
        "UnknownTerm", "JsonLimitError", "SearchParamError", "CursorError",
    } <= names  # fmt: skip


@pytest.mark.parametrize(("cls", "code"), list(every_code()), ids=lambda v: str(v))
def test_every_code_has_a_status_and_a_message_in_both_languages(app, cls, code):
    mapped = next(DOMAIN_ERRORS[c][code] for c in cls.__mro__ if code in DOMAIN_ERRORS.get(c, {}))
    status, template = mapped
    assert 400 <= status < 500
    texts = {}
    with app.test_request_context():
        with force_locale("en"):
            english = str(template)
        params = {name: "x" for name in PLACEHOLDER.findall(english)}
        exc = DomainError.__new__(cls)
        DomainError.__init__(exc, "technical", code, **params)
        for lang in ("nl", "en"):
            with force_locale(lang):
                texts[lang] = domain_message(exc)
        assert domain_status(exc) == status
    assert texts["en"] == english % params
    assert texts["nl"] != texts["en"]
    assert PLACEHOLDER.findall(str(texts["nl"])) == []


def test_a_class_declares_every_code_it_has_a_message_for():
    for cls, messages in DOMAIN_ERRORS.items():
        assert set(messages) <= set(cls.codes), cls.__name__


def test_an_unmapped_code_is_refused_not_shown_as_english():
    with pytest.raises(LookupError):
        domain_status(TaxonomyError("made up", "no_such_code"))


def test_messages_name_the_declared_limits(app):
    with app.test_request_context(), force_locale("en"):
        too_long = domain_message(SearchParamError("q_too_long", "q: too long", "q"))
        size = domain_message(SearchParamError("invalid_size", "size: bad", "size"))
    assert str(MAX_Q_LENGTH) in too_long
    assert str(MAX_SIZE) in size

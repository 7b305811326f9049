"""Typed errors and their one mapping to HTTP (JSON under ``/api/``, HTML elsewhere).

Domain errors (:class:`registry.errors.DomainError` and its subclasses, raised by the
registry and the search) carry a code and parameters; :data:`DOMAIN_ERRORS` gives each
class and code its HTTP status and its message for people, in nl and en.

Error body of the JSON API (a stable HTTP contract): ``{"error": {"code", "message", "field"}}``.
No handler ever shows a stack trace.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, make_response, render_template, request
from flask_babel import format_number
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from opensearchpy.exceptions import ConnectionError as OSConnectionError
from opensearchpy.exceptions import TransportError
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

from registry.editorial import EditorialError, Forbidden
from registry.errors import DomainError
from registry.jsonlimits import JsonLimitError
from registry.taxonomy import UnknownTerm
from registry.taxonomy_ops import TaxonomyError
from registry.thesaurus import ThesaurusError
from registry.users import UserError

from .search.params import SearchParamError
from .search.service import CursorError

log = logging.getLogger("portal")

DOMAIN_ERRORS: dict[type[DomainError], dict[str, tuple[int, object]]] = {
    SearchParamError: {
        "invalid_page": (400, _l("Page numbers start at 1.")),
        "invalid_size": (
            400,
            _l("The number of results per page must be between %(min)s and %(max)s."),
        ),
        "invalid_sort": (400, _l("Choose a sort order: %(choices)s.")),
        "invalid_evidence_min": (400, _l("The evidence level goes from %(min)s to %(max)s.")),
        "q_too_long": (400, _l("Search words can be at most %(max)s characters long.")),
        "invalid_q": (400, _l("The search words contain characters that cannot be searched.")),
        "invalid_lang": (400, _l("The language must be nl (Dutch) or en (English).")),
        "invalid_correct": (400, _l("correct must be 1 (correct misspelt words) or 0.")),
        "unknown_value": (400, _l("The filter value “%(value)s” of “%(field)s” does not exist.")),
        "page_out_of_range": (
            400,
            _l(
                "Only the first %(max)s results can be paged through; add a filter to "
                "narrow the search."
            ),
        ),
        "unknown_facet": (400, _l("“%(value)s” is not a facet; choose one of: %(names)s.")),
        "invalid_month": (400, _l("The month must be written as YYYY-MM.")),
        "invalid_view": (400, _l("Choose a table: %(names)s.")),
    },
    CursorError: {
        "invalid_cursor": (
            400,
            _l("This cursor is not valid (any more); start again with cursor=start."),
        ),
        "cursor_expired": (
            400,
            _l(
                "This cursor has expired: a cursor works for two minutes. Start again with "
                "cursor=start."
            ),
        ),
        "cursor_foreign": (
            400,
            _l(
                "This cursor was made for another visitor (logged in or not); start again "
                "with cursor=start."
            ),
        ),
    },
    TaxonomyError: {
        "invalid_operation": (400, _l("The operation was damaged; start again from the preview.")),
        "unknown_operation": (400, _l("Choose an operation.")),
        "dutch_label_needed": (400, _l("Give the new community “%(id)s” a Dutch name.")),
        "id_twice": (400, _l("An id is named twice.")),
        "result_is_source": (
            400,
            _l("The result must differ from the communities it replaces."),
        ),
        "part_is_source": (400, _l("A part must differ from the community that is split.")),
        "id_too_long": (400, _l("An id has at most %(max)s characters.")),
        "unknown_group": (400, _l("There is no group “%(id)s”.")),
        "unknown_community": (400, _l("There is no community “%(id)s”.")),
        "inactive_community": (400, _l("The community “%(id)s” is no longer active.")),
        "invalid_id": (
            400,
            _l("“%(id)s” is not a valid id: use lowercase letters, digits and hyphens."),
        ),
        "former_community": (400, _l("“%(id)s” is a former community; choose a new id.")),
        "community_exists": (409, _l("A community “%(id)s” exists already.")),
        "merge_needs_sources": (
            400,
            _l("Choose two or more communities and the id they merge into."),
        ),
        "split_needs_parts": (400, _l("Give two or more new ids for the parts.")),
        "one_community": (400, _l("Choose one community.")),
        "create_needs_id": (400, _l("Give the new community an id.")),
        "nothing_to_undo": (409, _l("There is no operation to undo.")),
    },
    ThesaurusError: {
        "invalid_kind": (400, _l("Choose equivalent terms or a broader term.")),
        "empty_term": (400, _l("A term is empty.")),
        "term_too_long": (400, _l("A term has at most %(max)s characters.")),
        "no_words": (
            400,
            _l("A term needs a word that search can look for (not only stopwords)."),
        ),
        "too_few_terms": (
            400,
            _l("Give at least two equivalent terms, or a broader and a narrower term."),
        ),
        "too_many_terms": (400, _l("A set has at most %(max)s terms.")),
        "duplicate_term": (400, _l("The broader term is also among its narrower terms.")),
        "invalid_document": (
            400,
            _l("The file is not a thesaurus export (JSON with a list “sets”)."),
        ),
        "not_found": (404, _l("That set does not exist (any more).")),
        "nothing_to_undo": (409, _l("There is no change to undo.")),
    },
    EditorialError: {
        "no_record": (404, _l("This page does not exist, or it is not visible to you.")),
        "no_free_id": (
            409,
            _l("Many innovations with this title were sent at the same moment; send it again."),
        ),
        "action_not_allowed": (
            409,
            _l("This step is not possible for a record with this status."),
        ),
        "comment_needed": (400, _l("Write what the submitter should change.")),
        "comment_too_long": (400, _l("A comment has at most %(max)s characters.")),
        "not_published": (409, _l("Only published innovations are verified.")),
        "search_name_needed": (400, _l("Give the search a name.")),
        "search_too_long": (400, _l("This search is too long to save.")),
        "no_search": (404, _l("This page does not exist, or it is not visible to you.")),
    },
    Forbidden: {
        "not_own_draft": (403, _l("You may only change your own drafts.")),
        "editors_only": (403, _l("Only editors change the status.")),
    },
    UserError: {
        "invalid_email": (400, _l("Enter a valid e-mail address.")),
        "password_too_short": (400, _l("The password needs at least %(min)s characters.")),
        "unknown_role": (400, _l("Unknown role “%(role)s”; choose one of: %(roles)s.")),
        "user_exists": (409, _l("A user %(email)s exists already.")),
        "no_user": (404, _l("There is no user %(email)s.")),
    },
    UnknownTerm: {
        "unknown_term": (400, _l("Unknown value: %(id)s.")),
    },
    JsonLimitError: {
        "json_too_long": (400, _l("The data is longer than %(max)s characters.")),
        "json_too_deep": (400, _l("The data is nested deeper than %(max)s levels.")),
    },
}
"""Every domain error's HTTP status and message for people, by class and code; the
message's ``%(name)s`` placeholders are filled from the error's ``params``. The only
place that turns a domain error into words or a status."""


FIELD_REASONS: dict[str, object] = {
    "required": _l("This field is required."),
    "too_short": _l("This field is required."),
    "length_required": _l("This field is required (at most %(max)s characters)."),
    "too_long": _l("At most %(max)s characters."),
    "length_choices": _l("Choose from %(min)s to %(max)s."),
    "too_many": _l("At most %(max)s values."),
    "out_of_range": _l("Enter a number from %(min)s to %(max)s."),
    "too_small": _l("Enter %(min)s or more."),
    "too_big": _l("Enter %(max)s or less."),
    "invalid_integer": _l("Enter a whole number."),
    "invalid_url": _l("Enter a full web address (https://…)."),
    "invalid_email": _l("Enter a valid e-mail address."),
    "unknown_id": _l("Unknown value: %(ids)s."),
    "duplicate_id": _l("A value is chosen twice."),
}
"""Messages for people of the record schema's :class:`~registry.schemas.Reason` codes
(a submitted form's field errors), filled from the reason's ``params``; a code not
here shows the schema's own text. Every minimum length in the schema is 1, so
"too short" means "empty". ``length_required``, ``length_choices`` and ``too_many``
are the ``length``/``too_long`` codes worded for an empty text field and for a
list field (:func:`field_message`)."""

LIST_KINDS = ("multi", "lines")
"""Form field kinds that hold a list of values (``portal.submission.FormField``)."""


def field_message(reason: str, kind: str = "text", value="") -> str:
    """A record schema's message for one form field in the request's language.

    Args:
        reason: a :class:`~registry.schemas.Reason` (code and params); a plain string
            is shown as it is.
        kind: the form field's kind; a list speaks of choices and values, not
            characters (an error of one item of a list counts as text:
            ``params["item"]``).
        value: what was typed; a length error of an empty text field says it is
            required, of a filled one that it is too long.
    """
    code = getattr(reason, "code", None)
    params = getattr(reason, "params", {})
    is_list = kind in LIST_KINDS and not params.get("item")
    if code == "length":
        filled = value or params.get("item")  # the items of a list are never empty
        code = "length_choices" if is_list else "too_long" if filled else "length_required"
    elif code == "too_long" and is_list:
        code = "too_many"
    if code not in FIELD_REASONS:
        return str(reason)
    return str(FIELD_REASONS[code]) % params


def _mapping(exc: DomainError) -> tuple[int, object]:
    for cls in type(exc).__mro__:
        entry = DOMAIN_ERRORS.get(cls, {}).get(exc.code)
        if entry:
            return entry
    raise LookupError(f"{type(exc).__name__} {exc.code!r} has no message in portal.errors")


def domain_status(exc: DomainError) -> int:
    """The HTTP status of ``exc`` (:data:`DOMAIN_ERRORS`, by its class or a base)."""
    return _mapping(exc)[0]


def domain_message(exc: DomainError) -> str:
    """The message of ``exc`` for people, in the request's language, its placeholders
    filled from ``exc.params``; a thesaurus import error keeps its ``set N: `` prefix.

    Raises:
        LookupError: the class and code have no entry (a test walks every class).
    """
    params = {
        name: format_number(value) if isinstance(value, int) else value
        for name, value in exc.params.items()
    }
    text = str(_mapping(exc)[1]) % params
    where = getattr(exc, "where", "")
    return f"{where}: {text}" if where else text


class ApiError(Exception):
    """An error with an HTTP ``status``, a machine ``code`` and a human ``message``."""

    def __init__(self, status: int, code: str, message: str, field: str = ""):
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _respond(status: int, code: str, message: str, field: str = "") -> Response:
    if _wants_json():
        response = jsonify({"error": {"code": code, "message": message, "field": field}})
    else:
        response = make_response(
            render_template("error.html", status=status, code=code, message=message, field=field)
        )
    response.status_code = status
    return response


def register_error_handlers(app: Flask) -> None:
    """Install the handlers on ``app``."""

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        field = getattr(exc, "field", "")
        return _respond(domain_status(exc), exc.code, domain_message(exc), field)

    @app.errorhandler(IntegrityError)
    def conflict(exc: IntegrityError):
        log.warning("integrity error: %s", exc.orig)
        return _respond(
            409,
            "conflict",
            _("Someone else changed this at the same moment. Reload the page and try again."),
        )

    @app.errorhandler(CSRFError)
    def csrf_failed(exc: CSRFError):
        return _respond(
            400,
            "csrf_failed",
            _(
                "This form has expired or was not sent from this site. Go back, reload "
                "the page and send it again."
            ),
        )

    @app.errorhandler(ApiError)
    def api_error(exc: ApiError):
        return _respond(exc.status, exc.code, exc.message, exc.field)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        messages = {
            400: _("The request could not be understood."),
            401: _("Please log in first."),
            403: _("Your account has no access to this page."),
            404: _("This page does not exist, or it is not visible to you."),
            405: _("This method is not allowed here."),
            429: _("Too many attempts. Please wait a minute and try again."),
        }
        code = (exc.name or "error").lower().replace(" ", "_")
        message = str(messages.get(exc.code, exc.name))
        if isinstance(exc, RateLimitExceeded) and exc.limit.error_message:
            # a limit with its own wording (e.g. per account) says which limit it is
            message = exc.description
        response = _respond(exc.code or 500, code, message)
        if exc.code == 405 and getattr(exc, "valid_methods", None):
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        if exc.code == 429:
            # Flask-Limiter adds Retry-After after this handler; this is the floor
            response.headers.setdefault("Retry-After", "60")
        return response

    @app.errorhandler(OSConnectionError)
    @app.errorhandler(OperationalError)
    def unavailable(exc: Exception):
        log.warning("backend unavailable: %s", type(exc).__name__)
        response = _respond(
            503,
            "unavailable",
            _("Search is temporarily unavailable. Please try again in a minute."),
        )
        # an open circuit breaker knows when it probes again; otherwise a guess
        response.headers["Retry-After"] = str(getattr(exc, "retry_after", 30))
        return response

    @app.errorhandler(TransportError)
    def search_failed(exc: TransportError):
        if exc.status_code == 503:  # e.g. a red cluster: no copy of a shard is there
            return unavailable(exc)
        log.error("search error: %s", exc)
        return _respond(502, "search_error", _("The search engine could not answer this search."))

    @app.errorhandler(Exception)
    def internal(exc: Exception):
        log.exception("unhandled error")
        return _respond(500, "internal_error", _("Something went wrong on our side."))

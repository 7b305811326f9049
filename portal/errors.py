"""Typed errors and their one mapping to HTTP (JSON under ``/api/``, HTML elsewhere).

Error body of the JSON API (DESIGN.md): ``{"error": {"code", "message", "field"}}``.
No handler ever shows a stack trace.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from opensearchpy.exceptions import ConnectionError as OSConnectionError
from opensearchpy.exceptions import TransportError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from .search.params import SearchParamError

log = logging.getLogger("portal")

PARAM_MESSAGES = {
    "invalid_page": _l("Page numbers start at 1."),
    "invalid_size": _l("The number of results per page must be between 1 and 100."),
    "invalid_sort": _l("Choose a sort order: relevance, newest, title or evidence."),
    "invalid_evidence_min": _l("The evidence level goes from 0 to 5."),
    "q_too_long": _l("Search words can be at most 500 characters long."),
    "invalid_q": _l("The search words contain characters that cannot be searched."),
    "invalid_lang": _l("The language must be nl (Dutch) or en (English)."),
    "unknown_value": _l("The filter value “%(value)s” of “%(field)s” does not exist."),
    "page_out_of_range": _l(
        "Only the first 10,000 results can be paged through; add a filter to narrow the search."
    ),
    "invalid_cursor": _l("This cursor is not valid (any more); start again with cursor=start."),
    "cursor_expired": _l(
        "This cursor has expired: a cursor works for two minutes. Start again with cursor=start."
    ),
    "cursor_foreign": _l(
        "This cursor was made for another visitor (logged in or not); start again with "
        "cursor=start."
    ),
}
"""A person's message per search-parameter error code, in the request's language."""


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

    @app.errorhandler(SearchParamError)
    def bad_param(exc: SearchParamError):
        template = PARAM_MESSAGES.get(exc.code)
        message = (
            str(template) % {"value": exc.value, "field": exc.field} if template else exc.message
        )
        return _respond(400, exc.code, message, exc.field)

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

"""Typed errors and their one mapping to HTTP (JSON under ``/api/``, HTML elsewhere).

Error body of the JSON API (DESIGN.md): ``{"error": {"code", "message", "field"}}``.
No handler ever shows a stack trace.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from opensearchpy.exceptions import ConnectionError as OSConnectionError
from opensearchpy.exceptions import TransportError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from .search.params import SearchParamError

log = logging.getLogger("portal")


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
        return _respond(400, exc.code, exc.message, exc.field)

    @app.errorhandler(ApiError)
    def api_error(exc: ApiError):
        return _respond(exc.status, exc.code, exc.message, exc.field)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        messages = {
            404: _("This page does not exist, or it is not visible to you."),
            405: _("This method is not allowed here."),
        }
        code = (exc.name or "error").lower().replace(" ", "_")
        return _respond(exc.code or 500, code, messages.get(exc.code, exc.description or ""))

    @app.errorhandler(OSConnectionError)
    @app.errorhandler(OperationalError)
    def unavailable(exc: Exception):
        log.warning("backend unavailable: %s", type(exc).__name__)
        response = _respond(
            503,
            "unavailable",
            _("Search is temporarily unavailable. Please try again in a minute."),
        )
        response.headers["Retry-After"] = "30"
        return response

    @app.errorhandler(TransportError)
    def search_failed(exc: TransportError):
        log.error("search error: %s", exc)
        return _respond(502, "search_error", _("The search engine could not answer this search."))

    @app.errorhandler(Exception)
    def internal(exc: Exception):
        log.exception("unhandled error")
        return _respond(500, "internal_error", _("Something went wrong on our side."))

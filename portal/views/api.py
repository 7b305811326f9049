"""JSON API ``/api/v1`` (the stable HTTP contract, plus cursor paging, export and
autocomplete as extensions)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from ..auth import limiter
from ..backends import backends
from ..errors import ApiError
from ..exports import export_response
from ..openapi import build_spec
from ..schemas import MemberInnovationView, PublicInnovationView
from ..search import service
from ..search.params import MAX_AUTOCOMPLETE_CHARS
from .common import audience, current_lang, parse_request, renamed_notices, run_search

bp = Blueprint("api", __name__, url_prefix="/api/v1")

CURSOR_START_LIMIT = "20 per minute"
"""Cursor walks a client may open: each opens a point in time on the cluster that
lives for :data:`~portal.search.service.PIT_KEEP_ALIVE`, so this caps the points in
time one client holds open."""


def _not_a_walk_start() -> bool:
    return request.args.get("cursor") != "start"


@limiter.request_filter
def _search_without_walk_start() -> bool:
    """True for a search that opens no cursor walk: it has no limit to check.

    The decorator below exempts those searches as well; this filter lets the limiter
    skip resolving and evaluating its limits for them altogether (the portal has no
    default or application-wide limits), which was 8% of a search's CPU time.
    """
    return request.endpoint == "api.search" and request.args.get("cursor") != "start"


@bp.get("/search")
@limiter.limit(CURSOR_START_LIMIT, exempt_when=_not_a_walk_start)
def search():
    """Search with the same parameters as the search page; JSON result.

    ``cursor=start`` (then the returned ``next_cursor``) walks every result with a
    point in time instead of ``page``; a cursor only works for the kind of caller
    (anonymous or logged in) that received it, for a few minutes. Opening walks is
    rate-limited per client (:data:`CURSOR_START_LIMIT`, then 429).
    """
    cursor = request.args.get("cursor")
    if not cursor:
        _request, result = run_search()
        return jsonify(result)
    be = backends()
    lang = current_lang()
    result = service.search_with_cursor(
        be.search, be.names, audience(), parse_request(), be.taxonomy(), lang, cursor,
        secret=current_app.config["SECRET_KEY"], synonyms=be.synonyms(),
    )  # fmt: skip
    result["notices"] = renamed_notices(result.pop("renamed"), lang)
    return jsonify(result)


@bp.get("/export")
def export():
    """Every matching innovation, streamed, as ``format=csv`` (default) or ``json``."""
    fmt = request.args.get("format", "csv")
    if fmt not in ("csv", "json"):
        raise ApiError(400, "invalid_format", "format: must be csv or json", "format")
    return export_response(parse_request(), fmt)


@bp.get("/autocomplete")
def autocomplete():
    """Suggestions for the search box: ``{"suggestions": [{"text", "kind", "id"}]}``."""
    q = request.args.get("q", "")
    if len(q) > MAX_AUTOCOMPLETE_CHARS:
        raise ApiError(400, "q_too_long", f"q: at most {MAX_AUTOCOMPLETE_CHARS} characters", "q")
    be = backends()
    return jsonify({"suggestions": service.autocomplete(be.search, be.names, audience(), q)})


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI description of this API."""
    return jsonify(build_spec(backends().taxonomy()))


@bp.get("/innovations/<record_id>")
def innovation(record_id: str):
    """One innovation visible to the caller, else 404."""
    be = backends()
    doc = service.get_document(be.search, be.names, audience(), record_id)
    if doc is None:
        raise ApiError(404, "not_found", f"no innovation {record_id!r}", "id")
    view = MemberInnovationView() if audience() == "members" else PublicInnovationView()
    return jsonify(view.dump(doc))

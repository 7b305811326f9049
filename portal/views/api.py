"""JSON API ``/api/v1`` (DESIGN.md, HTTP contract)."""

from __future__ import annotations

from flask import Blueprint, jsonify

from ..backends import backends
from ..errors import ApiError
from ..schemas import PublicInnovationView
from ..search import service
from .common import audience, run_search

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.get("/search")
def search():
    """Search with the same parameters as the search page; JSON result."""
    _request, result = run_search()
    return jsonify(result)


@bp.get("/innovations/<record_id>")
def innovation(record_id: str):
    """One innovation visible to the caller, else 404."""
    be = backends()
    doc = service.get_document(be.search, be.names, audience(), record_id)
    if doc is None:
        raise ApiError(404, "not_found", f"no innovation {record_id!r}", "id")
    return jsonify(PublicInnovationView().dump(doc))

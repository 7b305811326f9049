"""Public pages: the search page and the detail page (HTML)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request

from ..backends import backends
from ..search import service
from ..search.facets import FACETS
from ..search.params import MAX_RESULT_WINDOW
from .common import audience, current_lang, run_search

bp = Blueprint("public", __name__)


@bp.get("/")
@bp.get("/zoeken")
def search_page():
    """The search page: query box, facets with counts, results, pagination."""
    search_request, result = run_search()
    last_page = max(1, -(-min(result["total"], MAX_RESULT_WINDOW) // search_request.size))
    return render_template(
        "search.html",
        req=search_request,
        result=result,
        facets=FACETS,
        last_page=last_page,
        taxonomy=backends().taxonomy(),
        lang=current_lang(),
    )


@bp.get("/innovaties/<record_id>")
def detail(record_id: str):
    """One innovation with taxonomy labels; 404 when not visible to the caller."""
    be = backends()
    doc = service.get_document(be.search, be.names, audience(), record_id)
    if doc is None:
        abort(404)
    return render_template(
        "detail.html",
        doc=doc,
        taxonomy=be.taxonomy(),
        lang=current_lang(),
        back=request.args.get("terug", ""),
    )

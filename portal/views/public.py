"""Public pages: search page, detail page, Atom feed, OpenSearch description."""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext as _

from ..backends import backends
from ..discovery import json_ld, script_json
from ..errors import PARAM_MESSAGES
from ..exports import FEED_SIZE, atom_feed, opensearch_description
from ..oai.repository import Repository
from ..search import service
from ..search.facets import FACETS
from ..search.params import DEFAULT_SIZE, MAX_RESULT_WINDOW, SearchParamError, parse_search_args
from ..ui import public_url
from .common import audience, current_lang, parse_request, run_search

bp = Blueprint("public", __name__)


def last_page_of(total: int, size: int) -> int:
    """The last page a visitor may open: within the result window, at least 1."""
    return max(1, -(-min(total, MAX_RESULT_WINDOW) // size))


@bp.get("/")
@bp.get("/zoeken")
def search_page():
    """The search page: query box, facets with counts, results, pagination.

    A page past the last one shows the last page with a message instead of an
    empty list.
    """
    beyond_window = False
    try:
        search_request, result = run_search()
    except SearchParamError as exc:
        if exc.code != "page_out_of_range":
            raise
        # past the result window: continue from the deepest page that can be shown
        beyond_window = True
        args = request.args.copy()
        args["page"] = str(MAX_RESULT_WINDOW // int(args.get("size") or DEFAULT_SIZE))
        search_request, result = run_search(parse_search_args(args, backends().taxonomy()))
    last_page = last_page_of(result["total"], search_request.size)
    asked = request.args.get("page", "")
    if search_request.page > last_page and result["total"]:
        search_request, result = run_search(replace(search_request, page=last_page))
        result["notices"].append(
            _("Page %(asked)s does not exist; this is the last page, %(last)d.",
              asked=asked, last=last_page)
        )  # fmt: skip
    elif beyond_window:
        result["notices"].append(str(PARAM_MESSAGES["page_out_of_range"]))
    return render_template(
        "search.html",
        req=search_request,
        result=result,
        facets=FACETS,
        last_page=last_page,
        taxonomy=backends().taxonomy(),
    )


@bp.get("/innovaties/<record_id>")
def detail(record_id: str):
    """One innovation with taxonomy labels; 404 when not visible to the caller.

    A published innovation also carries schema.org JSON-LD (:func:`portal.discovery.json_ld`).
    """
    be = backends()
    doc = service.get_document(be.search, be.names, audience(), record_id)
    if doc is None:
        abort(404)
    structured_data = None
    if doc.get("status", "published") == "published":
        # from the registry's public fields, so a member's view carries no member field
        with be.sessions() as session:
            item = Repository(session, be.taxonomy()).get(record_id)
        if item is not None and not item.deleted:
            page = public_url("public.detail", record_id=record_id)
            data = json_ld(item.record, be.taxonomy(), page, item.datestamp)
            structured_data = script_json(data)
    return render_template(
        "detail.html",
        doc=doc,
        related=service.related(be.search, be.names, audience(), record_id),
        member_view=audience() == "members",
        taxonomy=be.taxonomy(),
        back=request.args.get("terug", ""),
        structured_data=structured_data,
    )


@bp.get("/feed.atom")
def feed():
    """Atom feed of a search, newest first (the search page's parameters)."""
    search_request = replace(parse_request(), sort="newest", page=1, size=FEED_SIZE)
    search_request, result = run_search(search_request)
    title = "Innovatiebieb" + (f": {search_request.q}" if search_request.q else "")
    return atom_feed(search_request, result, title)


@bp.get("/opensearch.xml")
def opensearch():
    """OpenSearch description document (lets browsers add the portal as search engine)."""
    return opensearch_description(current_lang())

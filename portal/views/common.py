"""Helpers shared by the HTML and JSON views (request → search → notices)."""

from __future__ import annotations

import datetime as dt
import time

from flask import current_app, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from ..backends import backends
from ..search import service
from ..search.params import SearchRequest, parse_search_args
from ..stats.service import record_public_search

LOGGED_ENDPOINTS = ("public.search_page", "api.search")
"""Searches recorded for analytics (:mod:`registry.search_log`): the search page and
the search API."""


def audience() -> str:
    """The alias the caller may search: ``members`` for anyone logged in (every role
    is a member of the network), ``public`` for anonymous visitors
    (docs/architecture.md, "Layers")."""
    return "members" if current_user.is_authenticated else "public"


def current_lang() -> str:
    """The request's language code (``nl`` or ``en``)."""
    return str(get_locale() or "nl")


def renamed_notices(renamed: list[tuple[str, list[str]]], lang: str) -> list[str]:
    """Human notices for community ids that resolved to successors."""
    taxonomy = backends().taxonomy()
    notices = []
    for old, new in renamed:
        old_label = taxonomy.label("communities", old, lang)
        if new:
            new_labels = ", ".join(taxonomy.label("communities", n, lang) for n in new)
            notices.append(
                _(
                    "The community “%(old)s” is now “%(new)s”; results show the current one.",
                    old=old_label,
                    new=new_labels,
                )
            )
        else:
            notices.append(_("The community “%(old)s” no longer exists.", old=old_label))
    return notices


def parse_request() -> SearchRequest:
    """The validated search of ``request.args`` (raises SearchParamError → 400)."""
    return parse_search_args(request.args, backends().taxonomy())


def run_search(search_request: SearchRequest | None = None) -> tuple[SearchRequest, dict]:
    """Search the caller's alias for ``search_request`` (default: ``request.args``).

    Returns:
        ``(search_request, result)`` where ``result`` has the API shape, with
        ``notices`` in the request's language.
    Raises:
        SearchParamError: a bad parameter (answered with 400).
    """
    be = backends()
    taxonomy = be.taxonomy()
    search_request = search_request or parse_request()
    lang = current_lang()
    days = current_app.config["COMMUNITY_FORMERLY_DAYS"]
    since = dt.date.today() - dt.timedelta(days=days)
    started = time.perf_counter()
    result = service.search(
        be.search,
        be.names,
        audience(),
        search_request,
        taxonomy,
        lang,
        formerly_since=since,
        synonyms=be.synonyms(),
    )
    took_ms = round((time.perf_counter() - started) * 1000)
    result["notices"] = renamed_notices(result.pop("renamed"), lang)
    # anonymous searches only (no person behind a log row), first page only (paging
    # through one result list is not a new search)
    if audience() == "public" and request.endpoint in LOGGED_ENDPOINTS and search_request.page == 1:
        # a queue append: the batching writer's thread writes it (registry/search_log_writer.py)
        record_public_search(be.search_log, search_request, result["total"], took_ms)

    return search_request, result

"""Helpers shared by the HTML and JSON views (request → search → notices)."""

from __future__ import annotations

from flask import request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from ..backends import backends
from ..search import service
from ..search.params import SearchRequest, parse_search_args


def audience() -> str:
    """The alias the caller may search: ``members`` for anyone logged in (every role
    is a member of the network), ``public`` for anonymous visitors (DESIGN.md)."""
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
    result = service.search(be.search, be.names, audience(), search_request, taxonomy, lang)
    result["notices"] = renamed_notices(result.pop("renamed"), lang)
    return search_request, result

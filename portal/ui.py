"""Template helpers: facet titles, value labels, sort names, language links, absolute
links (:func:`public_url`).

Facet titles and sort names come with their declarations
(:data:`portal.search.facets.FACETS`, :data:`portal.search.sorts.SORTS`), the labels
of record statuses and roles with theirs (:data:`registry.statuses.STATUS_TABLE`,
:data:`registry.roles.ROLE_TABLE`), translated here.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, current_app, request, url_for
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l

from registry.editorial import MAX_COMMENT_CHARS, MAX_SEARCH_NAME_CHARS
from registry.languages import LANGUAGES
from registry.roles import ROLE_LABELS
from registry.statuses import STATUS_LABELS, visible_statuses

from .backends import backends
from .search.facets import FACETS_BY_NAME, Facet
from .search.params import MAX_Q_LENGTH
from .search.sorts import SORTS

LIMITS = {
    "q": MAX_Q_LENGTH,
    "comment": MAX_COMMENT_CHARS,
    "search_name": MAX_SEARCH_NAME_CHARS,
}
"""Lengths the forms allow (``maxlength``), read from their declarations."""

ACTION_LABELS = {
    "save": _l("saved"),
    "submit": _l("submitted"),
    "publish": _l("published"),
    "archive": _l("archived"),
    "request_changes": _l("changes requested"),
    "verify": _l("confirmed as correct"),
}

TERM_STATUS_LABELS = {
    "active": _l("active"),
    "merged": _l("merged"),
    "renamed": _l("renamed"),
    "split": _l("split"),
    "retired": _l("retired"),
}


def _lang() -> str:
    return str(get_locale() or "nl")


def public_url(endpoint: str, **values) -> str:
    """The absolute URL of ``endpoint`` under ``PUBLIC_BASE_URL``.

    Never built from the request's ``Host`` header: a visitor (or a cache in front
    of the portal) could otherwise make the feed and the OpenSearch description
    point to any host.
    """
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + url_for(endpoint, **values)


def register(app: Flask) -> None:
    """Install the context processor and filters on ``app``."""

    @app.context_processor
    def helpers():
        def facet_title(name: str) -> str:
            return str(FACETS_BY_NAME[name].title)

        def value_label(facet: Facet, value: str) -> str:
            if facet.vocabulary is None:
                return value
            if facet.at_least:
                return str(_l("at least %(level)s", level=value))
            return facet.label(backends().taxonomy(), value, _lang())

        def facet_value(name: str, value: str | None) -> str:
            """The name of ``value`` as the facet ``name`` shows it (empty for None)."""
            return "" if value is None else value_label(FACETS_BY_NAME[name], value)

        def sort_options() -> list[tuple[str, str]]:
            return [(sort.name, str(sort.label)) for sort in SORTS]

        def lang_switch_query(lang: str) -> str:
            # explicit, so a browser that prefers English can still choose Dutch
            args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
            return urlencode([*args, ("lang", lang)])

        def at_least_counts(items: list[dict]) -> list[tuple[dict, int]]:
            # the "at least N" choice finds every level >= N, so it shows that sum
            # "at least 0" would equal "any level", which the page offers already
            levels = [item for item in items if item["value"].isdigit() and item["value"] != "0"]
            return [
                (item, sum(o["count"] for o in levels if int(o["value"]) >= int(item["value"])))
                for item in levels
            ]

        def status_label(status: str) -> str:
            return gettext(STATUS_LABELS[status]) if status in STATUS_LABELS else status

        def role_label(role: str) -> str:
            return gettext(ROLE_LABELS[role]) if role in ROLE_LABELS else role

        def action_label(action: str) -> str:
            return str(ACTION_LABELS.get(action, action))

        def term_status_label(status: str) -> str:
            return str(TERM_STATUS_LABELS.get(status, status))

        return {
            "status_label": status_label,
            "role_label": role_label,
            "member_statuses": visible_statuses("members"),
            "action_label": action_label,
            "term_status_label": term_status_label,
            "at_least_counts": at_least_counts,
            "facet_title": facet_title,
            "value_label": value_label,
            "facet_value": facet_value,
            "sort_options": sort_options,
            "lang_switch_query": lang_switch_query,
            "public_url": public_url,
            "lang": _lang(),
            "languages": LANGUAGES,
            "limits": LIMITS,
        }

    @app.template_filter("show_value")
    def show_value(value) -> str:
        # audit values: lists joined, empty shown as a dash, dicts as name/e-mail
        if value is None or value == [] or value == "":
            return "–"
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        if isinstance(value, dict):
            return ", ".join(str(v) for v in value.values() if v)
        return str(value)

    @app.template_filter("label_of")
    def label_of(value: str, vocabulary: str) -> str:
        return backends().taxonomy().label(vocabulary, value, _lang())

"""Analysts' statistics: ``GET /statistieken`` (dashboard), ``GET
/statistieken/export.csv?view=…`` (one table as CSV) and ``GET /api/v1/stats``
(the same numbers as JSON). Analysts and administrators only (``requires("analyst")``).

Every route takes the search page's parameters (``q``, facet parameters,
``evidence_min``, ``lang``) to narrow the statistics to that result set, plus
``rows``/``columns`` (facet names of the free cross-tab) and ``month`` (``YYYY-MM``,
the search-analytics month).
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, Flask, jsonify, render_template, request

from ..auth import requires
from ..backends import backends
from ..search.facets import FACETS
from ..search.params import SearchRequest
from ..stats import service
from ..stats.aggregations import STATS_AUDIENCE, value_label, vocabulary_values
from ..stats.cli import stats_cli
from ..stats.tables import (
    ANALYTICS_TABLES,
    analytics_tables,
    csv_response,
    stats_tables,
)
from .common import current_lang, parse_request, renamed_notices

bp = Blueprint("stats", __name__)


def _statistics(search_request: SearchRequest) -> dict:
    be = backends()
    lang = current_lang()
    crosstab = service.parse_crosstab(request.args)
    stats = service.facet_statistics(
        be.search,
        be.names,
        be.taxonomy(),
        search_request,
        lang,
        crosstab,
        synonyms=be.synonyms(),
    )
    stats["notices"] = renamed_notices(stats.pop("renamed"), lang)
    return stats


def _analytics() -> dict:
    be = backends()
    month = service.parse_month(request.args, dt.date.today())
    analytics = service.search_analytics(be.sessions, be.taxonomy(), current_lang(), month)
    analytics["judged"] = service.judged_zero_result_rate()
    return analytics


def _filter_choices(stats: dict, search_request: SearchRequest) -> dict[str, list[tuple]]:
    """``{facet name: [(value, label)]}`` for the dashboard's filter form: the
    vocabulary, or for free-valued facets the values present plus the selected."""
    taxonomy, lang = backends().taxonomy(), current_lang()
    choices = {}
    for facet in FACETS:
        values = vocabulary_values(facet, taxonomy) or [
            item["value"] for item in stats["facets"][facet.name]
        ]
        values += [v for v in search_request.selected(facet) if v not in values]
        choices[facet.name] = [(v, value_label(facet, v, taxonomy, lang)) for v in values]
    return choices


def _given(names: tuple[str, ...]) -> list[tuple[str, str]]:
    """The non-empty parameters among ``names``, for links that keep them."""
    return [(name, request.args[name]) for name in names if request.args.get(name)]


@bp.get("/statistieken")
@requires("analyst")
def dashboard():
    """The dashboard: every statistic of the (narrowed) result set with charts, data
    tables and CSV links, and the search analytics of one month."""
    search_request = parse_request()
    stats = _statistics(search_request)
    analytics = _analytics()
    return render_template(
        "stats.html",
        req=search_request,
        stats=stats,
        tables=stats_tables(stats),
        analytics=analytics,
        analytics_tables=analytics_tables(analytics),
        choices=_filter_choices(stats, search_request),
        facets=FACETS,
        query_args=search_request.to_args(),
        crosstab_args=_given(("rows", "columns")),
        month_args=_given(("month",)),
    )


@bp.get("/statistieken/export.csv")
@requires("analyst")
def export_csv():
    """One table of the dashboard as CSV: ``view`` is a table name
    (:func:`~portal.stats.tables.table_names`; anything else is a 400,
    :func:`~portal.stats.service.parse_view`)."""
    view = service.parse_view(request.args)
    if view in ANALYTICS_TABLES:
        table = analytics_tables(_analytics())[view]
    else:
        table = stats_tables(_statistics(parse_request()))[view]
    return csv_response(table)


@bp.get("/api/v1/stats")
@requires("analyst")
def api_stats():
    """The dashboard's numbers as JSON: ``{"audience", "query": {"q", "filters"},
    "total", "statuses", "facets", "crosstab", "evidence_by_priority", "added",
    "backlog", "notices", "search_log"}`` (shapes in :mod:`portal.stats`)."""
    search_request = parse_request()
    stats = _statistics(search_request)
    query = {
        "q": search_request.q,
        "filters": {name: list(values) for name, values in search_request.filters.items()},
    }
    return jsonify(
        {"audience": STATS_AUDIENCE, "query": query, **stats, "search_log": _analytics()}
    )


def init_app(app: Flask) -> None:
    """Register the blueprint and the ``stats`` command group on ``app``."""
    app.register_blueprint(bp)
    app.cli.add_command(stats_cli)

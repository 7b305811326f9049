"""Run the statistics and the search analytics; record public searches.

:func:`facet_statistics` sends one aggregation request to ``innovations-members``
(:data:`~.aggregations.STATS_AUDIENCE`): OpenSearch counts, Python only labels and
orders the buckets. :func:`search_analytics` reads the registry's search log.
:func:`record_public_search` is called by the search views for anonymous searches.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

from flask_babel import gettext as _
from opensearchpy import OpenSearch
from sqlalchemy.orm import Session, sessionmaker

from indexer.client import IndexNames
from registry.search_log import (
    Month,
    facet_usage,
    logged_months,
    searches_in_month,
    top_queries,
)
from registry.search_log_writer import SearchLogWriter
from registry.taxonomy import Taxonomy

from ..search.facets import FACETS, FACETS_BY_NAME
from ..search.params import SearchParamError, SearchRequest
from ..search.synonyms import EMPTY, SynonymIndex
from .aggregations import (
    DEFAULT_CROSSTAB,
    STATS_AUDIENCE,
    build_stats_body,
    shape_stats,
    value_label,
)
from .tables import table_names

log = logging.getLogger("portal")

TOP_QUERIES = 50
"""Rows in the most-frequent and zero-result query lists."""


def parse_crosstab(args) -> tuple[str, str]:
    """The free cross-tab's ``(rows, columns)`` from ``rows``/``columns`` parameters
    (facet names of :data:`~portal.search.facets.FACETS`; default
    :data:`~.aggregations.DEFAULT_CROSSTAB`).

    Raises:
        SearchParamError: ``unknown_facet`` naming the bad parameter.
    """
    chosen = []
    for param, default in zip(("rows", "columns"), DEFAULT_CROSSTAB, strict=True):
        name = args.get(param) or default
        if name not in FACETS_BY_NAME:
            raise SearchParamError(
                "unknown_facet",
                f"{param}: not a facet",
                param,
                name[:50],
                names=", ".join(f.name for f in FACETS),
            )
        chosen.append(name)
    return chosen[0], chosen[1]


def parse_view(args) -> str:
    """The table of the CSV download from the ``view`` parameter: one of
    :func:`~.tables.table_names` (the facets declared now, the fixed tables, the
    search-analytics tables).

    Raises:
        SearchParamError: ``invalid_view`` (missing or unknown), naming the tables.
    """
    view = args.get("view", "")
    names = table_names()
    if view not in names:
        raise SearchParamError(
            "invalid_view", "view: not a table", "view", view[:50], names=", ".join(names)
        )
    return view


def parse_month(args, today: dt.date) -> Month:
    """The search-analytics month from the ``month`` parameter (``YYYY-MM``), default
    the month of ``today``.

    Raises:
        SearchParamError: ``invalid_month``.
    """
    text = args.get("month")
    if text is None:
        return Month.of(today)
    try:
        return Month.parse(text)
    except ValueError:
        raise SearchParamError(
            "invalid_month", "month: not a month (YYYY-MM)", "month", text[:50]
        ) from None


def facet_statistics(
    client: OpenSearch,
    names: IndexNames,
    taxonomy: Taxonomy,
    request: SearchRequest,
    lang: str,
    crosstab: tuple[str, str] = DEFAULT_CROSSTAB,
    today: dt.date | None = None,
    synonyms: SynonymIndex = EMPTY,
) -> dict:
    """Statistics of the result set of ``request`` in ``innovations-members``.

    Args:
        request: the narrowing search (same parameters as the search page).
        lang: ``nl`` or ``en`` for labels.
        crosstab: facet names (rows, columns) of the free cross-tab.
        today: reference date of the verification backlog (default: today).
    Returns:
        :func:`~.aggregations.shape_stats`'s dict plus ``renamed``
        (``[(requested community id, [current ids])]`` for notices).
    Raises:
        opensearchpy.exceptions.ConnectionError: the cluster is unreachable (503).
    """
    today = today or dt.date.today()
    body, resolved = build_stats_body(request, taxonomy, crosstab, today, synonyms)
    response = client.search(index=names.alias(STATS_AUDIENCE), body=body)
    result = shape_stats(response, taxonomy, lang, crosstab, today)
    result["renamed"] = resolved.renamed
    return result


def search_analytics(
    sessions: sessionmaker[Session], taxonomy: Taxonomy, lang: str, month: Month
) -> dict:
    """What the public searched for in ``month`` (UTC), from the registry's search log.

    Returns:
        ``{"month": "YYYY-MM", "months": ["YYYY-MM", …] (newest first),
        "searches": int, "with_query": int, "zero_results": int,
        "top_queries": [{"q", "count", "last_total"}], "zero_result_queries":
        [{"q", "count", "last_total"}], "facets": [{"facet", "searches",
        "values": [{"value", "label", "count"}]}]}``; facets in :data:`FACETS`
        order, unused ones left out; values most used first.
    """
    with sessions() as session:
        summary = searches_in_month(session, month)
        top = top_queries(session, month, TOP_QUERIES)
        zero = top_queries(session, month, TOP_QUERIES, zero_results=True)
        usage = facet_usage(session, month)
        months = [str(m) for m in logged_months(session)]
    facets = []
    for facet in FACETS:
        if facet.name not in usage:
            continue
        values = [
            {"value": value, "label": _usage_label(facet, value, taxonomy, lang), "count": count}
            for value, count in usage[facet.name]["values"].items()
        ]
        values.sort(key=lambda item: (-item["count"], item["label"].casefold()))
        facets.append(
            {"facet": facet.name, "searches": usage[facet.name]["searches"], "values": values}
        )
    return {
        "month": str(month),
        "months": months,
        **summary,
        "top_queries": top,
        "zero_result_queries": zero,
        "facets": facets,
    }


def _usage_label(facet, value: str, taxonomy: Taxonomy, lang: str) -> str:
    # a logged evidence value is the "at least N" choice, not one level
    if facet.at_least:
        return _("at least %(level)s", level=value)
    return value_label(facet, value, taxonomy, lang)


def record_public_search(
    writer: SearchLogWriter, request: SearchRequest, total: int, took_ms: int | None
) -> None:
    """Queue one anonymous search for the search log (search analytics).

    Records query text, facet selection, hit count, duration (ms) and time; nothing
    about the person. Returns at once: ``writer`` writes in batches from its own
    thread, and a failed write is logged and swallowed there (analytics never fail or
    slow a search).
    """
    writer.submit(request.q, {name: list(v) for name, v in request.filters.items()}, total, took_ms)


RELEVANCE_RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results"
"""Where ``make relevance`` writes ``<date>-relevance.json``."""


def judged_zero_result_rate(results_dir: Path = RELEVANCE_RESULTS) -> dict | None:
    """The zero-result rate of the newest judged-query evaluation, to show beside the
    live share: ``{"rate": float (0–1), "queries": int, "date": "YYYY-MM-DD"}``, or
    None when no evaluation has been written (or it cannot be read)."""
    runs = sorted(results_dir.glob("*-relevance.json"))
    if not runs:
        return None
    try:
        summary = json.loads(runs[-1].read_text(encoding="utf-8"))["summary"]["all"]["portal"]
        return {
            "rate": float(summary["zero_rate"]),
            "queries": int(summary["queries"]),
            "date": runs[-1].name[:10],
        }
    except (OSError, ValueError, KeyError, TypeError):
        return None

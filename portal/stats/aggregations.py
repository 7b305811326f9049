"""Facet statistics as OpenSearch aggregations: pure request builders and shapers.

Everything here is a function over dicts, testable without a cluster. Which facets
exist, their index fields, vocabularies, order and "unknown" buckets come from the
one declaration, :data:`portal.search.facets.FACETS`; the narrowing query is the
search's own step (:func:`~portal.search.query.filtered_query_step`), so a statistics
view describes exactly the result set of the same search.

Statistics describe a *result set*: every selected filter applies to every view.
(The search page's facet counts are disjunctive instead (:mod:`portal.search.query`), because
they show what selecting another value would give.)

All counts are innovations (documents). Multi-valued facets (priority, community,
target group, programme) count an innovation once under each of its values, so
their counts can add up to more than the total.
"""

from __future__ import annotations

import datetime as dt

from registry.editorial import VERIFY_AFTER, verification_cutoff
from registry.taxonomy import Taxonomy

from ..search.facets import FACETS, FACETS_BY_NAME, UNKNOWN_LABEL, UNKNOWN_VALUE, Facet
from ..search.params import SearchRequest
from ..search.query import ResolvedFilters, filtered_query_step, plan_search
from ..search.results import sort_facet_values
from ..search.synonyms import EMPTY, SynonymIndex

STATS_AUDIENCE = "members"
"""Statistics run on ``innovations-members`` (published and archived innovations):
analysts are members of the network, and archived innovations are part of where the
network innovated. The public alias would hide them; no member-only *field* is
counted, so nothing restricted reaches a chart."""

STATUS_FIELD = "status"
CREATED_FIELD = "created"
VERIFIED_FIELD = "last_verified"

BACKLOG_MONTHS = VERIFY_AFTER.months
"""Months of :data:`registry.editorial.VERIFY_AFTER`, shown with the backlog."""
BACKLOG_LIST_SIZE = 100
"""At most this many backlog innovations are listed (oldest verification first); the
count is always complete. 100 is OpenSearch's ``max_inner_result_window``."""
BACKLOG_SOURCE = ("id", "title", "organisation", "province", "last_verified")

TREND_FACET = "phase"
"""The facet that splits the innovations-added-per-quarter trend."""
EVIDENCE_BY = ("priority", "evidence")
"""The fixed cross-tab "evidence level per priority" (rows, columns)."""
DEFAULT_CROSSTAB = ("priority", "phase")
"""Rows and columns of the free cross-tab when none are asked for."""


# -- building ------------------------------------------------------------------------


def backlog_cutoff(today: dt.date) -> dt.date:
    """Verifications before this date are overdue (the editors' rule,
    :func:`registry.editorial.verification_cutoff`)."""
    return verification_cutoff(today)


def stats_query(
    request: SearchRequest, taxonomy: Taxonomy, synonyms: SynonymIndex = EMPTY
) -> tuple[dict, ResolvedFilters]:
    """The query that selects the result set of ``request`` (text and every filter).

    Uses the search's own query step (:func:`~portal.search.query.filtered_query_step`)
    with the members' searched fields and the thesaurus in force (``synonyms``), so
    the set is the one a logged-in analyst sees on the search page for the same URL.

    Returns:
        ``(query, resolved)``: the ``query`` clause and the resolved filters (for
        notices about renamed communities).
    """
    plan = plan_search(request, taxonomy, STATS_AUDIENCE, synonyms)
    return filtered_query_step(plan)["query"], plan.resolved


def terms_size(facet: Facet, taxonomy: Taxonomy) -> int:
    """Buckets to ask for: the vocabulary's size (nothing cut off), else ``max_values``."""
    size = len(taxonomy.terms(facet.vocabulary)) if facet.vocabulary else facet.max_values
    return max(size, 1)


def facet_aggs(facet: Facet, taxonomy: Taxonomy) -> dict:
    """Sub-aggregations counting ``facet``: ``values`` (terms) and, when the facet
    counts records without a value, ``missing``."""
    aggs: dict = {"values": {"terms": {"field": facet.field, "size": terms_size(facet, taxonomy)}}}
    if facet.count_missing:
        aggs["missing"] = {"missing": {"field": facet.field}}
    return aggs


def crosstab_agg(rows: Facet, columns: Facet, taxonomy: Taxonomy) -> dict:
    """A cross-tab of two facets: per row value (and "unknown" row) the column counts,
    plus the column totals over the whole result set."""
    inner = facet_aggs(columns, taxonomy)
    aggs: dict = {
        "rows": {"terms": {"field": rows.field, "size": terms_size(rows, taxonomy)}, "aggs": inner},
        "columns": {"filter": {"match_all": {}}, "aggs": inner},
    }
    if rows.count_missing:
        aggs["missing_row"] = {"missing": {"field": rows.field}, "aggs": inner}
    return {"filter": {"match_all": {}}, "aggs": aggs}


def trend_agg(taxonomy: Taxonomy) -> dict:
    """Innovations added per calendar quarter (``created``), split by current phase.

    ``min_doc_count: 0`` keeps quiet quarters between the first and the last one.
    """
    phase = FACETS_BY_NAME[TREND_FACET]
    return {
        "date_histogram": {
            "field": CREATED_FIELD,
            "calendar_interval": "quarter",
            "min_doc_count": 0,
            "format": "yyyy-MM-dd",
        },
        "aggs": facet_aggs(phase, taxonomy),
    }


def backlog_agg(today: dt.date) -> dict:
    """Published innovations whose last verification is before :func:`backlog_cutoff`
    or missing; lists the oldest :data:`BACKLOG_LIST_SIZE` of them."""
    cutoff = backlog_cutoff(today).isoformat()
    return {
        "filter": {
            "bool": {
                "filter": [{"term": {STATUS_FIELD: "published"}}],
                "should": [
                    {"range": {VERIFIED_FIELD: {"lt": cutoff}}},
                    {"bool": {"must_not": {"exists": {"field": VERIFIED_FIELD}}}},
                ],
                "minimum_should_match": 1,
            }
        },
        "aggs": {
            "oldest": {
                "top_hits": {
                    "size": BACKLOG_LIST_SIZE,
                    "sort": [
                        {VERIFIED_FIELD: {"order": "asc", "missing": "_first"}},
                        {"id": "asc"},
                    ],
                    "_source": list(BACKLOG_SOURCE),
                }
            }
        },
    }


def build_stats_body(
    request: SearchRequest,
    taxonomy: Taxonomy,
    crosstab: tuple[str, str],
    today: dt.date,
    synonyms: SynonymIndex = EMPTY,
) -> tuple[dict, ResolvedFilters]:
    """The whole statistics request: one search, ``size: 0``, every view an aggregation.

    Args:
        request: the narrowing search (``q`` and filters; paging and sort ignored).
        crosstab: facet names ``(rows, columns)`` of the free cross-tab.
        today: reference date of the verification backlog.
        synonyms: the thesaurus in force.
    Returns:
        ``(body, resolved)``; aggregations: ``status``, ``facets`` (one per facet
        of :data:`FACETS`), ``crosstab``, ``evidence_by_priority``, ``added``
        (per quarter), ``without_date``, ``backlog``.
    """
    query, resolved = stats_query(request, taxonomy, synonyms)
    rows, columns = (FACETS_BY_NAME[name] for name in crosstab)
    by_rows, by_columns = (FACETS_BY_NAME[name] for name in EVIDENCE_BY)
    body = {
        "size": 0,
        "track_total_hits": True,
        "query": query,
        "aggs": {
            "status": {"terms": {"field": STATUS_FIELD, "size": 10}},
            "facets": {
                "filter": {"match_all": {}},
                "aggs": {
                    facet.name: {"filter": {"match_all": {}}, "aggs": facet_aggs(facet, taxonomy)}
                    for facet in FACETS
                },
            },
            "crosstab": crosstab_agg(rows, columns, taxonomy),
            "evidence_by_priority": crosstab_agg(by_rows, by_columns, taxonomy),
            "added": trend_agg(taxonomy),
            "without_date": {"missing": {"field": CREATED_FIELD}},
            "backlog": backlog_agg(today),
        },
    }
    return body, resolved


# -- shaping -------------------------------------------------------------------------


def vocabulary_values(facet: Facet, taxonomy: Taxonomy) -> list[str]:
    """The values a facet can have today, in vocabulary order (shown even at 0, so
    analysts see where the network does *not* innovate). Communities: the active
    ones (the index holds only current ids). Free-valued facets: none."""
    if facet.vocabulary is None:
        return []
    if facet.vocabulary == "communities":
        return [term.id for term in taxonomy.active_communities()]
    return [term.id for term in taxonomy.terms(facet.vocabulary)]


def value_label(facet: Facet, value: str, taxonomy: Taxonomy, lang: str) -> str:
    """The label of ``value`` in ``lang``; ordinal levels are prefixed with their number
    (``"2 – Bereik en output gemonitord"``), "unknown" gets :data:`UNKNOWN_LABEL`."""
    if value == UNKNOWN_VALUE and facet.count_missing:
        return UNKNOWN_LABEL.get(lang, UNKNOWN_LABEL["nl"])
    if facet.vocabulary is None:
        return value
    label = facet.label(taxonomy, value, lang)
    return f"{value} – {label}" if facet.at_least else label


def _counts(facet: Facet, agg: dict, taxonomy: Taxonomy) -> dict[str, int]:
    """``{value: count}`` from a :func:`facet_aggs` result, vocabulary values at 0 too."""
    counts = dict.fromkeys(vocabulary_values(facet, taxonomy), 0)
    for bucket in agg.get("values", {}).get("buckets", []):
        counts[str(bucket["key"])] = bucket["doc_count"]
    if facet.count_missing:
        counts[UNKNOWN_VALUE] = agg.get("missing", {}).get("doc_count", 0)
    return counts


def ordered_values(facet: Facet, counts: dict[str, int], taxonomy: Taxonomy, lang: str) -> list:
    """``[{"value", "label", "count"}]`` in the facet's order (as on the search page):
    ordered vocabularies keep their order ("unknown" last), others sort by count
    (high first), then label."""
    items = [
        {"value": v, "label": value_label(facet, v, taxonomy, lang), "count": c}
        for v, c in counts.items()
    ]
    return sort_facet_values(facet, items, taxonomy)


def shape_crosstab(agg: dict, rows: Facet, columns: Facet, taxonomy: Taxonomy, lang: str) -> dict:
    """A :func:`crosstab_agg` result as a table.

    Returns:
        ``{"rows": name, "columns": name, "row_values": [{"value", "label",
        "total", "counts": [int, …]}], "column_values": [{"value", "label",
        "count"}], "max": int}``; ``counts`` follows ``column_values``; a row's
        ``total`` and a column's ``count`` are the innovations with that value
        (for multi-valued facets not the sum of the cells); ``max`` is the largest
        cell (for heat-map shading).
    """
    columns_out = ordered_values(
        columns, _counts(columns, agg["columns"], taxonomy), taxonomy, lang
    )
    order = [item["value"] for item in columns_out]
    per_row: dict[str, dict[str, int]] = {}
    row_totals: dict[str, int] = dict.fromkeys(vocabulary_values(rows, taxonomy), 0)
    for bucket in agg["rows"]["buckets"]:
        per_row[str(bucket["key"])] = _counts(columns, bucket, taxonomy)
        row_totals[str(bucket["key"])] = bucket["doc_count"]
    if rows.count_missing:
        missing = agg.get("missing_row", {})
        row_totals[UNKNOWN_VALUE] = missing.get("doc_count", 0)
        per_row[UNKNOWN_VALUE] = _counts(columns, missing, taxonomy)
    rows_out = ordered_values(rows, row_totals, taxonomy, lang)
    for item in rows_out:
        cells = per_row.get(item["value"], {})
        item["total"] = item.pop("count")
        item["counts"] = [cells.get(value, 0) for value in order]
    cells_max = max((c for item in rows_out for c in item["counts"]), default=0)
    return {
        "rows": rows.name,
        "columns": columns.name,
        "row_values": rows_out,
        "column_values": columns_out,
        "max": cells_max,
    }


def quarter_of(day: dt.date) -> str:
    """``"2024-Q2"`` for a day in April–June 2024."""
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def shape_trend(agg: dict, without_date: int, taxonomy: Taxonomy, lang: str) -> dict:
    """The per-quarter histogram as ``{"phases": [{"value", "label"}], "quarters":
    [{"quarter": "2017-Q1", "start": "2017-01-01", "count": int, "by_phase":
    {phase: int}}], "without_date": int}``, oldest quarter first; ``by_phase`` is the
    *current* phase of the innovations added in that quarter (the registry keeps no
    phase history)."""
    phase = FACETS_BY_NAME[TREND_FACET]
    phases = [
        {"value": v, "label": value_label(phase, v, taxonomy, lang)}
        for v in vocabulary_values(phase, taxonomy)
    ]
    quarters = []
    for bucket in agg.get("buckets", []):
        start = dt.date.fromisoformat(bucket["key_as_string"][:10])
        counts = _counts(phase, bucket, taxonomy)
        quarters.append(
            {
                "quarter": quarter_of(start),
                "start": start.isoformat(),
                "count": bucket["doc_count"],
                "by_phase": {item["value"]: counts.get(item["value"], 0) for item in phases},
            }
        )
    return {"phases": phases, "quarters": quarters, "without_date": without_date}


def shape_backlog(agg: dict, today: dt.date, taxonomy: Taxonomy, lang: str) -> dict:
    """The backlog as ``{"as_of", "cutoff" (ISO dates), "months": int, "count": int,
    "records": [{"id", "title", "organisation", "province", "province_label",
    "last_verified"}]}`` with the oldest verification first (never verified first
    of all); ``count`` is complete, ``records`` holds at most
    :data:`BACKLOG_LIST_SIZE`."""
    records = []
    for hit in agg["oldest"]["hits"]["hits"]:
        src = hit["_source"]
        records.append(
            {
                "id": src["id"],
                "title": src["title"],
                "organisation": src.get("organisation"),
                "province": src.get("province"),
                "province_label": taxonomy.label("provinces", src.get("province") or "", lang),
                "last_verified": src.get("last_verified"),
            }
        )
    return {
        "as_of": today.isoformat(),
        "cutoff": backlog_cutoff(today).isoformat(),
        "months": BACKLOG_MONTHS,
        "count": agg["doc_count"],
        "records": records,
    }


def shape_stats(
    response: dict,
    taxonomy: Taxonomy,
    lang: str,
    crosstab: tuple[str, str],
    today: dt.date,
) -> dict:
    """The statistics of one :func:`build_stats_body` response.

    Returns:
        ``{"total": int, "statuses": {status: int}, "facets": {name: [{"value",
        "label", "count"}]}, "crosstab": …, "evidence_by_priority": …, "added":
        …, "backlog": …}`` with the shapes of :func:`ordered_values`,
        :func:`shape_crosstab`, :func:`shape_trend` and :func:`shape_backlog`;
        labels in ``lang``.
    """
    aggs = response["aggregations"]
    facets = {
        facet.name: ordered_values(
            facet, _counts(facet, aggs["facets"][facet.name], taxonomy), taxonomy, lang
        )
        for facet in FACETS
    }
    rows, columns = (FACETS_BY_NAME[name] for name in crosstab)
    by_rows, by_columns = (FACETS_BY_NAME[name] for name in EVIDENCE_BY)
    return {
        "total": response["hits"]["total"]["value"],
        "statuses": {b["key"]: b["doc_count"] for b in aggs["status"]["buckets"]},
        "facets": facets,
        "crosstab": shape_crosstab(aggs["crosstab"], rows, columns, taxonomy, lang),
        "evidence_by_priority": shape_crosstab(
            aggs["evidence_by_priority"], by_rows, by_columns, taxonomy, lang
        ),
        "added": shape_trend(aggs["added"], aggs["without_date"]["doc_count"], taxonomy, lang),
        "backlog": shape_backlog(aggs["backlog"], today, taxonomy, lang),
    }

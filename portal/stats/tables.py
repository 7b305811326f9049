"""The statistics as tables: one source for the HTML data tables, the charts drawn from
them (``static/stats.js`` reads the table) and the CSV downloads.

A :class:`Table` has a caption, a header, rows of ``(row label, cells)`` and the
columns a chart draws; :func:`stats_tables` and :func:`analytics_tables` build
them from the shapes of :mod:`.aggregations` and :mod:`.service`, and
:func:`csv_response` writes one as CSV.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cache

from flask import Response
from flask_babel import gettext as _

from .. import csv_writer
from ..search.facets import FACETS, FACETS_BY_NAME


@dataclass(frozen=True)
class Table:
    """One data table.

    Attributes:
        name: slug: the ``view`` of ``/statistieken/export.csv`` and the HTML id.
        caption: what the table shows (``<caption>``).
        header: column titles; ``header[0]`` titles the row labels.
        rows: ``(row label, cells)``; cells are ints or strings.
        series: indexes into ``cells`` that are counts a chart draws (and a heat
            map shades).
        heat_max: largest shaded cell; > 0 makes the table a heat map.
        keys: per row, the value or id behind the label (links, tests).
        column_keys: per cell column, the value behind its title (``data-key``).
    """

    name: str
    caption: str
    header: list[str]
    rows: list[tuple[str, list]]
    series: tuple[int, ...] = ()
    heat_max: int = 0
    keys: list[str] = field(default_factory=list)
    column_keys: list[str] = field(default_factory=list)

    def heat_level(self, value: int) -> int:
        """Shade 0–5 of a heat-map cell: 0 only for 0, else proportional to the maximum."""
        if not self.heat_max or value <= 0:
            return 0
        return max(1, round(5 * value / self.heat_max))


def facet_title(name: str) -> str:
    """The facet's UI title (e.g. ``"Fase"``)."""
    return str(FACETS_BY_NAME[name].title)


def facet_table(name: str, items: list[dict]) -> Table:
    """Innovations per value of facet ``name`` (items of :func:`.ordered_values`)."""
    return Table(
        name=f"facet-{name}",
        caption=_("Innovations per %(facet)s", facet=facet_title(name).lower()),
        header=[facet_title(name), _("Innovations")],
        rows=[(item["label"], [item["count"]]) for item in items],
        series=(0,),
        keys=[item["value"] for item in items],
        column_keys=["count"],
    )


def crosstab_table(name: str, crosstab: dict, caption: str) -> Table:
    """A cross-tab (:func:`.shape_crosstab`) with a total column (not shaded)."""
    rows_title = facet_title(crosstab["rows"])
    columns_title = facet_title(crosstab["columns"])
    columns = crosstab["column_values"]
    return Table(
        name=name,
        caption=caption,
        header=[
            f"{rows_title} \\ {columns_title}",
            *(item["label"] for item in columns),
            _("Total"),
        ],
        rows=[(item["label"], [*item["counts"], item["total"]]) for item in crosstab["row_values"]],
        series=tuple(range(len(columns))),
        heat_max=crosstab["max"],
        keys=[item["value"] for item in crosstab["row_values"]],
        column_keys=[*(item["value"] for item in columns), "total"],
    )


def trend_table(added: dict) -> Table:
    """Innovations added per quarter, split by current phase, with the quarter's total."""
    phases = added["phases"]
    return Table(
        name="added-per-quarter",
        caption=_("Innovations added per quarter, by current phase"),
        header=[_("Quarter"), *(item["label"] for item in phases), _("Total")],
        rows=[
            (q["quarter"], [*(q["by_phase"][p["value"]] for p in phases), q["count"]])
            for q in added["quarters"]
        ],
        series=tuple(range(len(phases))),
        keys=[q["quarter"] for q in added["quarters"]],
        column_keys=[*(item["value"] for item in phases), "total"],
    )


def backlog_table(backlog: dict) -> Table:
    """The published innovations whose verification is overdue, oldest first."""
    return Table(
        name="verification-backlog",
        caption=_(
            "Published innovations not verified since %(cutoff)s (oldest first)",
            cutoff=backlog["cutoff"],
        ),
        header=[_("Innovation"), _("Organisation"), _("Province"), _("Last verified")],
        column_keys=["organisation", "province", "last_verified"],
        rows=[
            (
                r["title"],
                [r["organisation"] or "", r["province_label"], r["last_verified"] or _("never")],
            )
            for r in backlog["records"]
        ],
        keys=[r["id"] for r in backlog["records"]],
    )


def stats_tables(stats: dict) -> dict[str, Table]:
    """Every table of the statistics (:func:`.service.facet_statistics`), by name:
    ``facet-<name>`` per facet, ``crosstab``, ``evidence-by-priority``,
    ``added-per-quarter``, ``verification-backlog``."""
    tables = [facet_table(facet.name, stats["facets"][facet.name]) for facet in FACETS]
    crosstab = stats["crosstab"]
    tables.append(
        crosstab_table(
            "crosstab",
            crosstab,
            _(
                "Innovations per %(rows)s and %(columns)s",
                rows=facet_title(crosstab["rows"]).lower(),
                columns=facet_title(crosstab["columns"]).lower(),
            ),
        )
    )
    tables.append(
        crosstab_table(
            "evidence-by-priority",
            stats["evidence_by_priority"],
            _("Evidence level per priority"),
        )
    )
    tables.append(trend_table(stats["added"]))
    tables.append(backlog_table(stats["backlog"]))
    return {table.name: table for table in tables}


def analytics_tables(analytics: dict) -> dict[str, Table]:
    """The search-analytics tables of one month (:func:`.service.search_analytics`):
    ``top-queries``, ``zero-result-queries``, ``facet-usage``."""
    month = analytics["month"]

    def queries(name: str, items: list[dict], caption: str) -> Table:
        return Table(
            name=name,
            caption=caption,
            header=[_("Search words"), _("Searches"), _("Hits (latest search)")],
            rows=[(item["q"], [item["count"], item["last_total"]]) for item in items],
            series=(0,),
            keys=[item["q"] for item in items],
            column_keys=["count", "last_total"],
        )

    usage_rows, usage_keys = [], []
    for item in analytics["facets"]:
        title = facet_title(item["facet"])
        usage_rows.append((title, [_("(any value)"), item["searches"]]))
        usage_keys.append(item["facet"])
        for value in item["values"]:
            usage_rows.append((title, [value["label"], value["count"]]))
            usage_keys.append(f"{item['facet']}={value['value']}")
    return {
        "top-queries": queries(
            "top-queries",
            analytics["top_queries"],
            _("Most frequent search words in %(month)s", month=month),
        ),
        "zero-result-queries": queries(
            "zero-result-queries",
            analytics["zero_result_queries"],
            _("Search words without results in %(month)s", month=month),
        ),
        "facet-usage": Table(
            name="facet-usage",
            caption=_("Filters used in %(month)s", month=month),
            header=[_("Facet"), _("Value"), _("Searches")],
            rows=usage_rows,
            keys=usage_keys,
            column_keys=["value", "count"],
        ),
    }


ANALYTICS_TABLES = ("top-queries", "zero-result-queries", "facet-usage")
"""The search-analytics tables' names (valid ``view`` values of the CSV download)."""

FIXED_STATS_TABLES = (
    "crosstab",
    "evidence-by-priority",
    "added-per-quarter",
    "verification-backlog",
)
"""The statistics tables that do not come from one facet each."""


def stats_table_names() -> tuple[str, ...]:
    """Every statistics table's name: ``facet-<name>`` per facet of
    :data:`~portal.search.facets.FACETS` as declared now, then
    :data:`FIXED_STATS_TABLES`.

    Derived at the call, not at import, so a facet declared at run time (a test's) has
    its table; the work is cached per facet tuple."""
    return _stats_table_names(FACETS)


@cache
def _stats_table_names(facets: tuple) -> tuple[str, ...]:
    return (*(f"facet-{facet.name}" for facet in facets), *FIXED_STATS_TABLES)


def table_names() -> tuple[str, ...]:
    """Every valid ``view`` of the CSV download: :func:`stats_table_names`, then
    :data:`ANALYTICS_TABLES`."""
    return stats_table_names() + ANALYTICS_TABLES


def csv_text(table: Table) -> str:
    """``table`` as CSV text: the header, then one line per row (label first); search
    words typed by the public are guarded against formulas by :mod:`portal.csv_writer`."""
    return csv_writer.csv_text([table.header, *([label, *cells] for label, cells in table.rows)])


def csv_response(table: Table, today: dt.date | None = None) -> Response:
    """A CSV download of ``table``: UTF-8 with BOM (spreadsheets then read diacritics
    right), named ``innovatiebieb-<table name>-<date>.csv``."""
    stamp = (today or dt.date.today()).isoformat()
    response = Response(
        csv_writer.BOM + csv_text(table), content_type="text/csv; charset=utf-8"
    )  # content_type: Flask would append a second charset to a text/csv mimetype
    response.headers["Content-Disposition"] = (
        f'attachment; filename="innovatiebieb-{table.name}-{stamp}.csv"'
    )
    return response

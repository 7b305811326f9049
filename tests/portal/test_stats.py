"""Facet statistics and search analytics for analysts, against a real node.

Every expected number is recounted here from ``data/innovations.jsonl`` and
``data/taxonomy.json`` (or from the search-log rows the test itself wrote), never
taken from the code under test; the dashboard's HTML tables, the CSV downloads and
``/api/v1/stats`` are each compared with that recount.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import Counter
from html.parser import HTMLParser

import pytest
from sqlalchemy import select, text

from portal.backends import flush_search_log
from registry.db import transaction
from registry.models import SearchLogEntry
from registry.search_log import log_search
from registry.users import create_user
from tests.conftest import (
    AXE,
    BROWSER_READY,
    SHOTS,
    TAXONOMY_FILE,
    launch_chromium,
    make_registry,
    read_data,
    serve_portal,
)
from tests.helpers import assert_error_answer
from tests.portal.test_access import PASSWORD, browser_for

TAXONOMY = json.loads(TAXONOMY_FILE.read_text("utf-8"))

# facet name -> record field (data/README.md); written out here, not read from FACETS
FIELD_OF = {
    "priority": "priorities",
    "community": "communities",
    "phase": "phase",
    "type": "innovation_type",
    "target": "target_groups",
    "evidence": "evidence_level",
    "province": "province",
    "programme": "programmes",
}
VOCABULARY_OF = {
    "priority": "priorities",
    "community": "communities",
    "phase": "phases",
    "type": "innovation_types",
    "target": "target_groups",
    "evidence": "evidence_levels",
    "province": "provinces",
}


# -- independent recount -------------------------------------------------------------


def member_records() -> list[dict]:
    """What ``innovations-members`` holds: published and archived records."""
    return [r for r in read_data() if r["status"] in ("published", "archived")]


def current_community(community_id: str) -> list[str]:
    """Successors of a community id, following taxonomy.json's links."""
    terms = {t["id"]: t for t in TAXONOMY["communities"]}
    term = terms[community_id]
    if term["status"] == "active":
        return [term["id"]]
    successors = term.get("split_into") or [term.get("merged_into") or term.get("renamed_to")]
    return [c for s in successors for c in current_community(s)]


def values_of(record: dict, facet: str) -> list[str]:
    """The facet values of one record as the statistics count them."""
    raw = record[FIELD_OF[facet]]
    if facet == "evidence":
        return ["unknown" if raw is None else str(raw)]
    values = raw if isinstance(raw, list) else [raw]
    if facet == "community":
        return list(dict.fromkeys(c for v in values for c in current_community(v)))
    return list(dict.fromkeys(values))


def vocabulary(facet: str) -> list[str]:
    """Values a facet shows even at 0: today's vocabulary (active communities)."""
    if facet == "programme":
        return []
    terms = TAXONOMY[VOCABULARY_OF[facet]]
    if facet == "community":
        terms = [t for t in terms if t["status"] == "active"]
    values = [str(t["id"]) for t in terms]
    return values + (["unknown"] if facet == "evidence" else [])


def expected_counts(records: list[dict], facet: str) -> dict[str, int]:
    counts = dict.fromkeys(vocabulary(facet), 0)
    for record in records:
        for value in values_of(record, facet):
            counts[value] = counts.get(value, 0) + 1
    return counts


def expected_crosstab(records: list[dict], rows: str, columns: str) -> dict:
    """``{(row, column): n}`` over every vocabulary pair, plus row and column totals."""
    cells = {(r, c): 0 for r in vocabulary(rows) for c in vocabulary(columns)}
    for record in records:
        for r in values_of(record, rows):
            for c in values_of(record, columns):
                cells[(r, c)] = cells.get((r, c), 0) + 1
    return {
        "cells": cells,
        "rows": expected_counts(records, rows),
        "columns": expected_counts(records, columns),
    }


def quarter(day: str) -> str:
    year, month = int(day[:4]), int(day[5:7])
    return f"{year}-Q{(month + 2) // 3}"


def expected_quarters(records: list[dict]) -> tuple[dict[str, Counter], int]:
    """``({quarter: Counter(phase)}, records without date)``, every quarter from the
    first to the last one present (quiet quarters empty)."""
    dated = [r for r in records if r["created"]]
    found: dict[str, Counter] = {}
    for record in dated:
        found.setdefault(quarter(record["created"]), Counter())[record["phase"]] += 1
    if not found:
        return {}, len(records)
    first, last = min(found), max(found)
    year, q = int(first[:4]), int(first[-1])
    out: dict[str, Counter] = {}
    while f"{year}-Q{q}" <= last:
        out[f"{year}-Q{q}"] = found.get(f"{year}-Q{q}", Counter())
        year, q = (year + 1, 1) if q == 4 else (year, q + 1)
    return out, len(records) - len(dated)


def six_months_before(day: dt.date) -> dt.date:
    """Step back one calendar month at a time; a missing day falls back to the month's
    last day (31 Aug → 28/29 Feb)."""
    year, month = day.year, day.month
    for _ in range(6):
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    for candidate in range(day.day, 27, -1):
        try:
            return dt.date(year, month, candidate)
        except ValueError:
            continue
    return dt.date(year, month, day.day)


def expected_backlog(records: list[dict], today: dt.date) -> list[dict]:
    """Published records last verified more than six months before ``today`` (or never),
    oldest verification first, ties by id."""
    cutoff = six_months_before(today).isoformat()
    overdue = [
        r
        for r in records
        if r["status"] == "published" and (not r["last_verified"] or r["last_verified"] < cutoff)
    ]
    return sorted(overdue, key=lambda r: (r["last_verified"] or "", r["id"]))


def select_records(records: list[dict], selection: dict[str, list[str]]) -> list[dict]:
    """Records matching every selected facet (OR within a facet, AND across)."""
    out = []
    for record in records:
        ok = True
        for facet, wanted in selection.items():
            if facet == "evidence_min":
                level = record["evidence_level"]
                ok = level is not None and level >= int(wanted[0])
            else:
                if facet == "community":
                    wanted = [c for w in wanted for c in current_community(w)]
                ok = bool(set(values_of(record, facet)) & set(wanted))
            if not ok:
                break
        if ok:
            out.append(record)
    return out


# -- fixtures and helpers ------------------------------------------------------------

ROLES = ("member", "editor", "analyst", "admin")


@pytest.fixture(scope="module")
def site(tmp_path_factory, loaded):
    """The portal over the shared real-data index, with its own registry (users, and a
    search log no other test writes to)."""
    from portal import create_app

    url, factory = make_registry(tmp_path_factory.mktemp("stats"))
    with transaction(factory) as session:
        for role in ROLES:
            create_user(session, f"{role}@bieb.example", role, PASSWORD)
    config = {
        "TESTING": True,
        "DATABASE_URL": url,
        "OPENSEARCH_URL": loaded["opensearch_url"],
        "INDEX_PREFIX": loaded["names"].prefix,
        "SECRET_KEY": "stats-test",
        "WTF_CSRF_ENABLED": False,
    }
    return {"app": create_app(config), "config": config, "factory": factory, "url": url}


@pytest.fixture(scope="module")
def analyst(site):
    return browser_for(site, "analyst")


def clear_search_log(site) -> None:
    assert flush_search_log(site["app"])  # rows still queued by earlier searches
    with transaction(site["factory"]) as session:
        session.execute(text("DELETE FROM search_log"))


def logged_rows(site) -> list[SearchLogEntry]:
    assert flush_search_log(site["app"])  # the log is written in batches, off the request
    with site["factory"]() as session:
        return list(session.scalars(select(SearchLogEntry).order_by(SearchLogEntry.id)))


class TableParser(HTMLParser):
    """Every ``<table>`` of a page: caption, header (with ``data-key``), rows (with
    ``data-key``, row label, cells as text or ``data-value``)."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, dict] = {}
        self._table = self._row = self._cell = None
        self._caption = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._table = {"caption": "", "header": [], "column_keys": [], "rows": []}
            self.tables[attrs["id"]] = self._table
        elif self._table is None:
            return
        elif tag == "caption":
            self._caption = True
        elif tag == "tr":
            self._row = {"key": attrs.get("data-key"), "cells": []}
        elif tag in ("th", "td"):
            self._cell = {"text": "", **attrs, "tag": tag}

    def handle_endtag(self, tag):
        if self._table is None:
            return
        if tag == "table":
            self._table = None
        elif tag == "caption":
            self._caption = False
        elif tag in ("th", "td") and self._cell is not None:
            self._cell["text"] = " ".join(self._cell["text"].split())
            self._row["cells"].append(self._cell)
            self._cell = None
        elif tag == "tr" and self._row is not None:
            cells = self._row["cells"]
            if all(c.get("scope") == "col" for c in cells):
                self._table["header"] = [c["text"] for c in cells]
                self._table["column_keys"] = [c.get("data-key") for c in cells[1:]]
            elif cells and cells[0].get("scope") == "row":
                values = [
                    int(c["data-value"]) if "data-value" in c else c["text"] for c in cells[1:]
                ]
                self._table["rows"].append((self._row["key"], cells[0]["text"], values))
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell["text"] += data
        elif self._caption:
            self._table["caption"] += data


def page_tables(html: str) -> dict[str, dict]:
    parser = TableParser()
    parser.feed(html)
    return parser.tables


def query_of(selection: dict[str, list[str]], **extra) -> list[tuple[str, str]]:
    return [(k, v) for k, values in selection.items() for v in values] + list(extra.items())


def keyed(table: dict, column: int = 0) -> dict[str, int]:
    """``{row key: cell}`` of one column of a parsed table."""
    return {key: cells[column] for key, _label, cells in table["rows"]}


def cells_of(table: dict) -> dict[tuple[str, str], int]:
    """``{(row key, column key): n}`` of a parsed cross-tab, the total column left out."""
    out = {}
    for key, _label, cells in table["rows"]:
        for column, value in zip(table["column_keys"], cells, strict=True):
            if column != "total":
                out[(key, column)] = value
    return out


def nonzero(cells: dict) -> dict:
    return {k: v for k, v in cells.items() if v}


# -- the selections the numbers are checked for --------------------------------------

SELECTIONS = [
    pytest.param({}, ("priority", "phase"), id="everything"),
    pytest.param(
        {
            "province": ["zuid-holland", "noord-brabant", "landelijk"],
            "phase": ["idee", "experiment"],
        },
        ("community", "evidence"),
        id="provinces-and-phases",
    ),
    pytest.param(
        # a historical community id resolves to its successor, as on the search page
        {"community": ["basisvaardigheden"], "evidence_min": ["1"]},
        ("evidence", "province"),
        id="merged-community-and-evidence",
    ),
    pytest.param(
        {"priority": ["jeugd-onderwijs"], "target": ["kinderen", "jongeren"]},
        ("target", "target"),
        id="priority-and-targets",
    ),
]


def check_api_against(result: dict, records: list[dict], crosstab: tuple[str, str]) -> None:
    """Every number of an ``/api/v1/stats`` result against a recount of ``records``."""
    assert result["total"] == len(records)
    assert result["statuses"] == dict(Counter(r["status"] for r in records))
    assert set(result["facets"]) == set(FIELD_OF)
    for facet in FIELD_OF:
        got = {item["value"]: item["count"] for item in result["facets"][facet]}
        assert got == expected_counts(records, facet), facet

    for key, (rows, columns) in (("crosstab", crosstab), ("evidence_by_priority", EVIDENCE)):
        table = result[key]
        assert (table["rows"], table["columns"]) == (rows, columns)
        expected = expected_crosstab(records, rows, columns)
        column_values = [item["value"] for item in table["column_values"]]
        got_cells = {
            (row["value"], column): count
            for row in table["row_values"]
            for column, count in zip(column_values, row["counts"], strict=True)
        }
        assert nonzero(got_cells) == nonzero(expected["cells"]), key
        assert {r["value"]: r["total"] for r in table["row_values"]} == expected["rows"], key
        assert {c["value"]: c["count"] for c in table["column_values"]} == expected["columns"]
        assert table["max"] == max(expected["cells"].values(), default=0)

    quarters, without_date = expected_quarters(records)
    phases = [str(t["id"]) for t in TAXONOMY["phases"]]
    assert [p["value"] for p in result["added"]["phases"]] == phases
    assert [q["quarter"] for q in result["added"]["quarters"]] == list(quarters)
    for item in result["added"]["quarters"]:
        by_phase = quarters[item["quarter"]]
        assert item["count"] == sum(by_phase.values())
        assert item["by_phase"] == {p: by_phase.get(p, 0) for p in phases}
    assert result["added"]["without_date"] == without_date

    today = dt.date.today()
    backlog = expected_backlog(records, today)
    assert result["backlog"]["cutoff"] == six_months_before(today).isoformat()
    assert result["backlog"]["count"] == len(backlog)
    assert [r["id"] for r in result["backlog"]["records"]] == [r["id"] for r in backlog][:100]
    assert [r["last_verified"] for r in result["backlog"]["records"]] == [
        r["last_verified"] for r in backlog
    ][:100]


EVIDENCE = ("priority", "evidence")


@pytest.mark.parametrize("selection, crosstab", SELECTIONS)
def test_api_numbers_equal_a_recount_of_the_data_file(analyst, selection, crosstab):
    records = select_records(member_records(), selection)
    if selection:
        assert 3 <= len(records) < len(member_records()), "a subset that can tell filters apart"
    rows, columns = crosstab
    response = analyst.get(
        "/api/v1/stats", query_string=query_of(selection, rows=rows, columns=columns)
    )
    assert response.status_code == 200, response.data
    result = response.get_json()
    assert result["audience"] == "members"
    assert result["query"]["filters"] == {
        {"evidence_min": "evidence"}.get(k, k): v for k, v in selection.items()
    }
    check_api_against(result, records, crosstab)


def test_the_whole_data_set_has_archived_innovations_and_a_backlog(analyst):
    # guards the recount tests above against passing on trivial data
    result = analyst.get("/api/v1/stats").get_json()
    assert result["statuses"]["archived"] >= 1
    assert result["backlog"]["count"] >= 1
    quarters, _without_date = expected_quarters(member_records())
    assert len(result["added"]["quarters"]) == len(quarters) > 1


def test_query_text_narrows_to_the_search_pages_result_set(analyst):
    """``q`` selects the innovations the search page finds for the analyst."""
    for params in ({"q": "lezen"}, {"q": "lezen", "phase": "beschikbaar"}):
        found = analyst.get("/api/v1/search", query_string={**params, "size": 100}).get_json()
        assert 0 < found["total"] <= 100
        ids = {hit["id"] for hit in found["hits"]}
        records = [r for r in member_records() if r["id"] in ids]
        result = analyst.get("/api/v1/stats", query_string=params).get_json()
        assert result["query"]["q"] == "lezen"
        check_api_against(result, records, ("priority", "phase"))


def test_a_historical_community_gives_a_notice(analyst):
    result = analyst.get("/api/v1/stats?community=basisvaardigheden").get_json()
    assert result["notices"] and "Basisvaardigheden" in result["notices"][0]


STAT_TABLES = {
    *(f"table-facet-{name}" for name in FIELD_OF),
    "table-crosstab",
    "table-evidence-by-priority",
    "table-added-per-quarter",
    "table-verification-backlog",
}
ANALYTICS_TABLES = {"table-top-queries", "table-zero-result-queries", "table-facet-usage"}


def check_dashboard_against(html: str, records: list[dict], crosstab: tuple[str, str]) -> dict:
    """Every number in the dashboard's tables against a recount of ``records``."""
    tables = page_tables(html)
    assert set(tables) == STAT_TABLES | ANALYTICS_TABLES, "a table without a check"
    for facet in FIELD_OF:
        table = tables[f"table-facet-{facet}"]
        assert keyed(table) == expected_counts(records, facet), facet
        assert table["caption"] and len(table["header"]) == 2
    for name, (rows, columns) in (("crosstab", crosstab), ("evidence-by-priority", EVIDENCE)):
        table = tables[f"table-{name}"]
        expected = expected_crosstab(records, rows, columns)
        assert nonzero(cells_of(table)) == nonzero(expected["cells"]), name
        assert keyed(table, -1) == expected["rows"], name
        assert set(table["column_keys"]) == {*expected["columns"], "total"}, name
    quarters, _ = expected_quarters(records)
    trend = tables["table-added-per-quarter"]
    assert [key for key, _label, _cells in trend["rows"]] == list(quarters)
    for key, _label, cells in trend["rows"]:
        phase_cells = dict(zip(trend["column_keys"], cells, strict=True))
        assert phase_cells.pop("total") == sum(quarters[key].values())
        assert phase_cells == {p: quarters[key].get(p, 0) for p in phase_cells}
    backlog = expected_backlog(records, dt.date.today())
    listed = tables["table-verification-backlog"]["rows"]
    assert [key for key, _label, _cells in listed] == [r["id"] for r in backlog][:100]
    assert [cells[-1] for _key, _label, cells in listed] == [r["last_verified"] for r in backlog][
        :100
    ]
    assert f'<p class="big-number">{len(backlog)}</p>' in html
    published = sum(r["status"] == "published" for r in records)
    archived = sum(r["status"] == "archived" for r in records)
    assert f"{len(records)} innovaties" in html
    assert f"{published} gepubliceerd, {archived} gearchiveerd" in html
    return tables


@pytest.mark.parametrize("selection, crosstab", SELECTIONS[:3])
def test_dashboard_numbers_equal_a_recount_of_the_data_file(analyst, selection, crosstab):
    records = select_records(member_records(), selection)
    rows, columns = crosstab
    response = analyst.get(
        "/statistieken", query_string=query_of(selection, rows=rows, columns=columns)
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    check_dashboard_against(html, records, crosstab)
    # one figure (chart) per charted table, each pointing at its table
    for name in ("facet-priority", "evidence-by-priority", "added-per-quarter", "facet-province"):
        assert f'data-table="table-{name}"' in html


def test_csv_downloads_hold_the_dashboards_tables(analyst):
    selection = {"province": ["zuid-holland", "noord-brabant"], "phase": ["idee", "experiment"]}
    params = query_of(selection, rows="community", columns="evidence")
    html = analyst.get("/statistieken", query_string=params).get_data(as_text=True)
    tables = page_tables(html)
    for table_id, table in tables.items():
        view = table_id.removeprefix("table-")
        response = analyst.get("/statistieken/export.csv", query_string=[*params, ("view", view)])
        assert response.status_code == 200, view
        assert response.mimetype == "text/csv"
        assert f"innovatiebieb-{view}-" in response.headers["Content-Disposition"]
        body = response.get_data(as_text=True)
        assert body.startswith("\ufeff")
        lines = list(csv.reader(io.StringIO(body.removeprefix("\ufeff"))))
        assert lines[0] == table["header"], view
        expected = [[label, *(str(c) for c in cells)] for _key, label, cells in table["rows"]]
        assert lines[1:] == expected, view
    records = select_records(member_records(), selection)
    phase_csv = analyst.get(
        "/statistieken/export.csv", query_string=[*params, ("view", "facet-phase")]
    ).get_data(as_text=True)
    counts = expected_counts(records, "phase")
    assert f"Breed beschikbaar,{counts['beschikbaar']}" in phase_csv
    assert f"Idee,{counts['idee']}" in phase_csv


def test_english_labels(analyst):
    result = analyst.get("/api/v1/stats?lang=en").get_json()
    labels = {item["value"]: item["label"] for item in result["facets"]["phase"]}
    assert labels == {t["id"]: t["short_en"] for t in TAXONOMY["phases"]}
    html = analyst.get("/statistieken?lang=en").get_data(as_text=True)
    assert "<h1>Statistics</h1>" in html and "Verification backlog" in html


# -- bad parameters and access -------------------------------------------------------


@pytest.mark.parametrize(
    "query, code, field",
    [
        ("rows=bestaat-niet", "unknown_facet", "rows"),
        ("columns=communities", "unknown_facet", "columns"),
        ("month=2026-13", "invalid_month", "month"),
        ("month=november", "invalid_month", "month"),
        ("month=9999-12", "invalid_month", "month"),
        ("month=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94-05", "invalid_month", "month"),
        ("evidence_min=9", "invalid_evidence_min", "evidence_min"),
        ("phase=bestaat-niet", "unknown_value", "phase"),
        ("q=" + "x" * 501, "q_too_long", "q"),
    ],
)
def test_bad_parameters_answer_400_with_an_error_body(analyst, query, code, field):
    assert_error_answer(analyst.get(f"/api/v1/stats?{query}"), code, field)
    page = analyst.get(f"/statistieken?{query}")
    assert page.status_code == 400 and "Traceback" not in page.get_data(as_text=True)


def test_unknown_csv_view_is_400(analyst):
    response = analyst.get("/statistieken/export.csv?view=alles")
    assert response.status_code == 400
    assert "facet-priority" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "path", ["/statistieken", "/statistieken/export.csv?view=facet-phase", "/api/v1/stats"]
)
def test_only_analysts_and_admins_get_statistics(site, path):
    anonymous = browser_for(site, None).get(path)
    if path.startswith("/api/"):
        assert anonymous.status_code == 401
        assert anonymous.get_json()["error"]["code"] == "unauthorized"
    else:
        assert anonymous.status_code == 302
        assert anonymous.headers["Location"].startswith("/login?next=")
    for role in ("member", "editor"):
        assert browser_for(site, role).get(path).status_code == 403, role
    for role in ("analyst", "admin"):
        assert browser_for(site, role).get(path).status_code == 200, role


def test_the_statistics_link_shows_for_analysts_only(site):
    for role, shown in (("member", False), ("editor", False), ("analyst", True), ("admin", True)):
        html = browser_for(site, role).get("/zoeken").get_data(as_text=True)
        assert ('href="/statistieken"' in html) is shown, role
    assert 'href="/statistieken"' not in browser_for(site, None).get("/").get_data(as_text=True)


def test_the_dashboard_has_no_inline_script_and_labelled_tables(analyst):
    import re

    html = analyst.get("/statistieken").get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert "/static/vendor/chart.umd.min.js" in html and "cdn" not in html.lower()
    assert html.count("<caption") == len(STAT_TABLES | ANALYTICS_TABLES)
    assert 'style="' not in html  # the CSP (style-src 'self') would drop it


def test_the_vendored_chart_library_is_served_with_its_licence(site):
    response = browser_for(site, None).get("/static/vendor/chart.umd.min.js")
    assert response.status_code == 200
    head = response.get_data(as_text=True)[:300]
    assert "Chart.js v4" in head and "MIT License" in head
    response.close()


# -- search analytics ----------------------------------------------------------------


def test_public_searches_are_logged_without_personal_data(site):
    clear_search_log(site)
    visitor = browser_for(site, None)
    address = visitor.environ_base["REMOTE_ADDR"]
    zeeland_ideas = [
        r
        for r in read_data()
        if r["status"] == "published" and r["phase"] == "idee" and r["province"] == "zeeland"
    ]
    # the log row is written when the server closes the response (after sending it),
    # so each response is closed here as a WSGI server does
    assert served(visitor, "/zoeken?phase=idee&province=zeeland").status_code == 200
    api = served(visitor, "/api/v1/search?q=Lezen%20%20op+school&phase=experiment").get_json()
    assert served(visitor, "/zoeken?q=qqxyzzyqq").status_code == 200
    assert served(visitor, "/zoeken?q=lezen&evidence_min=2&lang=en").status_code == 200
    # not logged: later pages, feeds, cursors, exports, autocomplete, bad requests
    for path in (
        "/zoeken?q=lezen&size=1&page=2",
        "/feed.atom?q=lezen",
        "/api/v1/search?q=lezen&cursor=start",
        "/api/v1/export?q=lezen",
        "/api/v1/autocomplete?q=lez",
        "/zoeken?q=lezen&size=1000",
    ):
        visitor.get(path).close()
    # not logged: anyone logged in (a member is a person we know)
    for role in ROLES:
        browser_for(site, role).get("/zoeken?q=ingelogd").close()
        browser_for(site, role).get("/api/v1/search?q=ingelogd").close()

    rows = logged_rows(site)
    assert [(r.q, r.filters, r.total) for r in rows] == [
        ("", {"phase": ["idee"], "province": ["zeeland"]}, len(zeeland_ideas)),
        ("lezen op school", {"phase": ["experiment"]}, api["total"]),
        ("qqxyzzyqq", {}, 0),
        ("lezen", {"evidence": ["2"]}, rows[3].total),
    ]
    assert rows[3].total > 0
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    for row in rows:
        assert isinstance(row.took_ms, int) and 0 <= row.took_ms < 60_000
        assert abs((now - row.at.replace(tzinfo=None)).total_seconds()) < 120
    columns = {c.name for c in SearchLogEntry.__table__.columns}
    assert columns == {"id", "at", "q", "filters", "total", "took_ms"}
    dumped = json.dumps([[r.q, r.filters] for r in rows])
    assert address not in dumped and "@" not in dumped


def served(http, path: str):
    """GET ``path`` and close the response, as a WSGI server does after sending it."""
    response = http.get(path)
    response.get_data()
    response.close()
    return response


def test_a_search_log_failure_never_fails_the_search(tmp_path, loaded, caplog):
    from portal import create_app

    url, factory = make_registry(tmp_path)
    with transaction(factory) as session:
        session.execute(text("DROP TABLE search_log"))
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": url,
            "OPENSEARCH_URL": loaded["opensearch_url"],
            "INDEX_PREFIX": loaded["names"].prefix,
            "SECRET_KEY": "stats-test",
        }
    )
    http = app.test_client()
    assert served(http, "/zoeken?q=lezen").status_code == 200
    response = served(http, "/api/v1/search?q=lezen")
    assert response.status_code == 200 and response.get_json()["total"] > 0
    assert flush_search_log(app)
    assert "search log: could not record a search" in caplog.text


OCTOBER = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
LOGGED = [
    # (days after 1 October 2026 00:00 UTC, q, filters, total)
    (0, "lezen", {}, 40),
    (1, "Lezen", {"phase": ["idee"]}, 5),
    (2, "lezen", {"phase": ["idee", "experiment"], "province": ["zeeland"]}, 3),
    (3, "makerspace", {}, 7),
    (4, "makerspace", {"evidence": ["2"]}, 1),
    (5, "qqxyzzy", {}, 0),
    (6, "qqxyzzy", {"phase": ["beschikbaar"]}, 0),
    (7, "ontbrekend", {}, 0),
    (8, "", {"province": ["zeeland"]}, 8),
    (9, "=hyperlink(1)", {}, 0),
    (30.99, "laatste seconden", {}, 2),  # 31 October, 23:45 UTC
    (-0.01, "september", {}, 1),  # 30 September
    (31, "november", {"priority": ["jeugd-onderwijs"]}, 9),  # 1 November 00:00
]


@pytest.fixture
def logged_october(site):
    clear_search_log(site)
    with transaction(site["factory"]) as session:
        for days, q, filters, total in LOGGED:
            log_search(session, q, filters, total, 12, at=OCTOBER + dt.timedelta(days=days))
    october = [
        entry for entry in LOGGED if OCTOBER <= OCTOBER + dt.timedelta(days=entry[0]) < NOVEMBER
    ]
    return october


NOVEMBER = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def expected_analytics(entries: list[tuple]) -> dict:
    queries = Counter(q.lower() for _d, q, _f, _t in entries if q)
    zero = Counter(q.lower() for _d, q, _f, total in entries if q and total == 0)
    usage: Counter = Counter()
    values: Counter = Counter()
    for _d, _q, filters, _t in entries:
        for facet, selected in filters.items():
            usage[facet] += 1
            values.update((facet, v) for v in selected)
    return {"queries": queries, "zero": zero, "usage": usage, "values": values}


def test_search_analytics_numbers_equal_a_recount_of_the_log(analyst, logged_october):
    expected = expected_analytics(logged_october)
    log = analyst.get("/api/v1/stats?month=2026-10").get_json()["search_log"]
    assert log["month"] == "2026-10"
    assert log["months"] == ["2026-11", "2026-10", "2026-09"]
    assert log["searches"] == len(logged_october)
    assert log["with_query"] == sum(bool(e[1]) for e in logged_october)
    assert log["zero_results"] == sum(e[3] == 0 for e in logged_october)
    assert {(i["q"], i["count"]) for i in log["top_queries"]} == set(expected["queries"].items())
    counts = [i["count"] for i in log["top_queries"]]
    assert counts == sorted(counts, reverse=True)
    assert log["top_queries"][0] == {"q": "lezen", "count": 3, "last_total": 3}
    assert {(i["q"], i["count"]) for i in log["zero_result_queries"]} == set(
        expected["zero"].items()
    )
    assert {i["facet"]: i["searches"] for i in log["facets"]} == dict(expected["usage"])
    got_values = {(i["facet"], v["value"]): v["count"] for i in log["facets"] for v in i["values"]}
    assert got_values == dict(expected["values"])
    phase = next(i for i in log["facets"] if i["facet"] == "phase")
    assert phase["values"][0] == {"value": "idee", "label": "Idee", "count": 2}

    html = analyst.get("/statistieken?month=2026-10").get_data(as_text=True)
    tables = page_tables(html)
    assert keyed(tables["table-top-queries"]) == dict(expected["queries"])
    assert keyed(tables["table-zero-result-queries"]) == dict(expected["zero"])
    usage_rows = {key: cells for key, _label, cells in tables["table-facet-usage"]["rows"]}
    assert {k: c[1] for k, c in usage_rows.items() if "=" not in k} == dict(expected["usage"])
    assert {tuple(k.split("=", 1)): c[1] for k, c in usage_rows.items() if "=" in k} == dict(
        expected["values"]
    )
    summary = f"{len(logged_october)} zoekopdrachten in 2026-10"
    assert summary in html

    csv_body = analyst.get("/statistieken/export.csv?view=zero-result-queries&month=2026-10")
    lines = list(csv.reader(io.StringIO(csv_body.get_data(as_text=True).removeprefix("\ufeff"))))
    assert lines[0] == ["Zoekwoorden", "Zoekopdrachten", "Resultaten (laatste zoekopdracht)"]
    assert sorted(lines[1:]) == sorted(
        [("'" + q if q.startswith("=") else q), str(n), "0"] for q, n in expected["zero"].items()
    )


def test_search_analytics_of_a_month_without_searches(analyst, logged_october):
    log = analyst.get("/api/v1/stats?month=2025-01").get_json()["search_log"]
    assert (log["searches"], log["top_queries"], log["facets"]) == (0, [], [])
    html = analyst.get("/statistieken?month=2025-01").get_data(as_text=True)
    assert '<option value="2025-01" selected>' in html


def test_purge_applies_the_retention_period(site, monkeypatch):
    clear_search_log(site)
    now = dt.datetime.now(dt.UTC)
    with transaction(site["factory"]) as session:
        for days in (400, 100, 1):
            log_search(session, f"{days} dagen", {}, 1, at=now - dt.timedelta(days=days))
    runner = site["app"].test_cli_runner()

    monkeypatch.delenv("SEARCH_LOG_RETENTION_DAYS", raising=False)
    result = runner.invoke(args=["stats", "purge-search-log"])
    assert result.exit_code == 0 and "1 search(es) older than 365 day(s)" in result.output
    assert [r.q for r in logged_rows(site)] == ["100 dagen", "1 dagen"]

    monkeypatch.setenv("SEARCH_LOG_RETENTION_DAYS", "30")
    result = runner.invoke(args=["stats", "purge-search-log"])
    assert "1 search(es) older than 30 day(s)" in result.output
    assert [r.q for r in logged_rows(site)] == ["1 dagen"]

    monkeypatch.setenv("SEARCH_LOG_RETENTION_DAYS", "een jaar")
    result = runner.invoke(args=["stats", "purge-search-log"])
    assert result.exit_code != 0 and "SEARCH_LOG_RETENTION_DAYS" in result.output
    assert len(logged_rows(site)) == 1

    result = runner.invoke(args=["stats", "purge-search-log", "--older-than-days", "0"])
    assert result.exit_code == 0 and logged_rows(site) == []


# -- pure parts, no cluster ----------------------------------------------------------


def test_six_months_back_clamps_to_the_end_of_the_month():
    from portal.stats.aggregations import backlog_cutoff

    assert backlog_cutoff(dt.date(2026, 8, 31)) == dt.date(2026, 2, 28)
    assert backlog_cutoff(dt.date(2024, 8, 31)) == dt.date(2024, 2, 29)
    assert backlog_cutoff(dt.date(2026, 3, 15)) == dt.date(2025, 9, 15)
    for day in (dt.date(2026, 11, 29), dt.date(2027, 1, 31), dt.date(2026, 6, 30)):
        assert backlog_cutoff(day) == six_months_before(day)


def test_backlog_means_more_than_six_months(client, loaded):
    """A verification exactly six months old is not overdue; one day more is."""
    from portal.search.params import SearchRequest
    from portal.stats.service import facet_statistics
    from registry.taxonomy import Taxonomy

    record = next(
        r
        for r in member_records()
        if r["status"] == "published" and r["last_verified"] and int(r["last_verified"][8:]) <= 28
    )
    verified = dt.date.fromisoformat(record["last_verified"])
    month = verified.month + 6
    exactly = dt.date(verified.year + (month - 1) // 12, (month - 1) % 12 + 1, verified.day)
    taxonomy = Taxonomy.from_file(TAXONOMY_FILE)
    request = SearchRequest(filters={"province": (record["province"],)})

    def listed(today):
        stats = facet_statistics(client, loaded["names"], taxonomy, request, "nl", today=today)
        return {r["id"] for r in stats["backlog"]["records"]}

    assert record["id"] not in listed(exactly)
    assert record["id"] in listed(exactly + dt.timedelta(days=1))


def test_statistics_are_built_from_the_facet_declarations_and_search_filters():
    from portal.search.facets import FACETS
    from portal.search.params import SearchRequest
    from portal.search.query import build_search_body
    from portal.stats.aggregations import build_stats_body
    from registry.taxonomy import Taxonomy

    taxonomy = Taxonomy.from_file(TAXONOMY_FILE)
    request = SearchRequest(
        q="lezen",
        filters={"phase": ("idee",), "community": ("basisvaardigheden",), "evidence": ("2",)},
    )
    body, resolved = build_stats_body(request, taxonomy, ("type", "target"), dt.date(2026, 1, 1))
    facet_aggs = body["aggs"]["facets"]["aggs"]
    assert list(facet_aggs) == [facet.name for facet in FACETS]
    for facet in FACETS:
        assert facet_aggs[facet.name]["aggs"]["values"]["terms"]["field"] == facet.field
        assert ("missing" in facet_aggs[facet.name]["aggs"]) is facet.count_missing
    search_body, _ = build_search_body(request, taxonomy, "members")
    assert body["query"]["bool"]["filter"] == search_body["post_filter"]["bool"]["filter"]
    assert body["query"]["bool"]["must"] == [search_body["query"]]
    assert body["size"] == 0
    assert resolved.renamed == [("basisvaardigheden", ["participatie-zelfredzaamheid"])]


def test_tables_shade_and_escape():
    from portal.stats.tables import Table, csv_text
    from registry.search_log import Month

    table = Table("t", "c", ["a", "b"], [("=cmd()", [0]), ("-x", [3]), ("ok", [10])], (0,), 10)
    assert [table.heat_level(v) for v in (0, 1, 3, 10)] == [0, 1, 2, 5]
    assert csv_text(table).splitlines() == ["a,b", "'=cmd(),0", "'-x,3", "ok,10"]
    assert str(Month.parse("2026-01").next()) == "2026-02"
    assert str(Month(2026, 12).next()) == "2027-01"
    for bad in ("2026-1", "2026-13", "26-01", "2026-00", "2026/01"):
        with pytest.raises(ValueError):
            Month.parse(bad)


# -- in a real browser ---------------------------------------------------------------

"""Screenshots to be looked at (as in tests/portal/test_browser.py)."""
CHARTED = 10
"""Figures on the dashboard: seven facets (province has its own section), evidence per
priority, added per quarter, provinces."""


@pytest.fixture(scope="module")
def live_url(site, loaded):
    """The portal under gunicorn against ``site``'s registry and the shared index."""
    with serve_portal(site["url"], loaded["opensearch_url"], loaded["names"].prefix,
                      "stats-browser-test") as url:  # fmt: skip
        yield url


def _log_in(browser, live_url, bypass_csp=False, locale="nl-NL"):
    context = browser.new_context(
        locale=locale, viewport={"width": 1400, "height": 1200}, bypass_csp=bypass_csp
    )
    page = context.new_page()
    page.goto(f"{live_url}/statistieken")
    page.get_by_label("E-mailadres" if locale.startswith("nl") else "E-mail address").fill(
        "analyst@bieb.example"
    )
    page.get_by_label("Wachtwoord" if locale.startswith("nl") else "Password").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("form.login-form button[type=submit]").click()
    return page


@pytest.mark.skipif(
    not BROWSER_READY,
    reason="needs Debian chromium and node_modules/axe-core (make test installs both)",
)
def test_dashboard_in_headless_chromium(site, live_url):
    from playwright.sync_api import sync_playwright

    clear_search_log(site)
    now = dt.datetime.now(dt.UTC)
    with transaction(site["factory"]) as session:
        for q, filters, total in LOGGED_FOR_SCREENSHOT:
            log_search(session, q, filters, total, 15, at=now)
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        try:
            page = _log_in(browser, live_url)
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.goto(f"{live_url}/statistieken")
            assert page.url.endswith("/statistieken")
            page.wait_for_selector("figure[data-chart] canvas")
            assert page.locator("figure[data-chart]").count() == CHARTED
            assert page.locator("figure[data-chart]:not([hidden]) canvas").count() == CHARTED
            assert page.locator(".heatmap td.heat").count() > 0
            page.screenshot(path=str(SHOTS / "stats-dashboard-nl.png"), full_page=True)
            filtered = "province=zuid-holland&province=noord-brabant&phase=idee&phase=experiment"
            page.goto(f"{live_url}/statistieken?{filtered}&rows=community&columns=evidence")
            page.wait_for_selector("figure[data-chart] canvas")
            page.screenshot(path=str(SHOTS / "stats-dashboard-filtered-nl.png"), full_page=True)
            page.goto(f"{live_url}/statistieken?lang=en")
            page.wait_for_selector("figure[data-chart] canvas")
            page.screenshot(path=str(SHOTS / "stats-dashboard-en.png"), full_page=True)
            assert problems == [], problems  # CSP violations are console errors

            checked = _log_in(browser, live_url, bypass_csp=True)
            checked.goto(f"{live_url}/statistieken?{filtered}")
            checked.wait_for_selector("figure[data-chart] canvas")
            checked.add_script_tag(path=str(AXE))
            results = checked.evaluate("async () => await axe.run(document)")
            serious = [v for v in results["violations"] if v["impact"] in ("serious", "critical")]
            assert serious == [], [(v["id"], v["help"], len(v["nodes"])) for v in serious]
        finally:
            browser.close()


LOGGED_FOR_SCREENSHOT = [
    ("leesbevordering", {"phase": ["experiment"]}, 12),
    ("leesbevordering", {}, 31),
    ("makerspace", {"province": ["zeeland"]}, 2),
    ("digitale inclusie", {}, 9),
    ("qqxyzzy", {}, 0),
    ("", {"priority": ["jeugd-onderwijs"], "phase": ["idee"]}, 6),
]


def test_an_unknown_csv_view_is_the_typed_parameter_error():
    from portal.search.params import SearchParamError
    from portal.stats.service import parse_view

    assert parse_view({"view": "facet-phase"}) == "facet-phase"
    with pytest.raises(SearchParamError) as caught:
        parse_view({"view": "alles"})
    assert (caught.value.code, caught.value.field) == ("invalid_view", "view")
    assert "facet-priority" in caught.value.params["names"]

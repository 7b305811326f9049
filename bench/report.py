"""Targets, and the results files: ``<date>-<size>.json``, ``<date>-<size>.md`` and a
``summary.md`` across sizes.

Targets are the project's goals for speed and scale (below); the benchmark records
where each stands and is never tuned to meet them.
"""

from __future__ import annotations

import json
from pathlib import Path

REBUILD_RATIO_MIN = 0.85
"""Indexer rebuild docs/s at least this share of the raw bulk docs/s."""
PORTAL_P50_RATIO_MAX = 1.2
"""Portal p50 at most this multiple of raw OpenSearch p50 for the same queries."""
PORTAL_P95_RATIO_MAX = 1.3
"""Portal p95 at most this multiple of raw OpenSearch p95 for the same queries."""
THROUGHPUT_RATIO_MIN = 0.8
THROUGHPUT_LEVEL = "8"
"""Portal searches/s at concurrency :data:`THROUGHPUT_LEVEL` at least this share of
raw OpenSearch's."""
EDIT_P95_MAX_MS = 2000
"""Edit-to-searchable p95, ms."""
RSS_FLAT_MAX_GROWTH = 1.1
"""Indexer peak RSS at 1M at most this multiple of the one at 100k ("flat")."""
RSS_SIZES = (100_000, 1_000_000)


def _target(name: str, measured, target: str, met: bool | None) -> dict:
    status = "not measured" if met is None else ("met" if met else "missed")
    return {"name": name, "measured": measured, "target": target, "status": status}


def _own_rss(result: dict) -> float | None:
    """The indexer's peak RSS of a full run, when it was measured as the indexer's own
    (``peak_rss_own``: started from a small launcher, :func:`bench.procs.run_measured`);
    None for older runs, whose figure carried the benchmark process's own peak."""
    indexer = (result.get("rebuild") or {}).get("indexer") or {}
    return indexer.get("peak_rss_mib") if indexer.get("peak_rss_own") else None


def _rss_flat(results: dict, others: list[dict]) -> dict:
    """Peak RSS flatness from 100k to 1M, from this run and earlier results files
    (the newest run of each size whose figure is the indexer's own, :func:`_own_rss`)."""
    by_size = {r["size"]: r for r in others if _own_rss(r) is not None}
    if _own_rss(results) is not None:
        by_size[results["size"]] = results
    low, high = (by_size.get(s) for s in RSS_SIZES)
    if not (low and high):
        found = ", ".join(f"{s}: {_own_rss(r)} MiB" for s, r in sorted(by_size.items()))
        return _target(
            "indexer peak RSS flat 100k → 1M",
            found or None,
            f"1M ≤ {RSS_FLAT_MAX_GROWTH}× 100k",
            None,
        )
    a, b = _own_rss(low), _own_rss(high)
    return _target(
        "indexer peak RSS flat 100k → 1M",
        f"{a} → {b} MiB",
        f"1M ≤ {RSS_FLAT_MAX_GROWTH}× 100k",
        b <= RSS_FLAT_MAX_GROWTH * a,
    )


def evaluate_targets(results: dict, others: list[dict]) -> list[dict]:
    """Each target with its measured value and ``met``/``missed``/
    ``not measured``; ``others`` are earlier results (for the RSS comparison)."""
    targets = []
    rebuild = results.get("rebuild")
    ratio = rebuild["ratio"] if rebuild else None
    targets.append(
        _target(
            "rebuild throughput vs raw bulk",
            ratio,
            f"≥ {REBUILD_RATIO_MIN}× raw",
            None if ratio is None else ratio >= REBUILD_RATIO_MIN,
        )
    )
    for level, data in (results.get("search") or {}).get("levels", {}).items():
        for name, key, limit in (
            ("p50", "ratio_p50", PORTAL_P50_RATIO_MAX),
            ("p95", "ratio_p95", PORTAL_P95_RATIO_MAX),
        ):
            r = data.get(key)
            targets.append(
                _target(
                    f"portal {name} vs raw, concurrency {level}",
                    r,
                    f"≤ {limit}× raw",
                    None if r is None else r <= limit,
                )
            )
        if level == THROUGHPUT_LEVEL:
            portal, raw = data["portal"]["throughput_rps"], data["raw"]["throughput_rps"]
            r = round(portal / raw, 3) if portal and raw else None
            targets.append(
                _target(
                    f"portal throughput vs raw, concurrency {level}",
                    r,
                    f"≥ {THROUGHPUT_RATIO_MIN}× raw",
                    None if r is None else r >= THROUGHPUT_RATIO_MIN,
                )
            )
    merge = results.get("merge")
    failed = merge["failed_searches"] if merge else None
    targets.append(
        _target(
            "failed searches during merge", failed, "0", None if failed is None else failed == 0
        )
    )
    edits = results.get("edits")
    p95 = edits["searchable_ms"]["p95_ms"] if edits else None
    met = (
        None
        if edits is None
        else (p95 is not None and p95 <= EDIT_P95_MAX_MS and edits["timeouts"] == 0)
    )
    targets.append(_target("edit → searchable p95 (ms)", p95, f"≤ {EDIT_P95_MAX_MS} ms", met))
    targets.append(_rss_flat(results, others))
    return targets


FULL_RUN_KEYS = frozenset({"size", "date", "rebuild", "search"})
"""Keys every results file of :mod:`bench.run` has."""


def load_results(folder: Path) -> list[dict]:
    """Every results file of the full benchmark (:mod:`bench.run`) in ``folder``, oldest
    date first: JSON objects with ``size``, ``date``, ``rebuild`` and ``search``. The
    folder also holds other measurements (workers, relevance, memory curves …) that
    carry a size but not these parts; they are skipped."""
    out = []
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and data.keys() >= FULL_RUN_KEYS:
            out.append(data)
    return out


def _fmt(value, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _row(results: dict, label: str, ours, raw="", ratio="", target: str | None = None):
    """One table row; ``target`` names the target whose goal and status it shows."""
    goal = status = ""
    for t in results["targets"]:
        if target and t["name"] == target:
            goal, status = t["target"], t["status"]
    return [label, str(ours), str(raw), str(ratio), goal, status]


def _rebuild_rows(results: dict, rebuild: dict) -> list[list[str]]:
    ours, raw = rebuild["indexer"], rebuild["raw"]
    return [
        _row(results, "rebuild throughput (docs/s)", _fmt(ours["docs_per_s"]),
             _fmt(raw["docs_per_s"]), _fmt(rebuild["ratio"], 2), "rebuild throughput vs raw bulk"),
        _row(results, "rebuild wall time (s)", _fmt(ours["seconds"]), _fmt(raw["seconds"])),
    ]  # fmt: skip


def _search_rows(results: dict, level: str, data: dict) -> list[list[str]]:
    p, r = data["portal"], data["raw"]
    ratio_text = _fmt(data["ratio_p50"], 2)
    spread = data.get("ratio_p50_over_rounds")
    if spread:  # older results have no rounds
        ratio_text += (f" (rounds {_fmt(spread['min'], 2)}–{_fmt(spread['max'], 2)}, "
                       f"{spread['rounds']} rounds)")  # fmt: skip
    rows = [
        _row(results, f"search p50, concurrency {level} (ms)", _fmt(p["p50_ms"]),
             _fmt(r["p50_ms"]), ratio_text, f"portal p50 vs raw, concurrency {level}"),
        _row(results, f"search p95 ratio, concurrency {level}", "", "",
             _fmt(data.get("ratio_p95"), 2)),
    ]  # fmt: skip
    for q in ("p95", "p99"):
        rows.append(_row(results, f"search {q}, concurrency {level} (ms)",
                         _fmt(p[f"{q}_ms"]), _fmt(r[f"{q}_ms"])))  # fmt: skip
    rows.append(_row(results, f"search throughput, concurrency {level} (req/s)",
                     _fmt(p["throughput_rps"]), _fmt(r["throughput_rps"])))  # fmt: skip
    rows.append(_row(results, f"failed searches, concurrency {level}", _fmt(p["failed"]),
                     _fmt(r["failed"])))  # fmt: skip
    return rows


def _merge_rows(results: dict, merge: dict) -> list[list[str]]:
    searches = merge["load"]["count"] + merge["failed_searches"]
    label = (f"merge {' + '.join(merge['sources'])} ({merge['affected']:,} innovations, "
             f"{merge['affected_share']:.1%}): s until counts = recount")  # fmt: skip
    return [
        _row(results, label, _fmt(merge["seconds_to_counts_equal"], 2)),
        _row(results, f"failed searches during merge (of {searches:,})",
             _fmt(merge["failed_searches"]), target="failed searches during merge"),
    ]  # fmt: skip


def _edit_rows(results: dict, edits: dict) -> list[list[str]]:
    s, i = edits["searchable_ms"], edits["indexed_ms"]
    return [
        _row(results, f"edit → searchable p50 / p95 (ms, {edits['edits']} edits)",
             f"{_fmt(s['p50_ms'])} / {_fmt(s['p95_ms'])}", target="edit → searchable p95 (ms)"),
        _row(results, "edit → indexed (real-time GET) p50 / p95 (ms)",
             f"{_fmt(i['p50_ms'])} / {_fmt(i['p95_ms'])}"),
    ]  # fmt: skip


def _rows(results: dict) -> list[list[str]]:
    rows = []
    rebuild = results.get("rebuild")
    if rebuild:
        rows += _rebuild_rows(results, rebuild)
    for level, data in (results.get("search") or {}).get("levels", {}).items():
        rows += _search_rows(results, level, data)
    if results.get("merge"):
        rows += _merge_rows(results, results["merge"])
    if results.get("edits"):
        rows += _edit_rows(results, results["edits"])
    if rebuild:
        rows.append(_row(results, "indexer peak RSS during rebuild (MiB)",
                         _fmt(rebuild["indexer"]["peak_rss_mib"]),
                         target="indexer peak RSS flat 100k → 1M"))  # fmt: skip
    if results.get("import"):
        rows.append(_row(results, "registry import (records/s)",
                         _fmt(results["import"]["records_per_s"])))  # fmt: skip
    return rows


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def render_markdown(results: dict) -> str:
    """The results of one run as Markdown: machine facts, the table, where time goes."""
    m, n = results["machine"], results["node"]
    lines = [
        f"# Benchmark {results['date']}: {results['size']:,} innovations",
        "",
        f"Machine: {m['nproc']} cores ({m['cpu_model']}), {m['memory_total_mib']:,.0f} MiB "
        f"memory, load average {m['loadavg_1m_at_start']} at start, Linux {m['kernel']}, "
        f"Python {m['python']}. OpenSearch {n['opensearch_version']} (JVM "
        f"{n['jvm_version']}, heap {n['heap_max_mib']} MiB, {n['nodes']} node), shared "
        f"with {n['other_indices']} other indices. Seed {results['seed']}; "
        f"{results['config']['requests']} requests per side and concurrency level; "
        f"portal under gunicorn with {results['config']['gunicorn_workers']} workers.",
        "",
    ]
    lines += _table(
        ["measurement", "Innovatiebieb", "raw OpenSearch", "ratio", "target", "status"],
        _rows(results),
    )
    lines += ["", "## Targets", ""]
    lines += _table(
        ["target", "measured", "goal", "status"],
        [[t["name"], _fmt(t["measured"], 2), t["target"], t["status"]] for t in results["targets"]],
    )
    if results.get("where_time_goes"):
        lines += ["", "## Where the time goes", ""]
        for text in results["where_time_goes"].values():
            lines += [text, ""]
    if results.get("notes"):
        lines += ["", "## Notes", ""] + [f"- {note}" for note in results["notes"]]
    return "\n".join(lines).rstrip() + "\n"


def render_summary(all_results: list[dict]) -> str:
    """One row per size (the newest run of each) with the headline numbers."""
    newest = {r["size"]: r for r in all_results}
    rows = []
    for size, r in sorted(newest.items()):
        rebuild, search = r.get("rebuild") or {}, (r.get("search") or {}).get("levels", {})
        merge, edits = r.get("merge") or {}, r.get("edits") or {}
        c1, c8 = search.get("1", {}), search.get("8", {})
        rows.append(
            [
                f"{size:,}",
                r["date"],
                _fmt(rebuild.get("indexer", {}).get("docs_per_s")),
                _fmt(rebuild.get("raw", {}).get("docs_per_s")),
                _fmt(rebuild.get("ratio"), 2),
                _fmt(c1.get("ratio_p50"), 2),
                _fmt(c8.get("ratio_p50"), 2),
                _fmt(merge.get("seconds_to_counts_equal"), 2),
                _fmt(merge.get("failed_searches")),
                _fmt((edits.get("searchable_ms") or {}).get("p95_ms")),
                _fmt(rebuild.get("indexer", {}).get("peak_rss_mib"))
                + ("" if _own_rss(r) is not None or not rebuild else " †"),
            ]
        )
    header = [
        "size",
        "date",
        "rebuild docs/s",
        "raw docs/s",
        "rebuild ratio",
        "portal/raw p50 c1",
        "portal/raw p50 c8",
        "merge s",
        "merge failed",
        "edit p95 ms",
        "indexer RSS MiB",
    ]
    lines = [
        "# Benchmarks across sizes",
        "",
        "Newest run of each size; details in the `<date>-<size>.md` files.",
        "",
    ]
    notes = [
        "",
        "† measured before the rebuild child was started from a launcher: Linux carries a",
        "parent's memory peak into a child's `ru_maxrss`, so this figure is at least the",
        "benchmark process's own peak, not the indexer's (`bench/README.md`).",
    ]
    return "\n".join(lines + _table(header, rows) + notes) + "\n"


def write_results(results: dict, folder: Path) -> tuple[Path, Path]:
    """Write ``<date>-<size>.json`` and ``.md`` to ``folder`` and refresh ``summary.md``.

    Returns:
        the paths of the JSON and Markdown files.
    """
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"{results['date']}-{results['size']}"
    json_path, md_path = stem.with_suffix(".json"), stem.with_suffix(".md")
    json_path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", "utf-8")
    md_path.write_text(render_markdown(results), encoding="utf-8")
    (folder / "summary.md").write_text(render_summary(load_results(folder)), encoding="utf-8")
    return json_path, md_path

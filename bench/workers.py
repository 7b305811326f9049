"""gunicorn worker classes and counts on the single node, each against the raw side.

``python -m bench.workers --size 2000`` generates ``size`` synthetic innovations
(:mod:`bench.generate`), imports them into a fresh SQLite registry, rebuilds them onto
the node (``OPENSEARCH_URL``, else devnode's local node on ``OPENSEARCH_PORT``,
started here and stopped again if it was not running) under an index prefix of its
own, then for each gunicorn setting of ``--settings`` (default: 2 gthread workers × 16
threads, 4 sync, 2 sync) serves the portal and measures search latency through it
against the same queries sent straight to OpenSearch, at each ``--concurrency``
(default 1, 8 and 32), in alternating rounds (:func:`bench.search_bench.measure_search`):
the raw side is measured anew beside every setting, so each ratio compares
neighbours in time on a shared machine.

Results: ``bench/results/<date>-workers-<size>.{json,md}``. The index and the
registry are deleted at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

from indexer.client import IndexNames
from indexer.rebuild import rebuild
from settings import Settings

from .generate import read_records
from .machine import host_facts, node_facts
from .procs import gunicorn
from .scratch import bench_client, child_env, generated_registry, single_node, write_results
from .search_bench import benchmark_mix, measure_search

RESULTS_DIR = Path(__file__).resolve().parent / "results"
WORKER_SETTINGS = {
    "2 gthread x16": {"WEB_CONCURRENCY": "2", "GUNICORN_WORKER_CLASS": "gthread",
                      "GUNICORN_THREADS": "16"},
    "4 sync": {"WEB_CONCURRENCY": "4", "GUNICORN_WORKER_CLASS": "sync"},
    "2 sync": {"WEB_CONCURRENCY": "2", "GUNICORN_WORKER_CLASS": "sync"},
}  # fmt: skip
"""gunicorn settings compared (name → environment of the portal)."""


def log(message: str) -> None:
    """One progress line on stderr."""
    print(f"[workers {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def parse_setting(text: str) -> tuple[str, dict]:
    """``"3 gthread x8"`` or ``"4 sync"`` → ``(name, environment)``.

    Raises:
        argparse.ArgumentTypeError: not ``<workers> sync`` or ``<workers> gthread
            x<threads>`` with positive whole numbers.
    """
    parts = text.split()
    try:
        if len(parts) == 2 and parts[1] == "sync" and int(parts[0]) > 0:
            return text, {"WEB_CONCURRENCY": parts[0], "GUNICORN_WORKER_CLASS": "sync"}
        if (
            len(parts) == 3
            and parts[1] == "gthread"
            and parts[2].startswith("x")
            and int(parts[0]) > 0
            and int(parts[2][1:]) > 0
        ):
            return text, {"WEB_CONCURRENCY": parts[0], "GUNICORN_WORKER_CLASS": "gthread",
                          "GUNICORN_THREADS": parts[2][1:]}  # fmt: skip
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(
        f"{text!r}: expected '<workers> sync' or '<workers> gthread x<threads>'"
    )


def main(argv: list[str] | None = None) -> int:
    """Command line; writes the results and prints the Markdown table; returns 0."""
    parser = argparse.ArgumentParser(prog="python -m bench.workers", description=__doc__)
    parser.add_argument("--size", type=int, default=2000, help="innovations to generate")
    parser.add_argument("--requests", type=int, default=120, help="per side and level")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument(
        "--settings", type=parse_setting, nargs="+", metavar="SETTING",
        help="e.g. '2 gthread x16' '4 sync' (default: the three of WORKER_SETTINGS)",
    )  # fmt: skip
    parser.add_argument("--queries", type=int, default=32)
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--max-level-s", type=float, default=300, help="per level and side")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    parser.add_argument("--prefix", help="index prefix (default: bench-workers-<random>-)")
    args = parser.parse_args(argv)
    if args.size < 1 or args.requests < 1 or min(args.concurrency) < 1:
        parser.error("--size, --requests and --concurrency must be positive")
    settings = dict(args.settings) if args.settings else WORKER_SETTINGS
    results = run(args, settings)
    write_results(args.out / f"{results['date']}-workers-{args.size}", results, markdown)
    return 0


def run(args, worker_settings: dict[str, dict]) -> dict:
    """Import, rebuild, then one portal per setting against the raw side; the results.

    Returns:
        ``{"date", "size", "requests", "machine", "node", "settings": {name: {"env",
        "levels": {"<c>": {"portal", "raw", "ratio_p50", "ratio_p95",
        "ratio_p50_over_rounds", …}}}}}`` (latencies in ms, as
        :func:`bench.search_bench.measure_search` returns them).
    """
    configured = Settings.from_env()
    results: dict = {"date": dt.date.today().isoformat(), "size": args.size,
                     "requests": args.requests, "machine": host_facts()}  # fmt: skip
    names = IndexNames(getattr(args, "prefix", None) or f"bench-workers-{uuid.uuid4().hex[:6]}-")
    results["prefix"] = names.prefix
    with ExitStack() as stack:
        url = single_node(stack, configured.opensearch_url)
        client = bench_client(stack, url, names)
        workdir, db_url, factory, _ = generated_registry(
            stack, args.size, args.seed, "bench-workers"
        )
        began = time.perf_counter()
        rebuild(client, factory, names)
        log(f"imported and rebuilt {args.size} in {time.perf_counter() - began:.0f} s")
        results["node"] = node_facts(client, names.prefix)
        mix = benchmark_mix(read_records(), args.queries, args.seed)
        env = child_env(db_url, url, names, SEARCH_TIMEOUT_S="30")
        results["settings"] = {}
        for name, setting in worker_settings.items():
            log(f"portal with {name}, raw alongside, concurrency {args.concurrency}")
            workers = int(setting["WEB_CONCURRENCY"])
            portal_env = {**env, **setting}
            with gunicorn(portal_env, workdir / "portal.log", workers=workers) as base:
                measured = measure_search(base, client, names, factory, mix, args.requests,
                                          tuple(args.concurrency), args.max_level_s)  # fmt: skip
            measured.pop("queries", None)
            results["settings"][name] = {"env": setting, **measured}
    return results


def markdown(results: dict) -> str:
    """The results as a Markdown report: one row per setting and concurrency."""
    machine = results["machine"]
    load = machine.get("loadavg_1m_at_start", "?")
    lines = [
        f"# gunicorn workers on one node, {results['size']:,} innovations ({results['date']})",
        "",
        f"{machine.get('nproc', '?')} cores, load average {load} at "
        f"the start; {results['requests']} requests per side and concurrency level, in "
        "alternating portal/raw rounds. The raw side (the same bodies sent straight to "
        "OpenSearch) is measured beside every setting; the ratio is portal p50 ÷ raw p50, "
        "with its min–max over the rounds (a difference smaller than that spread is noise).",
        "",
        "| gunicorn | c | portal p50 | portal p95 | portal req/s | raw p50 | raw req/s "
        "| p50 ratio (min–max) | failed |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, row in results["settings"].items():
        for level, data in row["levels"].items():
            p, r = data["portal"], data["raw"]
            spread = data.get("ratio_p50_over_rounds") or {}
            span = f"{spread.get('min')}–{spread.get('max')}" if spread else "–"
            lines.append(
                f"| {name} | {level} | {p['p50_ms']} ms | {p['p95_ms']} ms | "
                f"{p['throughput_rps']} | {r['p50_ms']} ms | {r['throughput_rps']} | "
                f"{data['ratio_p50']} ({span}) | {p['failed'] + r['failed']} |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())

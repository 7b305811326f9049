"""CPU time per search request in process, and OpenSearch round trips per request.

Wall-clock latency on a shared two-core machine moves with the neighbours' load; the
CPU time the portal's own process spends per request, and the number of searches it
sends to OpenSearch, hardly do. This measures both for the benchmark's query mix
through the Flask app in process (``app.test_client()``, no gunicorn), so a change to
the portal's code can be judged without the noise::

    .venv/bin/python -m bench.portal_cpu --size 2000 --label after

CPU time is ``time.process_time()`` of the whole process around each request (every
thread: the search-log writer's work is counted too; the log is flushed inside the
last measurement). Round trips are the shard-level ``query_total`` of the node's
search statistics for the run's own indices (one shard each), divided by requests.
Results: ``bench/results/<date>-portal-cpu-<size>-<label>.{json,md}``.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import pstats
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from indexer.client import IndexNames, make_client
from indexer.rebuild import rebuild
from registry.records import import_jsonl
from settings import Settings

from .generate import generate, read_records, write_jsonl
from .machine import host_facts, node_facts
from .run import RESULTS_DIR, make_registry
from .search_bench import benchmark_mix, query_url
from .stats import percentile


def _query_total(client, names: IndexNames) -> int:
    stats = client.indices.stats(index=f"{names.prefix}*", metric="search")
    return stats["_all"]["total"]["search"]["query_total"]


def measure(
    os_url: str,
    size: int,
    passes: int,
    queries: int,
    seed: int,
    workdir: Path,
    profile_to: Path | None = None,
) -> dict:
    """Import ``size`` generated innovations, rebuild, answer the mix ``passes`` times.

    With ``profile_to``, one more pass runs under cProfile and the functions with the
    most own CPU time are written there, the raw statistics beside it as ``.prof``
    (not part of the figures).

    Returns:
        ``{"requests", "cpu_ms": {"p50", "mean", "p95"}, "wall_ms": {...},
        "shard_queries_per_request"}`` (milliseconds per request).
    """
    from portal import create_app
    from portal.backends import flush_search_log

    names = IndexNames(f"bench-cpu-{uuid.uuid4().hex[:6]}-")
    client = make_client(os_url, timeout_s=120)
    db_url, factory = make_registry(workdir)
    data = workdir / "innovations.jsonl"
    write_jsonl(generate(size, seed), data)
    import_jsonl(factory, data)
    try:
        rebuild(client, factory, names)
        app = create_app(
            {
                "DATABASE_URL": db_url,
                "OPENSEARCH_URL": os_url,
                "INDEX_PREFIX": names.prefix,
                "SECRET_KEY": "bench",
            }
        )
        http = app.test_client()
        urls = [query_url(q) for q in benchmark_mix(read_records(), queries, seed)]
        for url in urls:  # warm: taxonomy, translations, connections
            http.get(url).close()
        flush_search_log(app)
        before = _query_total(client, names)
        cpu, wall = [], []
        for number in range(passes):
            for index, url in enumerate(urls):
                c0, w0 = time.process_time(), time.perf_counter()
                response = http.get(url)
                response.get_data()
                response.close()
                if number == passes - 1 and index == len(urls) - 1:
                    flush_search_log(app)
                cpu.append((time.process_time() - c0) * 1000)
                wall.append((time.perf_counter() - w0) * 1000)
                if response.status_code != 200:
                    raise RuntimeError(f"{url}: HTTP {response.status_code}")
        round_trips = (_query_total(client, names) - before) / len(cpu)
        if profile_to:
            _profile(http, urls, profile_to)
    finally:
        client.indices.delete(index=f"{names.prefix}*", ignore_unavailable=True)

    def spread(values: list[float]) -> dict:
        return {
            "p50": round(percentile(values, 50), 3),
            "mean": round(statistics.fmean(values), 3),
            "p95": round(percentile(values, 95), 3),
        }

    return {
        "requests": len(cpu),
        "cpu_ms": spread(cpu),
        "wall_ms": spread(wall),
        "shard_queries_per_request": round(round_trips, 3),
    }


def _profile(http, urls: list[str], path: Path) -> None:
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for url in urls:
        http.get(url).close()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(40)
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(60)
    path.write_text(out.getvalue(), encoding="utf-8")
    profiler.dump_stats(path.with_suffix(".prof"))  # for pstats' callers and callees


def main(argv: list[str] | None = None) -> int:
    """Command line: ``--size N --label TEXT [--passes P] [--out DIR]``."""
    parser = argparse.ArgumentParser(prog="python -m bench.portal_cpu", description=__doc__)
    parser.add_argument("--size", type=int, default=2000)
    parser.add_argument("--label", required=True, help="e.g. before, after, orjson")
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--queries", type=int, default=32)
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    parser.add_argument("--profile", type=Path, help="also write a cProfile listing here")
    args = parser.parse_args(argv)
    os_url = Settings.from_env().search_url
    with tempfile.TemporaryDirectory(prefix="innovatiebieb-cpu-") as tmp:
        result = measure(
            os_url, args.size, args.passes, args.queries, args.seed, Path(tmp), args.profile
        )
    client = make_client(os_url)
    result.update(
        label=args.label,
        size=args.size,
        date=dt.date.today().isoformat(),
        machine=host_facts(),
        node=node_facts(client, "bench-cpu-"),
    )
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / f"{result['date']}-portal-cpu-{args.size}-{args.label}"
    stem.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: result[k] for k in ("label", "requests", "cpu_ms", "wall_ms",
                                             "shard_queries_per_request")}))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())

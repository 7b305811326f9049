"""Where a search's CPU time goes, process by process, through the portal and raw.

On a 2-core machine a search at concurrency 8 waits mostly for CPU, so the portal's
throughput against the raw side is decided by how much CPU each request costs
altogether, in every process it touches, not only in the portal. This measures it:

    .venv/bin/python -m bench.cpu_split --size 10000 --requests 300 --concurrency 8

generates and rebuilds ``size`` innovations (as :mod:`bench.workers` does), serves the
portal under gunicorn (the default workers of ``gunicorn.conf.py``), then sends the
query mix of :mod:`bench.search_bench` in rounds that alternate the sides:

- ``raw``: the page body straight to OpenSearch with opensearch-py (a kept-alive
  connection per thread, as a client library does);
- ``portal``: ``GET /api/v1/search`` with a new connection per request (what the main
  benchmark does);
- ``portal-keepalive``: the same with one kept-alive connection per load thread (as a
  browser or a harvester does; gunicorn's threaded worker keeps it).

For each side it reads the CPU time (user + system, ``/proc/<pid>/stat``) of the
OpenSearch node's process, of the gunicorn master and its workers, and of the load
generator itself (``time.process_time``), before and after, and reports milliseconds
per request for each, their sum, and the wall-clock throughput. CPU time does not
depend much on what else runs, so the split is readable on a busy machine too.

Results: ``bench/results/<date>-cpu-split-<size>.{json,md}``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
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
from .procs import children, gunicorn
from .scratch import bench_client, child_env, generated_registry, single_node, write_results
from .search_bench import benchmark_mix, portal_sender, portal_view, query_body, query_url, run_load
from .stats import percentile

RESULTS_DIR = Path(__file__).resolve().parent / "results"
ROUNDS = 3
"""Rounds per side; the sides' order rotates from round to round."""
_TICK_S = 1 / os.sysconf("SC_CLK_TCK")


def log(message: str) -> None:
    """One progress line on stderr."""
    print(f"[cpu-split {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (all its threads) so far; 0.0 when
    it is gone. Source: proc(5), fields 14 and 15 of ``/proc/<pid>/stat``."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    # after the ")" that ends the command name, field 3 (state) is index 0
    return (int(fields[11]) + int(fields[12])) * _TICK_S


def gunicorn_master(port: int) -> int:
    """The pid of this process's child that is the gunicorn master bound to ``port``.

    Raises:
        RuntimeError: no such child.
    """
    for pid in children(os.getpid()):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                command = handle.read().split(b"\0")
        except OSError:
            continue
        if b"gunicorn" in command and f"127.0.0.1:{port}".encode() in command:
            return pid
    raise RuntimeError(f"no gunicorn child of this process listens on port {port}")


def node_pid(client) -> int:
    """The OpenSearch process's pid (one node; the nodes info API reports it)."""
    nodes = client.nodes.info(metric="process")["nodes"]
    return next(iter(nodes.values()))["process"]["id"]


def snapshot(node: int, master: int) -> dict[str, float]:
    """CPU seconds so far: ``{"opensearch", "gunicorn", "load_generator"}``; the
    gunicorn figure sums the master and its current workers."""
    return {
        "opensearch": cpu_seconds(node),
        "gunicorn": cpu_seconds(master) + sum(cpu_seconds(p) for p in children(master)),
        "load_generator": time.process_time(),
    }


def measure_side(send, requests: int, queries: int, concurrency: int, node: int,
                 master: int, start: int) -> dict:  # fmt: skip
    """One side's run: CPU ms per request per process, wall throughput and latency.

    Returns:
        ``{"requests", "failed", "seconds", "throughput_rps", "p50_ms",
        "cpu_ms_per_request": {"opensearch", "gunicorn", "load_generator", "total"}}``.
    """
    before = snapshot(node, master)
    load = run_load(send, requests, queries, concurrency, max_s=600, start=start)
    after = snapshot(node, master)
    done = max(1, len(load.latencies))
    per = {k: round((after[k] - before[k]) * 1000 / done, 2) for k in before}
    per["total"] = round(sum(per.values()), 2)
    return {
        "requests": len(load.latencies),
        "failed": load.failed,
        "seconds": round(load.seconds, 2),
        "throughput_rps": round(len(load.latencies) / load.seconds, 1),
        "p50_ms": round(percentile(load.ms, 50) or 0.0, 2),
        "cpu_ms_per_request": per,
    }


def main(argv: list[str] | None = None) -> int:
    """Command line; writes the results and prints the Markdown table; returns 0."""
    parser = argparse.ArgumentParser(prog="python -m bench.cpu_split", description=__doc__)
    parser.add_argument("--size", type=int, default=2000, help="innovations to generate")
    parser.add_argument("--requests", type=int, default=300, help="per side and round")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--queries", type=int, default=32)
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--label", default="")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    parser.add_argument("--prefix", help="index prefix (default: bench-cpu-<random>-)")
    args = parser.parse_args(argv)
    if min(args.size, args.requests, args.concurrency) < 1:
        parser.error("--size, --requests and --concurrency must be positive")
    results = run(args)
    suffix = f"-{args.label}" if args.label else ""
    stem = args.out / f"{results['date']}-cpu-split-{args.size}{suffix}"
    write_results(stem, results, markdown)
    return 0


def run(args) -> dict:
    """Import, rebuild, serve the portal, then the sides in rotating rounds.

    Returns:
        ``{"date", "size", "concurrency", "machine", "node", "sides": {side: [round
        results of :func:`measure_side`]}, "median": {side: {process: ms}}}``.
    """
    configured = Settings.from_env()
    results: dict = {"date": dt.date.today().isoformat(), "size": args.size,
                     "requests": args.requests, "concurrency": args.concurrency,
                     "machine": host_facts()}  # fmt: skip
    names = IndexNames(args.prefix or f"bench-cpu-{uuid.uuid4().hex[:6]}-")
    with ExitStack() as stack:
        url = single_node(stack, configured.opensearch_url)
        client = bench_client(stack, url, names)
        workdir, db_url, factory, _ = generated_registry(stack, args.size, args.seed, "bench-cpu")
        rebuild(client, factory, names)
        results["node"] = node_facts(client, names.prefix)
        taxonomy, synonyms = portal_view(factory)
        mix = benchmark_mix(read_records(), args.queries, args.seed)
        urls = [query_url(q) for q in mix]
        bodies = [query_body(q, taxonomy, synonyms) for q in mix]
        alias = names.alias("public")
        env = child_env(db_url, url, names, SEARCH_TIMEOUT_S="30")
        with gunicorn(env, workdir / "portal.log") as base:
            master = gunicorn_master(int(base.rsplit(":", 1)[1]))
            node = node_pid(client)
            fresh = portal_sender(base)
            kept = portal_sender(base, keep_alive=True)
            sides = {
                "raw": lambda i: client.search(index=alias, body=bodies[i]),
                "portal": lambda i: fresh(urls[i]),
                "portal-keepalive": lambda i: kept(urls[i]),
            }
            for send in sides.values():  # warm every side's caches and connections
                run_load(send, len(mix), len(mix), args.concurrency, max_s=120)
            names_order = list(sides)
            results["sides"] = {name: [] for name in sides}
            for number in range(ROUNDS):
                turn = number % len(names_order)
                order = names_order[turn:] + names_order[:turn]
                for name in order:
                    log(f"round {number + 1}: {name}")
                    results["sides"][name].append(
                        measure_side(
                            sides[name],
                            args.requests,
                            len(mix),
                            args.concurrency,
                            node,
                            master,
                            start=number * args.requests,
                        )  # fmt: skip
                    )
    results["median"] = {
        name: {
            key: round(percentile([r["cpu_ms_per_request"][key] for r in rounds], 50), 2)
            for key in ("opensearch", "gunicorn", "load_generator", "total")
        }
        | {"throughput_rps": round(percentile([r["throughput_rps"] for r in rounds], 50), 1)}
        for name, rounds in results["sides"].items()
    }
    return results


def markdown(results: dict) -> str:
    """The results as a Markdown table (median over rounds, min–max of the total)."""
    lines = [
        f"# CPU per search by process, {results['date']}: {results['size']:,} innovations, "
        f"concurrency {results['concurrency']}",
        "",
        f"Machine: {results['machine']['nproc']} cores, load average "
        f"{results['machine']['loadavg_1m_at_start']} at start. {ROUNDS} rounds of "
        f"{results['requests']} requests per side, sides rotating; CPU ms per request "
        "(user + system), median over the rounds.",
        "",
        "| side | OpenSearch | gunicorn (portal) | load generator | total (min–max) "
        "| requests/s | failed |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, median in results["median"].items():
        totals = [r["cpu_ms_per_request"]["total"] for r in results["sides"][name]]
        failed = sum(r["failed"] for r in results["sides"][name])
        lines.append(
            f"| {name} | {median['opensearch']} | {median['gunicorn']} | "
            f"{median['load_generator']} | {median['total']} ({min(totals)}–{max(totals)}) | "
            f"{median['throughput_rps']} | {failed} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())

"""Search on a three-node cluster: portal against raw, worker settings, and a node loss.

``python -m bench.cluster_bench --size 100000`` generates ``size`` synthetic
innovations (:mod:`bench.generate`), imports them into a fresh SQLite registry,
rebuilds them onto a local three-node cluster (``python -m devnode start --nodes 3``,
started here unless ``OPENSEARCH_URL`` lists the nodes) with one replica per shard,
then measures:

1. search p50/p95 through the portal (gunicorn, ``OPENSEARCH_URL`` = the three nodes)
   against the same queries sent straight to the cluster, at each ``--concurrency``
   (default 1 and 8; :func:`bench.search_bench.measure_search`);
2. the portal alone at concurrency 8 and 32 with each gunicorn setting of
   ``--workers`` (``WEB_CONCURRENCY``/``GUNICORN_WORKER_CLASS``/``GUNICORN_THREADS``);
3. a node loss: portal searches at concurrency 8 while one node is killed with
   SIGKILL, counting failed searches, then the node is started again.

Results: ``bench/results/<date>-cluster-<size>.{json,md}``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import sys
import threading
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

from bench.generate import read_records
from bench.procs import gunicorn
from bench.scratch import bench_client, child_env, generated_registry
from bench.search_bench import benchmark_mix, describe, measure_search, query_url, run_load
from indexer.client import IndexNames
from indexer.rebuild import rebuild
from settings import Settings

RESULTS_DIR = Path(__file__).resolve().parent / "results"
WORKER_SETTINGS = {
    "2 gthread x16": {"WEB_CONCURRENCY": "2", "GUNICORN_WORKER_CLASS": "gthread",
                      "GUNICORN_THREADS": "16"},
    "4 sync": {"WEB_CONCURRENCY": "4", "GUNICORN_WORKER_CLASS": "sync"},
}  # fmt: skip
"""gunicorn settings compared in step 2 (name → environment)."""


def log(message: str) -> None:
    """One progress line on stderr."""
    print(f"[cluster-bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the measurements; print the Markdown results; return 0."""
    parser = argparse.ArgumentParser(prog="python -m bench.cluster_bench", description=__doc__)
    parser.add_argument("--size", type=int, default=10_000, help="innovations to generate")
    parser.add_argument("--requests", type=int, default=200, help="per side and level")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--loss-seconds", type=float, default=20, help="load around the kill")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    results = run(args)
    stem = args.out / f"{results['date']}-cluster-{args.size}"
    stem.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n", "utf-8")
    stem.with_suffix(".md").write_text(markdown(results), "utf-8")
    print(markdown(results))
    return 0


def run(args) -> dict:
    """Every measurement (see the module docstring); returns the results."""
    from devnode.cluster import ensure_cluster, member_pids, stop_cluster

    # one replica unless INDEX_REPLICAS says otherwise: every shard survives a kill
    os.environ.setdefault("INDEX_REPLICAS", "1")
    settings = Settings.from_env()
    results: dict = {
        "date": dt.date.today().isoformat(), "size": args.size, "nodes": 3,
        "replicas": settings.index_replicas, "nproc": os.cpu_count(),
    }  # fmt: skip
    names = IndexNames(f"bench-cluster-{uuid.uuid4().hex[:6]}-")
    with ExitStack() as stack:
        url = settings.opensearch_url
        started = []
        if not url:
            urls, started = ensure_cluster(3)
            url = ",".join(urls)
            if started:
                stack.callback(stop_cluster)
        client = bench_client(stack, url, names)
        workdir, db_url, factory, seconds = generated_registry(stack, args.size, 9, "cluster-bench")
        log(f"imported {args.size} in {seconds:.0f} s")
        began = time.perf_counter()
        rebuild(client, factory, names)
        results["rebuild_s"] = round(time.perf_counter() - began, 1)
        log(f"rebuilt on the cluster in {results['rebuild_s']} s")
        wait_green(client)
        mix = benchmark_mix(read_records(), 40, 9)
        env = child_env(db_url, url, names, SEARCH_TIMEOUT_S="30")
        with gunicorn(env, workdir / "portal.log") as base:
            log("portal against raw")
            results["search"] = measure_search(
                base, client, names, factory, mix, args.requests, tuple(args.concurrency), 300
            )
            results["search"].pop("queries")
            log("node loss under portal searches at concurrency 8")
            results["node_loss"] = node_loss(base, mix, args.loss_seconds, member_pids)
        ensure_cluster(3)
        wait_green(client)
        results["workers"] = {}
        for name, setting in WORKER_SETTINGS.items():
            log(f"portal with {name}")
            workers = int(setting["WEB_CONCURRENCY"])
            with gunicorn({**env, **setting}, workdir / "portal.log", workers=workers) as base:
                results["workers"][name] = worker_load(base, mix, args.requests)
    return results


def wait_green(client, timeout_s: float = 300) -> None:
    """Wait until the cluster is green (polling: the health API's own ``timeout``
    parameter collides with opensearch-py's request timeout)."""
    deadline = time.monotonic() + timeout_s
    while client.cluster.health()["status"] != "green":
        if time.monotonic() > deadline:
            raise RuntimeError(f"the cluster did not turn green within {timeout_s} s")
        time.sleep(1)


def _sender(base: str, mix):
    import requests

    session = requests.Session()
    urls = [query_url(q) for q in mix]

    def send(i: int) -> None:
        session.get(f"{base}{urls[i]}", timeout=60).raise_for_status()

    return send


def worker_load(base: str, mix, requests: int) -> dict:
    """Portal search latency at concurrency 8 and 32 (ms)."""
    send = _sender(base, mix)
    run_load(send, len(mix), len(mix), 4, 120)  # warm every worker
    return {str(c): describe(run_load(send, requests, len(mix), c, 300)) for c in (8, 32)}


def node_loss(base: str, mix, seconds: float, member_pids) -> dict:
    """Searches at concurrency 8 for ``seconds``; one node is killed a third of the way."""
    send = _sender(base, mix)
    victim = max(port for port, pid in member_pids().items() if pid)

    def kill() -> None:
        time.sleep(seconds / 3)
        os.kill(member_pids()[victim], signal.SIGKILL)

    killer = threading.Thread(target=kill)
    killer.start()
    load = run_load(send, 10**9, len(mix), 8, seconds)
    killer.join()
    out = describe(load)
    out.update({"killed_port": victim, "failed_searches": load.failed,
                "errors": dict(load.errors)})  # fmt: skip
    return out


def markdown(results: dict) -> str:
    """The results as a short Markdown report."""
    lines = [
        f"# Three-node cluster, {results['size']:,} innovations ({results['date']})",
        "",
        f"{results['nodes']} local nodes (devnode, 384m heap each), {results['replicas']} "
        f"replica, {results['nproc']} cores shared by the nodes, gunicorn, the load generator "
        f"and other users of the machine. Rebuild onto the cluster: {results['rebuild_s']} s.",
        "",
        "| concurrency | portal p50 | portal p95 | raw p50 | raw p95 | failed |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for level, row in results["search"]["levels"].items():
        p, r = row["portal"], row["raw"]
        lines.append(f"| {level} | {p['p50_ms']} ms | {p['p95_ms']} ms | {r['p50_ms']} ms | "
                     f"{r['p95_ms']} ms | {p['failed'] + r['failed']} |")  # fmt: skip
    loss = results["node_loss"]
    lines += [
        "",
        f"Node loss (SIGKILL of the node on port {loss['killed_port']} under portal searches "
        f"at concurrency 8): **{loss['failed_searches']} failed searches** of "
        f"{loss['count'] + loss['failed_searches']}; p50 {loss['p50_ms']} ms, "
        f"p95 {loss['p95_ms']} ms.",
        "",
        "| gunicorn | c=8 p50 | c=8 p95 | c=8 req/s | c=32 p50 | c=32 p95 | c=32 req/s |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, levels in results["workers"].items():
        a, b = levels["8"], levels["32"]
        lines.append(f"| {name} | {a['p50_ms']} ms | {a['p95_ms']} ms | {a['throughput_rps']} | "
                     f"{b['p50_ms']} ms | {b['p95_ms']} ms | {b['throughput_rps']} |")  # fmt: skip
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())

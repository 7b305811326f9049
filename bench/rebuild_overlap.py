"""Rebuild with and without the reader thread, against the raw ceiling, per chunk size.

``python -m bench.rebuild_overlap --size 10000 --chunks 250 500 1000 2000 --rounds 2``
generates ``size`` synthetic innovations into a fresh SQLite registry, materialises the
rebuild's bulk actions once (:func:`bench.rebuild_bench.materialise_actions`), then per
chunk size runs ``rounds`` rounds of three sides in an order that rotates from round to
round, so the machine's other load falls on every side alike:

- ``overlap``: :func:`indexer.rebuild.rebuild` in process (reader thread, the default);
- ``serial``: the same with ``prefetch=0`` (documents built between bulk requests, the
  rebuild as it was before the reader thread);
- ``raw``: :func:`bench.rebuild_bench.raw_bulk` of the materialised actions with the
  same chunk size and bulk options.

Each side's time runs from the start to the refreshed indices (the rebuild's alias swap
and replay, a few requests, included; process start-up excluded, unlike ``bench.run``).
The result per chunk size is docs/s per side (median round, min–max) and the ratios
overlap ÷ raw and serial ÷ raw per round, with the 1-minute load average at each
round's start. Results: ``bench/results/<date>-rebuild-overlap[-<label>].{json,md}``.
The node is ``OPENSEARCH_URL``, else devnode's local node on ``OPENSEARCH_PORT``
(started and stopped again if it was not running).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

from indexer.client import IndexNames
from indexer.rebuild import PREFETCH_CHUNKS, rebuild
from settings import Settings

from .machine import host_facts, node_facts
from .rebuild_bench import alias_docs, drop_raw, materialise_actions, raw_bulk
from .scratch import bench_client, generated_registry, single_node, write_results

RESULTS_DIR = Path(__file__).resolve().parent / "results"
SIDES = ("overlap", "serial", "raw")


def log(message: str) -> None:
    """One progress line on stderr."""
    print(f"[rebuild-overlap {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _side(name: str, client, factory, names: IndexNames, actions: Path, chunk: int) -> dict:
    """One timed run of side ``name``; ``{"seconds", "docs", "docs_per_s"}``."""
    started = time.perf_counter()
    if name == "raw":
        out = raw_bulk(client, names, actions, chunk_size=chunk)
        drop_raw(client, names)
        return {"seconds": out["seconds"], "docs": out["docs"], "docs_per_s": out["docs_per_s"]}
    prefetch = PREFETCH_CHUNKS if name == "overlap" else 0
    rebuild(client, factory, names, chunk_size=chunk, prefetch=prefetch)
    seconds = time.perf_counter() - started
    docs = alias_docs(client, names)
    return {"seconds": round(seconds, 3), "docs": docs, "docs_per_s": round(docs / seconds, 1)}


def _spread(values: list[float]) -> dict:
    return {"min": min(values), "median": round(statistics.median(values), 3),
            "max": max(values)}  # fmt: skip


def measure(client, factory, names: IndexNames, actions: Path, chunks, rounds: int) -> dict:
    """Every chunk size × round × side; see the module docstring for the shape."""
    out = {}
    for chunk in chunks:
        per_round = []
        for number in range(rounds):
            shift = number % len(SIDES)
            order = SIDES[shift:] + SIDES[:shift]
            entry = {"round": number + 1, "order": list(order),
                     "load_1m": round(os.getloadavg()[0], 2)}  # fmt: skip
            for name in order:
                entry[name] = _side(name, client, factory, names, actions, chunk)
            entry["overlap_over_raw"] = round(
                entry["overlap"]["docs_per_s"] / entry["raw"]["docs_per_s"], 3
            )
            entry["serial_over_raw"] = round(
                entry["serial"]["docs_per_s"] / entry["raw"]["docs_per_s"], 3
            )
            rates = ", ".join(f"{n} {entry[n]['docs_per_s']} docs/s" for n in SIDES)
            log(f"chunk {chunk} round {number + 1}: {rates}; load {entry['load_1m']}")
            per_round.append(entry)
        out[str(chunk)] = {
            "rounds": per_round,
            **{f"{n}_docs_per_s": _spread([r[n]["docs_per_s"] for r in per_round]) for n in SIDES},
            "overlap_over_raw": _spread([r["overlap_over_raw"] for r in per_round]),
            "serial_over_raw": _spread([r["serial_over_raw"] for r in per_round]),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    """Command line; writes the results and prints the Markdown table; returns 0."""
    parser = argparse.ArgumentParser(prog="python -m bench.rebuild_overlap", description=__doc__)
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--chunks", type=int, nargs="+", default=[250, 500, 1000, 2000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--label", default="")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    if args.size < 1 or args.rounds < 1 or min(args.chunks) < 1:
        parser.error("--size, --rounds and --chunks must be positive")
    results = {"date": dt.date.today().isoformat(), "size": args.size, "rounds": args.rounds,
               "machine": host_facts()}  # fmt: skip
    names = IndexNames(f"bench-overlap-{uuid.uuid4().hex[:6]}-")
    with ExitStack() as stack:
        url = single_node(stack, Settings.from_env().opensearch_url)
        client = bench_client(stack, url, names)
        workdir, _, factory, _ = generated_registry(stack, args.size, args.seed, "bench-overlap")
        actions = workdir / "actions.jsonl"
        results["documents"] = materialise_actions(factory, actions)
        results["node"] = node_facts(client, names.prefix)
        log(f"{args.size} records, {results['documents']} documents; measuring")
        results["chunks"] = measure(client, factory, names, actions, args.chunks, args.rounds)
        results["machine"]["loadavg_1m_at_end"] = round(os.getloadavg()[0], 2)
    suffix = f"-{args.label}" if args.label else ""
    stem = args.out / f"{results['date']}-rebuild-overlap-{args.size}{suffix}"
    write_results(stem, results, markdown)
    return 0


def markdown(results: dict) -> str:
    """One row per chunk size: docs/s per side and the ratios to raw (median, min–max)."""
    machine = results["machine"]
    lines = [
        f"# Rebuild overlap, {results['size']:,} innovations ({results['date']})",
        "",
        f"{results['documents']:,} documents per side and run; {results['rounds']} rounds per "
        f"chunk size, the order of the sides rotating; load average "
        f"{machine['loadavg_1m_at_start']} at the start, {machine.get('loadavg_1m_at_end')} "
        f"at the end; {results['node'].get('other_indices', '?')} other indices on the node.",
        "",
        "| chunk | overlap docs/s | serial docs/s | raw docs/s | overlap ÷ raw (min–max) "
        "| serial ÷ raw (min–max) | load (rounds) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]

    def cell(spread: dict) -> str:
        return f"{spread['median']} ({spread['min']}–{spread['max']})"

    for chunk, row in results["chunks"].items():
        loads = ", ".join(str(r["load_1m"]) for r in row["rounds"])
        lines.append(
            f"| {chunk} | {cell(row['overlap_docs_per_s'])} | {cell(row['serial_docs_per_s'])} "
            f"| {cell(row['raw_docs_per_s'])} | {cell(row['overlap_over_raw'])} "
            f"| {cell(row['serial_over_raw'])} | {loads} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())

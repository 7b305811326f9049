"""Does the rebuild's document stream hold memory per record? A curve over sizes.

The rebuild reads the registry in pages, builds the public and member documents and
hands the bulk actions to opensearch-py. This measures the first two alone (no
OpenSearch: its share is the bulk helper's), in a fresh child process per size so
its peak RSS (``VmHWM``) is that size's own, with tracemalloc's live and peak bytes after
the stream ends. Registry rows are multiplied with ``INSERT … SELECT`` from a small
generated import (new ids, same contents), so large sizes take seconds to prepare::

    .venv/bin/python -m bench.indexer_memory --sizes 20000 40000 80000 160000

Flat peak and live bytes across sizes mean nothing is kept per record on this path.
Results: ``bench/results/<date>-indexer-memory.{json,md}``.

``--rebuild`` runs the real ``python -m indexer rebuild`` instead, as a child process
against the node (``OPENSEARCH_URL``, else the local node on ``OPENSEARCH_PORT``), on a
registry of ``--sizes``' largest size, and samples the child's memory from outside
every ``--every-s`` seconds: ``VmRSS``, ``RssAnon``, ``RssFile``, ``RssShmem`` and
``VmHWM`` of ``/proc/<pid>/status``, with the documents the node has taken so far into
the new indices (their ``index_total``), so the curve reads as memory over records::

    OPENSEARCH_PORT=9260 .venv/bin/python -m bench.indexer_memory --rebuild --sizes 10000

``--distinct`` imports generated records (:mod:`bench.generate`, distinct contents)
instead of copying rows. Results: ``bench/results/<date>-indexer-rss-<size>[-<label>].json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import func, select, text

from indexer.client import make_client
from registry.models import Innovation
from registry.records import import_jsonl
from settings import Settings

from .generate import generate, write_jsonl
from .run import RESULTS_DIR, make_registry

CHILD = """
import json, sys, tracemalloc
tracemalloc.start()
from registry.db import make_engine, make_session_factory
from indexer.rebuild import _record_actions
factory = make_session_factory(make_engine(sys.argv[1]))
targets = {"public": "p", "members": "m"}
count = sum(1 for _ in _record_actions(factory, targets, lambda n: None))
current, peak = tracemalloc.get_traced_memory()
top = tracemalloc.take_snapshot().statistics("lineno")[:5]
print(json.dumps({
    "actions": count,
    "traced_current_mib": round(current / 2**20, 2),
    "traced_peak_mib": round(peak / 2**20, 2),
    # VmHWM is this address space's own peak; ru_maxrss would carry the parent's
    "maxrss_mib": round(int(next(line.split()[1] for line in open("/proc/self/status")
                                 if line.startswith("VmHWM:"))) / 1024, 1),
    "top_live": [str(s) for s in top],
}))
"""


def grow_to(factory, size: int) -> int:
    """Copy existing rows under new ids until the registry holds at least ``size``."""
    with factory() as session, session.begin():
        have = session.scalar(select(func.count()).select_from(Innovation))
        while have < size:
            columns = [c.name for c in Innovation.__table__.columns]
            others = ", ".join(c for c in columns if c != "id")
            session.execute(
                text(
                    f"INSERT INTO innovations (id, {others}) "
                    f"SELECT id || '-x{have}', {others} FROM innovations "
                    f"LIMIT {size - have}"
                )
            )
            have = session.scalar(select(func.count()).select_from(Innovation))
    return have


STATUS_FIELDS = ("VmRSS", "RssAnon", "RssFile", "RssShmem", "VmHWM")


def proc_memory(pid: int) -> dict[str, float]:
    """``{field: MiB}`` of :data:`STATUS_FIELDS` from ``/proc/<pid>/status`` (empty when
    the process is gone)."""
    out = {}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                name, _, value = line.partition(":")
                if name in STATUS_FIELDS:
                    out[name] = round(int(value.split()[0]) / 1024, 1)
    except (FileNotFoundError, ProcessLookupError):
        return {}
    return out


def _indexed(client, prefix: str) -> int:
    """Documents the node has indexed into indices under ``prefix`` (both audiences)."""
    stats = client.indices.stats(index=f"{prefix}*", metric="indexing")
    return sum(i["primaries"]["indexing"]["index_total"] for i in stats["indices"].values())


def sample_rebuild(url: str, every_s: float, env_extra: dict | None = None) -> dict:
    """Run ``python -m indexer rebuild`` on the registry at ``url`` and sample its memory.

    Args:
        url: database URL of the registry.
        every_s: seconds between samples.
        env_extra: more environment for the child (e.g. ``MALLOC_ARENA_MAX``).
    Returns:
        ``{"exit_code", "seconds", "samples": [{"s", "docs", <STATUS_FIELDS in MiB>}]}``;
        ``docs`` counts documents the node has taken into the new indices.
    Raises:
        RuntimeError: the rebuild failed (the end of its output in the message).
    """
    settings = Settings.from_env()
    prefix = f"bench-rss-{uuid.uuid4().hex[:6]}-"
    client = make_client(settings.search_url, timeout_s=60)
    env = {**os.environ, "DATABASE_URL": url, "OPENSEARCH_URL": settings.search_url,
           "INDEX_PREFIX": prefix, **(env_extra or {})}  # fmt: skip
    samples = []
    started = time.perf_counter()
    with tempfile.TemporaryFile() as log:
        child = subprocess.Popen(
            [sys.executable, "-m", "indexer", "rebuild"], env=env, stdout=log,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            while child.poll() is None:
                memory = proc_memory(child.pid)
                try:
                    docs = _indexed(client, prefix)
                except Exception:  # noqa: BLE001 - indices not created yet
                    docs = 0
                if memory:
                    samples.append({"s": round(time.perf_counter() - started, 1), "docs": docs,
                                    **memory})  # fmt: skip
                    print(json.dumps(samples[-1]), file=sys.stderr, flush=True)
                time.sleep(every_s)
        finally:
            if child.poll() is None:
                child.kill()
            child.wait()
            client.indices.delete(index=f"{prefix}*", ignore_unavailable=True)
        log.seek(0)
        output = log.read().decode(errors="replace")
    if child.returncode != 0:
        raise RuntimeError(f"indexer rebuild exited {child.returncode}:\n{output[-2000:]}")
    return {"exit_code": child.returncode, "seconds": round(time.perf_counter() - started, 1),
            "samples": samples}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Command line: ``--sizes N …`` (ascending), ``--seed-records``, ``--out DIR``."""
    parser = argparse.ArgumentParser(prog="python -m bench.indexer_memory", description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[20000, 40000, 80000])
    parser.add_argument("--seed-records", type=int, default=2000)
    parser.add_argument("--label", default="")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    parser.add_argument("--rebuild", action="store_true",
                        help="sample the RSS of a real rebuild against the node")  # fmt: skip
    parser.add_argument("--every-s", type=float, default=2.0, help="seconds between samples")
    parser.add_argument("--distinct", action="store_true",
                        help="generate every record instead of copying rows")  # fmt: skip
    args = parser.parse_args(argv)
    if args.rebuild:
        return _main_rebuild(args)
    curve = []
    with tempfile.TemporaryDirectory(prefix="innovatiebieb-mem-") as tmp:
        url, factory = make_registry(Path(tmp))
        data = Path(tmp) / "seed.jsonl"
        write_jsonl(generate(args.seed_records, 9), data)
        import_jsonl(factory, data)
        for size in sorted(args.sizes):
            rows = grow_to(factory, size)
            child = subprocess.run(
                [sys.executable, "-c", CHILD, url], capture_output=True, text=True, check=True
            )
            point = {"records": rows, **json.loads(child.stdout)}
            print(json.dumps({k: v for k, v in point.items() if k != "top_live"}), flush=True)
            curve.append(point)
    today = dt.date.today().isoformat()
    suffix = f"-{args.label}" if args.label else ""
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{today}-indexer-memory{suffix}.json"
    path.write_text(json.dumps({"date": today, "curve": curve}, indent=2) + "\n", "utf-8")
    return 0


def _main_rebuild(args) -> int:
    """``--rebuild``: one real rebuild on a registry of the largest size, sampled."""
    size = max(args.sizes)
    today = dt.date.today().isoformat()
    with tempfile.TemporaryDirectory(prefix="innovatiebieb-rss-") as tmp:
        url, factory = make_registry(Path(tmp))
        data = Path(tmp) / "seed.jsonl"
        write_jsonl(generate(size if args.distinct else args.seed_records, 9), data)
        import_jsonl(factory, data)
        rows = grow_to(factory, size)
        factory.kw["bind"].dispose()
        run = sample_rebuild(url, args.every_s)
    suffix = f"-{args.label}" if args.label else ""
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{today}-indexer-rss-{size}{suffix}.json"
    result = {"date": today, "records": rows, "distinct": args.distinct, **run}
    path.write_text(json.dumps(result, indent=2) + "\n", "utf-8")
    peak = max((s["VmHWM"] for s in run["samples"]), default=None)
    print(json.dumps({"records": rows, "seconds": run["seconds"], "peak_mib": peak}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Does the rebuild's document stream hold memory per record? A curve over sizes.

The rebuild reads the registry in pages, builds the public and member documents and
hands the bulk actions to opensearch-py. This measures the first two alone (no
OpenSearch: its share is the bulk helper's), in a fresh child process per size so
``ru_maxrss`` is that size's own peak, with tracemalloc's live and peak bytes after
the stream ends. Registry rows are multiplied with ``INSERT … SELECT`` from a small
generated import (new ids, same contents), so large sizes take seconds to prepare::

    .venv/bin/python -m bench.indexer_memory --sizes 20000 40000 80000 160000

Flat peak and live bytes across sizes mean nothing is kept per record on this path.
Results: ``bench/results/<date>-indexer-memory.{json,md}``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from sqlalchemy import func, select, text

from registry.models import Innovation
from registry.records import import_jsonl

from .generate import generate, write_jsonl
from .run import RESULTS_DIR, make_registry

CHILD = """
import json, resource, sys, tracemalloc
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
    "maxrss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
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


def main(argv: list[str] | None = None) -> int:
    """Command line: ``--sizes N …`` (ascending), ``--seed-records``, ``--out DIR``."""
    parser = argparse.ArgumentParser(prog="python -m bench.indexer_memory", description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[20000, 40000, 80000])
    parser.add_argument("--seed-records", type=int, default=2000)
    parser.add_argument("--label", default="")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
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


if __name__ == "__main__":
    sys.exit(main())

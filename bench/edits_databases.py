"""Edit-to-searchable latency on SQLite and on PostgreSQL, side by side.

``python -m bench.edits_databases [--edits N] [--out bench/results]`` imports
``data/innovations.jsonl`` into a fresh registry on each database (PostgreSQL:
``DATABASE_URL`` if it names a server, else devdb's local one), rebuilds a
throw-away index, runs ``python -m indexer run`` (default poll 0.5 s; on
PostgreSQL it also wakes on ``NOTIFY``) and times ``N`` edits with
:func:`bench.edits_bench.measure_edits`. Writes ``<date>-edits-databases.{json,md}``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import uuid
from pathlib import Path

import psycopg
from sqlalchemy import make_url

from indexer.client import IndexNames, make_client, opensearch_url
from indexer.rebuild import rebuild
from registry.db import PROJECT_ROOT, prepare
from registry.records import import_jsonl
from settings import Settings

from .edits_bench import measure_edits
from .procs import service

DATA = PROJECT_ROOT / "data" / "innovations.jsonl"


def _postgres_database() -> tuple[str, callable]:
    """A fresh database on the PostgreSQL server; returns ``(url, drop)``."""
    configured = Settings.from_env().database_url
    if configured.startswith("postgresql"):
        admin = make_url(configured)
    else:
        from devdb import ensure_server

        admin = make_url(ensure_server()[0])
    name = f"bench_{uuid.uuid4().hex[:8]}"
    kwargs = dict(host=admin.host, port=admin.port, user=admin.username,
                  password=admin.password, dbname=admin.database, autocommit=True)  # fmt: skip
    with psycopg.connect(**kwargs) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(**kwargs) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return admin.set(database=name).render_as_string(hide_password=False), drop


def measure(database: str, edits: int, workdir: Path) -> dict:
    """Latencies of ``edits`` edits, the registry on ``database`` (sqlite or postgresql)."""
    drop = None
    if database == "sqlite":
        url = f"sqlite:///{workdir / 'registry.db'}"
    else:
        url, drop = _postgres_database()
    try:
        factory, _ = prepare(url)
        assert not import_jsonl(factory, DATA).rejected
        client = make_client(timeout_s=60)
        names = IndexNames(f"bench-edits-{uuid.uuid4().hex[:6]}-")
        rebuild(client, factory, names)
        env = {**os.environ, "DATABASE_URL": url, "OPENSEARCH_URL": opensearch_url(),
               "INDEX_PREFIX": names.prefix}  # fmt: skip
        try:
            with service(
                [sys.executable, "-m", "indexer", "run"], env, workdir / f"{database}.log"
            ):
                measure_edits(client, factory, names, 3, seed=0)  # warm-up
                result = measure_edits(client, factory, names, edits, seed=1)
        finally:
            client.indices.delete(index=f"{names.prefix}*", ignore_unavailable=True)
        factory.kw["bind"].dispose()
        return result
    finally:
        if drop:
            drop()


def main(argv: list[str] | None = None) -> int:
    """Measure both databases and write the results files; returns 0."""
    parser = argparse.ArgumentParser(prog="python -m bench.edits_databases")
    parser.add_argument("--edits", type=int, default=60)
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for database in ("sqlite", "postgresql"):
            results[database] = measure(database, args.edits, Path(tmp))
    stamp = dt.date.today().isoformat()
    args.out.mkdir(parents=True, exist_ok=True)
    report = {"date": stamp, "edits": args.edits,
              "poll_seconds": Settings.from_env().indexer_poll_seconds,
              "results": results}  # fmt: skip
    (args.out / f"{stamp}-edits-databases.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [
        f"# Edit to searchable, SQLite vs PostgreSQL ({stamp})", "",
        f"{args.edits} edits one after another, indexer poll {report['poll_seconds']} s "
        "(PostgreSQL: also woken by NOTIFY), index refresh 1 s.", "",
        "| database | write p50 ms | indexed p50 ms | indexed p95 ms | searchable p50 ms "
        "| searchable p95 ms | timeouts |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]  # fmt: skip
    for database, r in results.items():
        lines.append(
            f"| {database} | {r['write_ms']['p50_ms']} | {r['indexed_ms']['p50_ms']} | "
            f"{r['indexed_ms']['p95_ms']} | {r['searchable_ms']['p50_ms']} | "
            f"{r['searchable_ms']['p95_ms']} | {r['timeouts']} |"
        )
    (args.out / f"{stamp}-edits-databases.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())

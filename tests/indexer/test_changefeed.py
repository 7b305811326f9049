"""No change is lost past the checkpoint: concurrent writers against a running indexer.

Several writer processes (:mod:`tests.feed_writer`) edit records with random
sleeps inside their transactions, so on PostgreSQL change-feed ids commit out of
order; ``python -m indexer run`` follows meanwhile. Afterwards ``python -m indexer
verify`` must find no drift and every record's last edit must be in both indices.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from indexer.client import IndexNames
from indexer.inspect import verify
from indexer.rebuild import rebuild
from indexer.sync import pending, sync_all
from registry.db import transaction
from registry.records import upsert
from registry.schemas import InnovationSchema
from registry.taxonomy import load_taxonomy
from tests.conftest import ROOT, read_data
from tests.helpers import start_indexer

WRITERS = 4
EDITS = 150


def wait_caught_up(factory, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with factory() as session:
            if pending(session) == 0:
                return
        time.sleep(0.2)
    raise AssertionError("the indexer did not catch up")


def test_concurrent_writers_lose_no_change(client, opensearch_url, registry, names: IndexNames):
    url, factory = registry
    rebuild(client, factory, names)
    env = {**os.environ, "DATABASE_URL": url, "OPENSEARCH_URL": opensearch_url,
           "INDEX_PREFIX": names.prefix, "INDEXER_POLL_SECONDS": "0.05"}  # fmt: skip
    indexer = start_indexer(env)
    try:
        writers = [
            subprocess.Popen(
                [sys.executable, "-m", "tests.feed_writer", url, str(w), str(EDITS), str(w)],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )  # fmt: skip
            for w in range(WRITERS)
        ]
        final: dict[str, str] = {}
        for proc in writers:
            out, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, err[-2000:]
            final.update(json.loads(out))
        wait_caught_up(factory)
    finally:
        indexer.terminate()
        _, log = indexer.communicate(timeout=30)
    assert indexer.returncode == 0, log[-2000:]
    assert len(final) == WRITERS * EDITS // 2
    verify = subprocess.run(
        [sys.executable, "-m", "indexer", "verify"], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert verify.stdout.count("no drift") == 2
    client.indices.refresh(index=f"{names.prefix}*")
    for audience in ("public", "members"):
        docs = client.mget(index=names.alias(audience), body={"ids": sorted(final)})["docs"]
        indexed = {d["_id"]: d["_source"]["title"] for d in docs if d.get("found")}
        assert indexed == final
    hits = client.search(
        index=names.alias("public"),
        body={"query": {"match_phrase": {"title": "schrijver3 bewerking149"}}, "size": 5},
    )["hits"]["hits"]
    assert [h["_id"] for h in hits] == ["feed-3-74"]


def test_a_slow_transaction_committing_after_a_later_id_is_not_skipped(
    client, registry, names: IndexNames, database
):
    """Deterministic form of the race: id n commits after id n+1 was synced."""
    if database.name == "sqlite":
        pytest.skip("SQLite serialises writers: a second writer waits for the first's commit")
    url, factory = registry
    with transaction(factory) as session:
        schema = InnovationSchema(load_taxonomy(session))
    base = {k: v for k, v in read_data()[0].items() if k != "id"}
    rebuild(client, factory, names)
    slow = factory()
    slow.begin()
    upsert(slow, schema.load({**base, "id": "traag", "title": "Trage bewerking"}))
    slow.flush()  # takes its change id now, commits later
    with transaction(factory) as session:
        upsert(session, schema.load({**base, "id": "snel", "title": "Snelle bewerking"}))
    sync_all(client, factory, names)
    slow.commit()
    slow.close()
    sync_all(client, factory, names)
    client.indices.refresh(index=f"{names.prefix}*")
    assert all(drift.clean for drift in verify(client, factory, names).values())
    assert client.get(index=names.alias("public"), id="traag")["_source"]["title"] == (
        "Trage bewerking"
    )

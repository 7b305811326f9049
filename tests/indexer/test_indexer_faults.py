"""Fault tests of the indexer with real processes and a real node.

kill -9 in the middle of a rebuild and of a sync, OpenSearch going away while
records are edited, documents the mapping rejects, and two indexers at once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select, update

from indexer.client import IndexNames, make_client
from indexer.inspect import status, verify
from indexer.rebuild import rebuild
from indexer.sync import sync_all
from registry.db import transaction
from registry.models import Change, Innovation
from registry.records import append_change, import_jsonl
from tests.conftest import DATA_FILE, ROOT, make_registry, read_data


def run_indexer(env: dict, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "indexer", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def start_indexer(env: dict, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "indexer", *args],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def indexer_env(url: str, opensearch_url: str, names: IndexNames) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "OPENSEARCH_URL": opensearch_url,
        "INDEX_PREFIX": names.prefix,
        "INDEXER_POLL_SECONDS": "0.2",
    }


def wait_until(predicate, timeout: float = 60, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError("condition not reached in time")


@pytest.fixture
def big_registry(tmp_path, database):
    """The real data 40 times over (about 5,000 records), for runs worth killing."""
    url, factory = make_registry(tmp_path, database)
    path = tmp_path / "big.jsonl"
    with open(path, "w", encoding="utf-8") as handle:
        for copy in range(40):
            for record in read_data():
                handle.write(json.dumps({**record, "id": f"{record['id']}-{copy}"}) + "\n")
    assert not import_jsonl(factory, path, chunk=1000).rejected
    return url, factory


def assert_in_step(client, factory, names) -> None:
    drift = verify(client, factory, names)
    assert all(d.clean for d in drift.values()), {a: vars(d) for a, d in drift.items()}


def test_kill_9_during_rebuild_then_rebuild_again(client, opensearch_url, big_registry, names):
    url, factory = big_registry
    env = indexer_env(url, opensearch_url, names)
    proc = start_indexer(env, "rebuild")

    def loading() -> bool:
        indices = client.indices.get(index=f"{names.prefix}*", ignore_unavailable=True)
        if not indices:
            return False
        stats = client.indices.stats(index=f"{names.prefix}*", metric="indexing")
        return any(s["total"]["indexing"]["index_total"] > 0 for s in stats["indices"].values())

    wait_until(loading)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not client.indices.exists_alias(name=names.alias("public")), "killed before the swap"

    again = run_indexer(env, "rebuild")
    assert again.returncode == 0, again.stderr
    assert_in_step(client, factory, names)
    leftovers = client.indices.get(index=f"{names.prefix}*")
    assert len(leftovers) == 2, "the half-built indices of the killed run are gone"


def test_kill_9_during_sync_loses_and_doubles_nothing(client, opensearch_url, big_registry, names):
    url, factory = big_registry
    rebuild(client, factory, names)
    with transaction(factory) as session:
        for row in session.scalars(select(Innovation)):
            row.summary = row.summary + " (bijgewerkt)"
            row.version += 1
            append_change(session, row.id, row.version, "upsert")
    env = indexer_env(url, opensearch_url, names)
    proc = start_indexer(env, "sync")

    def partly_done() -> bool:
        return status(None, factory, names)["checkpoint"] > 0

    wait_until(partly_done, interval=0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    info = status(None, factory, names)
    assert 0 < info["checkpoint"] < info["latest"], "the kill should land mid-way"

    again = run_indexer(env, "sync")
    assert again.returncode == 0, again.stderr
    assert_in_step(client, factory, names)
    public = names.alias("public")
    client.indices.refresh(index=public)
    sample = client.search(
        index=public, body={"size": 50, "version": True, "_source": ["id", "record_version"]}
    )
    with factory() as session:
        for hit in sample["hits"]["hits"]:
            version = session.get(Innovation, hit["_id"]).version
            assert hit["_source"]["record_version"] == version
            assert hit["_version"] >> 20 == version  # written once per record version


def test_rejected_document_is_parked_with_reason_and_retried(
    client, opensearch_url, registry, names
):
    url, factory = registry
    import_jsonl(factory, DATA_FILE)
    rebuild(client, factory, names)
    bad, good = [r["id"] for r in read_data() if r["status"] == "published"][:2]
    with transaction(factory) as session:
        # a value the import schema refuses, written past it: the mapping rejects it
        # (a keyword term over 32766 bytes; both databases store it)
        session.execute(
            update(Innovation).where(Innovation.id == bad)
            .values(programmes=["x" * 40_000], version=Innovation.version + 1)
        )  # fmt: skip
        append_change(session, bad, 2, "upsert")
        good_row = session.get(Innovation, good)
        good_row.title = "Goed bijgewerkt"
        good_row.version += 1
        append_change(session, good, good_row.version, "upsert")
    result = sync_all(client, factory, names)
    assert [record_id for record_id, _ in result.failed] == [bad]
    assert "programmes" in result.failed[0][1]
    public = names.alias("public")
    assert client.get(index=public, id=good)["_source"]["title"] == "Goed bijgewerkt"
    env = indexer_env(url, opensearch_url, names)
    shown = run_indexer(env, "status")
    assert f"  {bad}:" in shown.stdout and "parked: 1" in shown.stdout

    failing_rebuild = run_indexer(env, "rebuild")
    assert failing_rebuild.returncode == 1
    assert bad in failing_rebuild.stderr and "programmes" in failing_rebuild.stderr

    with transaction(factory) as session:
        row = session.get(Innovation, bad)
        row.programmes = []
        row.version += 1
        append_change(session, bad, row.version, "upsert")
    retried = run_indexer(env, "retry")
    assert retried.returncode == 0, retried.stdout + retried.stderr
    assert "1 fixed" in retried.stdout
    assert run_indexer(env, "sync").returncode == 0
    assert "parked: 0" in run_indexer(env, "status").stdout
    assert_in_step(client, factory, names)


def test_two_indexers_at_once_the_second_is_refused(client, opensearch_url, registry, names):
    url, factory = registry
    import_jsonl(factory, DATA_FILE)
    rebuild(client, factory, names)
    env = indexer_env(url, opensearch_url, names)
    first = start_indexer(env, "run")
    try:
        wait_until(lambda: status(None, factory, names)["owner"] is not None)
        second = run_indexer(env, "run", timeout=60)
        assert second.returncode == 1
        assert "another indexer" in second.stderr and "Traceback" not in second.stderr
        assert run_indexer(env, "sync").returncode == 1
    finally:
        first.send_signal(signal.SIGTERM)
        _, err = first.communicate(timeout=30)
    assert first.returncode == 0, err
    assert '"event": "stopped"' in err
    assert status(None, factory, names)["owner"] is None


def test_lease_of_a_killed_indexer_is_taken_over(client, opensearch_url, registry, names):
    url, factory = registry
    import_jsonl(factory, DATA_FILE)
    rebuild(client, factory, names)
    env = indexer_env(url, opensearch_url, names)
    first = start_indexer(env, "run")
    wait_until(lambda: status(None, factory, names)["owner"] is not None)
    first.send_signal(signal.SIGKILL)
    first.wait()
    took_over = run_indexer(env, "sync", timeout=60)
    assert took_over.returncode == 0, took_over.stderr


def test_edits_while_opensearch_is_down_arrive_after_it_returns(tmp_path, registry):
    from devnode import ensure_node, stop_node
    from portal import create_app

    port = 9251
    url, factory = registry
    node_url, _ = ensure_node(port)
    try:
        client = make_client(node_url, timeout_s=60)
        names = IndexNames("outage-")
        import_jsonl(factory, DATA_FILE)
        rebuild(client, factory, names)
        app = create_app({"TESTING": True, "DATABASE_URL": url, "OPENSEARCH_URL": node_url,
                          "INDEX_PREFIX": names.prefix, "SEARCH_TIMEOUT_S": 2})  # fmt: skip
        http = app.test_client()
        assert http.get("/readyz").status_code == 200

        stop_node(port)
        edited = [r["id"] for r in read_data() if r["status"] == "published"][:5]
        with transaction(factory) as session:
            for record_id in edited:
                row = session.get(Innovation, record_id)
                row.title = f"Bewerkt tijdens storing {record_id}"
                row.version += 1
                append_change(session, record_id, row.version, "upsert")
        page = http.get("/zoeken")
        assert page.status_code == 503
        assert "Tijdelijk niet beschikbaar" in page.get_data(as_text=True)
        assert "Traceback" not in page.get_data(as_text=True)
        api = http.get("/api/v1/search")
        assert api.status_code == 503 and api.get_json()["error"]["code"] == "unavailable"
        ready = http.get("/readyz")
        assert ready.status_code == 503
        assert ready.get_json()["checks"]["opensearch"].startswith("unavailable")
        env = indexer_env(url, node_url, names)
        down = run_indexer(env, "sync")
        assert down.returncode == 1 and "not reachable" in down.stderr
        with factory() as session:
            assert session.scalar(select(func.count()).select_from(Change)) > 0

        ensure_node(port)
        assert run_indexer(env, "sync").returncode == 0
        assert_in_step(client, factory, names)
        hit = client.get(index=names.alias("public"), id=edited[0])["_source"]
        assert hit["title"].startswith("Bewerkt tijdens storing")
        assert http.get("/readyz").status_code == 200
    finally:
        stop_node(port)

"""A PostgreSQL restart while the indexer and the portal run loses nothing.

Runs its own devdb server on a free port (the shared test server keeps running):
while it is down the portal's readiness check answers 503 naming the registry and
the indexer waits; after it is back the indexer reconnects and catches up with an edit made
after the restart, and verify finds no drift.
"""

from __future__ import annotations

import shutil
import time
import urllib.error
import urllib.request

import psycopg
import pytest
from sqlalchemy import make_url

from indexer.inspect import verify
from indexer.rebuild import rebuild
from indexer.sync import pending
from registry.db import prepare, transaction
from registry.models import Innovation
from registry.records import append_change
from tests.conftest import DATA_FILE, TAXONOMY_FILE, free_port, serve_portal
from tests.helpers import start_indexer

devdb = pytest.importorskip("devdb")


@pytest.fixture
def own_server():
    """A devdb server of this test alone; yields ``(port, url of database "registry")``."""
    port = free_port()
    try:
        admin, _ = devdb.ensure_server(port)
    except devdb.DbError as exc:
        pytest.skip(f"no PostgreSQL: {exc}")
    u = make_url(admin)
    with psycopg.connect(host=u.host, port=u.port, user=u.username, password=u.password,
                         dbname="postgres", autocommit=True) as conn:  # fmt: skip
        conn.execute("CREATE DATABASE registry")
    try:
        yield port, u.set(database="registry").render_as_string(hide_password=False)
    finally:
        devdb.stop_server(port)
        shutil.rmtree(devdb.server.server_dir(port), ignore_errors=True)


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_restart_while_indexer_and_portal_run(client, opensearch_url, names, own_server):
    from registry.records import import_jsonl

    port, url = own_server
    factory, _ = prepare(url, TAXONOMY_FILE)
    assert not import_jsonl(factory, DATA_FILE).rejected
    rebuild(client, factory, names)
    record_id = "bibliotheek-op-school-vmbo"
    env = {"DATABASE_URL": url, "OPENSEARCH_URL": opensearch_url,
           "INDEX_PREFIX": names.prefix, "INDEXER_POLL_SECONDS": "0.2"}  # fmt: skip
    indexer = start_indexer(env)
    try:
        with serve_portal(url, opensearch_url, names.prefix) as base:
            assert get(f"{base}/innovaties/{record_id}")[0] == 200
            devdb.stop_server(port)
            status, body = get(f"{base}/readyz")
            assert status == 503 and "registry" in body
            time.sleep(1)  # the indexer meets the outage at least once
            devdb.ensure_server(port)
            factory.kw["bind"].dispose()
            with transaction(factory) as session:
                row = session.get(Innovation, record_id)
                row.title = "Na de herstart"
                row.version += 1
                append_change(session, record_id, row.version, "upsert")
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                with factory() as session:
                    if pending(session) == 0:
                        break
                time.sleep(0.2)
            else:
                raise AssertionError("the indexer did not catch up after the restart")
            assert get(f"{base}/readyz")[0] == 200
    finally:
        indexer.terminate()
        _, log = indexer.communicate(timeout=30)
    assert indexer.returncode == 0, log[-2000:]
    assert "unavailable" in log
    client.indices.refresh(index=f"{names.prefix}*")
    assert all(d.clean for d in verify(client, factory, names).values())
    assert client.get(index=names.alias("public"), id=record_id)["_source"]["title"] == (
        "Na de herstart"
    )
    factory.kw["bind"].dispose()

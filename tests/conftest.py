"""Fixtures: a real OpenSearch node, a fresh index prefix and fresh registries.

The node is, in order of preference: ``OPENSEARCH_URL`` if set; a testcontainers
OpenSearch when ``TESTCONTAINERS=1`` and Docker answers; else the local node of
``devnode`` (started here and stopped at the end if this run started it).
Nothing in this suite fakes OpenSearch or the database.

Registries are SQLite files; the modules in :data:`BOTH_DATABASES` run every test
that uses the ``database`` fixture twice, ``[sqlite]`` and ``[postgresql]``. The
PostgreSQL server is ``DATABASE_URL`` when that names one (each test gets its own
database there, dropped afterwards), else the local server of ``devdb`` (started
here and stopped at the end if this run started it).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from indexer.client import IndexNames, make_client
from registry.db import make_engine, make_session_factory, prepare
from registry.records import import_jsonl

ROOT = Path(__file__).resolve().parent.parent
DATA_FILE = ROOT / "data" / "innovations.jsonl"
TAXONOMY_FILE = ROOT / "data" / "taxonomy.json"
RUN_ID = uuid.uuid4().hex[:8]


@pytest.fixture(scope="session")
def opensearch_url() -> Iterator[str]:
    """URL of a real OpenSearch node for the whole run."""
    if os.environ.get("OPENSEARCH_URL"):
        yield os.environ["OPENSEARCH_URL"]
        return
    if os.environ.get("TESTCONTAINERS") == "1":
        from testcontainers.opensearch import OpenSearchContainer

        with OpenSearchContainer("opensearchproject/opensearch:2.19.4") as container:
            config = container.get_config()
            yield f"http://{config['host']}:{config['port']}"
        return
    from devnode import ensure_node, stop_node

    url, started = ensure_node()
    yield url
    if started:
        stop_node()


@pytest.fixture(scope="session")
def client(opensearch_url):
    """An opensearch-py client for the node."""
    return make_client(opensearch_url, timeout_s=60)


@pytest.fixture
def names(client) -> Iterator[IndexNames]:
    """A fresh index prefix for one test (never the real aliases); its indices are
    deleted afterwards."""
    prefix = f"t{RUN_ID}-{uuid.uuid4().hex[:6]}-"
    yield IndexNames(prefix)
    client.indices.delete(index=f"{prefix}*", ignore_unavailable=True)


TEST_RECORD = {
    "summary": "Testrecord.",
    "description": "Een record dat alleen in deze test bestaat.",
    "results": None,
    "priorities": ["jeugd-onderwijs"],
    "communities": ["doorgaande-leeslijn"],
    "phase": "idee",
    "innovation_type": "incrementeel",
    "target_groups": ["kinderen"],
    "evidence_level": 0,
    "organisation": "Testbibliotheek",
    "province": "utrecht",
    "places_applied": 1,
    "start_year": 2024,
    "programmes": [],
    "url": "https://example.org/",
    "keywords": [],
    "last_verified": "2026-01-01",
    "created": "2020-01-01",
    "contact": None,
    "budget_eur": None,
    "lessons_learned": None,
    "internal_notes": None,
    "status": "published",
}
"""A valid published record without id and title, for records a test adds to the data."""


def published_records() -> list[dict]:
    """Records of the data file with status ``published`` (read independently of the code)."""
    return [r for r in read_data() if r["status"] == "published"]


def read_data() -> list[dict]:
    """Every record of ``data/innovations.jsonl``."""
    with open(DATA_FILE, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


BOTH_DATABASES = {
    "test_registry_import",
    "test_indexer",
    "test_taxonomy_ops",
    "test_editorial",
    "test_access",
    "test_changefeed",
    "test_migrations",
}
"""Test modules (by name) whose registry tests run on SQLite and on PostgreSQL."""


def pytest_generate_tests(metafunc):
    """Run the ``database`` fixture's users in :data:`BOTH_DATABASES` on both databases."""
    module = metafunc.module.__name__.rsplit(".", 1)[-1]
    if "database" in metafunc.fixturenames and module in BOTH_DATABASES:
        metafunc.parametrize("database", ["sqlite", "postgresql"], indirect=True, scope="module")


class PostgresServer:
    """Hands out fresh, empty databases on one PostgreSQL server (admin URL ``url``)."""

    def __init__(self, url: str):
        from sqlalchemy import make_url

        self.url = make_url(url)
        self.created: list[str] = []

    def _admin(self):
        import psycopg

        u = self.url
        return psycopg.connect(
            host=u.host, port=u.port or 5432, user=u.username, password=u.password,
            dbname=u.database or "postgres", autocommit=True,
        )  # fmt: skip

    def new_database(self, template: str | None = None) -> str:
        """Create a database, empty or a copy of the database ``template`` (which must
        have no open connection); returns its SQLAlchemy URL."""
        name = f"t{RUN_ID}_{len(self.created)}_{uuid.uuid4().hex[:6]}"
        copy = f' TEMPLATE "{template}"' if template else ""
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"{copy}')
        self.created.append(name)
        return self.url.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        """Drop every database this run created (ending their sessions first)."""
        with self._admin() as conn:
            for name in self.created:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.clear()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the whole run: ``DATABASE_URL`` or devdb's local one."""
    configured = os.environ.get("DATABASE_URL", "")
    if configured.startswith("postgresql"):
        server = PostgresServer(configured)
        yield server
        server.drop_all()
        return
    from devdb import DbError, ensure_server, stop_server

    try:
        url, started = ensure_server()
    except DbError as exc:
        pytest.skip(f"no PostgreSQL for the tests: {exc}")
    server = PostgresServer(url)
    yield server
    server.drop_all()
    if started:
        stop_server()


@dataclass
class Database:
    """Which database a test's registries live in; ``name`` is ``sqlite`` or ``postgresql``."""

    name: str
    server: PostgresServer | None = None

    def new_url(self, tmp_path: Path) -> str:
        """URL of a fresh, empty database (a SQLite file in ``tmp_path``)."""
        if self.server is None:
            return f"sqlite:///{tmp_path / 'registry.db'}"
        return self.server.new_database()


SQLITE = Database("sqlite")


@pytest.fixture(scope="module")
def database(request) -> Database:
    """The registry database of a test: SQLite unless parametrized to ``postgresql``."""
    name = getattr(request, "param", "sqlite")
    if name == "sqlite":
        return SQLITE
    return Database(name, request.getfixturevalue("postgres_server"))


_PREPARED: dict[str, str] = {}
"""A prepared registry per database kind (SQLite file or PostgreSQL database name),
built once per run and copied for every test."""


def _prepared_template(tmp_path: Path, database: Database) -> str:
    """The migrated, seeded registry that new registries copy; made on first use."""
    key = "sqlite" if database.server is None else str(database.server.url)
    if key not in _PREPARED:
        folder = tmp_path.parent / f"registry-template-{RUN_ID}"
        folder.mkdir(exist_ok=True)
        url = database.new_url(folder)
        factory, _seeded = prepare(url, TAXONOMY_FILE)
        engine = factory.kw["bind"]
        if engine.dialect.name == "sqlite":
            with engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
        from sqlalchemy import make_url

        location = make_url(url).database
        _PREPARED[key] = location
    return _PREPARED[key]


def make_registry(tmp_path: Path, database: Database = SQLITE):
    """A migrated, taxonomy-seeded registry (SQLite file in ``tmp_path`` or a fresh
    PostgreSQL database); returns (url, factory).

    Migrating and seeding take seconds, so each run does it once per database kind and
    every registry starts as a copy of that one (a file copy on SQLite, ``CREATE
    DATABASE … TEMPLATE`` on PostgreSQL): the same schema and seed, faster.
    """
    template = _prepared_template(tmp_path, database)
    if database.server is None:
        target = tmp_path / "registry.db"
        shutil.copyfile(template, target)
        url = f"sqlite:///{target}"
    else:
        url = database.server.new_database(template=template)
    return url, make_session_factory(make_engine(url))


@contextmanager
def data_site(path: Path, client, opensearch_url: str, name: str, extra=(), users=(), **config):
    """The real data plus ``extra`` records in a fresh SQLite registry, with ``users``
    (``(email, role, password)``), indexed under a prefix of its own.

    Yields ``{"factory", "config"}``: ``config`` makes a portal over it with
    ``create_app`` (CSRF off, ``config`` on top). The indices are deleted afterwards.
    """
    from registry.db import transaction
    from registry.users import create_user

    url, factory = make_registry(path)
    assert not import_jsonl(factory, DATA_FILE).rejected
    if extra:
        records = path / "extra.jsonl"
        records.write_text("\n".join(json.dumps(r) for r in extra) + "\n", "utf-8")
        assert not import_jsonl(factory, records).rejected
    with transaction(factory) as session:
        for email, role, password in users:
            create_user(session, email, role, password)
    names = IndexNames(f"t{RUN_ID}-{name}-")
    from indexer.rebuild import rebuild

    rebuild(client, factory, names)
    portal = {
        "TESTING": True, "DATABASE_URL": url, "OPENSEARCH_URL": opensearch_url,
        "INDEX_PREFIX": names.prefix, "SECRET_KEY": name, "WTF_CSRF_ENABLED": False,
    }  # fmt: skip
    try:
        yield {"factory": factory, "config": {**portal, **config}}
    finally:
        client.indices.delete(index=f"{names.prefix}*", ignore_unavailable=True)


@pytest.fixture
def registry(tmp_path, database):
    """A fresh, empty registry: ``(database_url, session_factory)``."""
    url, factory = make_registry(tmp_path, database)
    yield url, factory
    factory.kw["bind"].dispose()


@pytest.fixture(scope="session")
def loaded(tmp_path_factory, client, opensearch_url):
    """The real data imported and indexed once, shared read-only by search tests.

    Returns a dict with ``url`` (database), ``factory``, ``names``, ``opensearch_url``.
    """
    from indexer.rebuild import rebuild

    url, factory = make_registry(tmp_path_factory.mktemp("loaded"))
    report = import_jsonl(factory, DATA_FILE)
    assert not report.rejected
    names = IndexNames(f"t{RUN_ID}-shared-")
    rebuild(client, factory, names)
    yield {"url": url, "factory": factory, "names": names, "opensearch_url": opensearch_url}
    client.indices.delete(index=f"t{RUN_ID}-shared-*", ignore_unavailable=True)


@pytest.fixture(scope="session")
def app(loaded):
    """The portal configured against the shared loaded registry and index."""
    from portal import create_app

    return create_app(
        {
            "TESTING": True,
            "DATABASE_URL": loaded["url"],
            "OPENSEARCH_URL": loaded["opensearch_url"],
            "INDEX_PREFIX": loaded["names"].prefix,
            "SECRET_KEY": "test",
        }
    )


@pytest.fixture
def http(app):
    """A Flask test client of the portal."""
    return app.test_client()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve_portal(
    database_url: str,
    opensearch_url: str,
    prefix: str,
    secret: str = "test",
    env: dict | None = None,
):
    """The portal under gunicorn (a real process) on a free loopback port.

    ``env`` adds environment variables. Yields the base URL once ``/healthz``
    answers; stops gunicorn afterwards.
    """
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "OPENSEARCH_URL": opensearch_url,
        "INDEX_PREFIX": prefix,
        "SECRET_KEY": secret,
        "SESSION_COOKIE_SECURE": "0",
        **(env or {}),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--no-control-socket", "portal:create_app()"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/healthz", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        raise RuntimeError(f"gunicorn did not start: {proc.stderr.read().decode()[-2000:]}")
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
"""Debian's Chromium (browser tests never download a browser)."""
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ROOT / "instance" / "screenshots"
"""Where browser tests leave screenshots to be looked at."""
BROWSER_READY = os.path.exists(CHROMIUM) and AXE.exists()


def launch_chromium(playwright):
    """Headless Debian Chromium, without its background network traffic (the
    machine has no network beyond loopback and package registries)."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=["--no-sandbox", "--disable-gpu", "--disable-quic",
              "--disable-background-networking", "--disable-component-update",
              "--disable-sync", "--no-first-run"],
    )  # fmt: skip

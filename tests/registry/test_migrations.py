"""Alembic migrations build, on SQLite and PostgreSQL, exactly the schema of the models."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from registry.db import MIGRATIONS_DIR, make_engine, migrate
from registry.models import Base

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PREVIOUS_RELEASE = "0005"
"""The newest revision before the change feed carried transaction ids."""


def schema_drift(url: str) -> list:
    """Differences between the database at ``url`` and the models (empty: none)."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def test_migrations_from_empty_match_the_models(tmp_path, database):
    url = database.new_url(tmp_path)
    migrate(url)
    assert schema_drift(url) == []
    migrate(url)  # idempotent
    assert schema_drift(url) == []


def test_migrations_from_the_previous_release_keep_the_feed_in_order(tmp_path, database):
    url = database.new_url(tmp_path)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, PREVIOUS_RELEASE)
    engine = make_engine(url)
    with engine.begin() as connection:
        insert = "INSERT INTO change_feed (record_id, record_version, op) VALUES (:r, 1, 'upsert')"
        for record_id in ("a", "b"):
            connection.execute(text(insert), {"r": record_id})
        connection.execute(text("INSERT INTO indexer_checkpoints (name, seq) VALUES ('main', 1)"))
    migrate(url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT txid, seq FROM change_feed ORDER BY seq")).all()
        checkpoint = connection.execute(text("SELECT txid, seq FROM indexer_checkpoints")).one()
    engine.dispose()
    # old rows sort first, in their old order, and the checkpoint still sits between them
    assert [tuple(r) for r in rows] == [(0, 1), (0, 2)]
    assert tuple(checkpoint) == (0, 1)
    assert schema_drift(url) == []


def test_processes_that_do_not_migrate_start_without_alembic():
    # Alembic and Mako are a third of a command's start-up: only migrating loads them
    code = (
        "import sys, indexer.__main__, portal, registry.db, registry.records; "
        "print(sorted(m for m in ('alembic', 'mako') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=PROJECT_ROOT)  # fmt: skip
    assert out.stdout.strip() == "[]"

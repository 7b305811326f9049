"""Database engine, sessions and migrations for the registry.

``DATABASE_URL`` selects the database (SQLite file by default, PostgreSQL by URL);
Alembic migrations in ``registry/migrations`` define the schema.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "instance" / "innovatiebieb.db"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def database_url(settings: Settings | None = None) -> str:
    """Return the configured database URL.

    Args:
        settings: the configuration (default :meth:`Settings.from_env`).
    Returns:
        ``DATABASE_URL`` when set, else a SQLite file ``instance/innovatiebieb.db`` in
        the project folder (the folder is created when missing).
    """
    url = (settings or Settings.from_env()).database_url
    if url:
        return url
    DEFAULT_SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_SQLITE_PATH}"


def _sqlite_pragmas(busy_timeout_ms: int):
    def apply(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        # WAL lets the portal read while the indexer and importer write; the busy
        # timeout makes concurrent writers wait instead of failing with "locked".
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return apply


def error_line(exc: BaseException) -> str:
    """A database error's own message on one line, for people: the driver's text
    without the hint lines psycopg adds and without SQLAlchemy's SQL echo."""
    return " ".join(str(getattr(exc, "orig", None) or exc).split())


def unreachable(exc: BaseException) -> bool:
    """True when ``exc`` says the database server could not be reached at all."""
    return error_line(exc).startswith(("connection failed", "connection to server"))


def make_engine(url: str | None = None, busy_timeout_ms: int = 10_000) -> Engine:
    """Create an engine for ``url`` (default: :func:`database_url`).

    ``busy_timeout_ms``: how long a SQLite writer waits for another writer's lock
    (ms); other databases ignore it.
    """
    url = url or database_url()
    engine = create_engine(url, future=True, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas(busy_timeout_ms))
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return a session factory bound to ``engine`` (objects stay usable after commit)."""
    return sessionmaker(bind=engine, expire_on_commit=False, future=True)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Yield a session inside one transaction: commit on success, roll back on error."""
    with factory() as session, session.begin():
        yield session


def migrate(url: str | None = None) -> None:
    """Bring the database at ``url`` to the newest Alembic revision (idempotent)."""
    # imported here: Alembic (with Mako) is a third of the start-up of every command
    # and portal worker that only reads and writes the registry
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", (url or database_url()).replace("%", "%%"))
    command.upgrade(cfg, "head")


def prepare(url: str, taxonomy_file: Path | None = None) -> tuple[sessionmaker[Session], int]:
    """Make the database at ``url`` ready: newest schema, taxonomy and thesaurus seeded
    if empty.

    Args:
        url: database URL.
        taxonomy_file: seed file shaped like ``data/taxonomy.json`` (default: the
            project's copy).
    Returns:
        ``(session factory, taxonomy terms seeded)``; 0 terms when the registry already
        had a taxonomy (taxonomy operations are never overwritten by the seed).
    Raises:
        sqlalchemy.exc.OperationalError: the database cannot be reached.
    """
    from .taxonomy import DEFAULT_TAXONOMY_FILE, seed_taxonomy
    from .thesaurus import seed_thesaurus

    migrate(url)
    factory = make_session_factory(make_engine(url))
    seed = json.loads(Path(taxonomy_file or DEFAULT_TAXONOMY_FILE).read_text(encoding="utf-8"))
    with transaction(factory) as session:
        seeded = seed_taxonomy(session, seed)
        seed_thesaurus(session)
    return factory, seeded

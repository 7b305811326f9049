"""Per-app handles to the registry and OpenSearch, and the cached taxonomy.

Stored in ``app.extensions["innovatiebieb"]``; views reach them through the helper
functions here rather than globals.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from flask import Flask, current_app
from opensearchpy import OpenSearch
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from indexer.client import IndexNames, make_client
from portal.search.analysis import default_decompounder
from portal.search.synonyms import SynonymIndex
from registry import thesaurus
from registry.db import make_engine, make_session_factory
from registry.models import TaxonomyEvent, TaxonomyTerm, ThesaurusEvent
from registry.search_log_writer import SearchLogWriter
from registry.taxonomy import Taxonomy, load_taxonomy

from .breaker import CircuitBreaker, GuardedTransport, guard
from .json_provider import OrjsonSerializer

REGISTRY_REVISIONS = select(
    select(func.max(TaxonomyEvent.seq)).scalar_subquery(),
    select(func.count()).select_from(TaxonomyTerm).scalar_subquery(),
    select(func.max(ThesaurusEvent.seq)).scalar_subquery(),
)
"""One small statement that tells whether the cached taxonomy and thesaurus are
current: ``(newest taxonomy history seq, taxonomy term count, newest thesaurus history
seq)``. Every taxonomy and thesaurus operation adds a history entry, and seeding adds
terms, so an unchanged triple means both copies are current."""


def load_synonyms(session: Session) -> SynonymIndex:
    """The thesaurus in force in the registry, as the portal searches with it (every
    synonym set of :func:`registry.thesaurus.list_sets`)."""
    return SynonymIndex(thesaurus.list_sets(session))


@dataclass
class Backends:
    """The app's engine, session factories (``log_sessions``: short lock waits, for
    search analytics), the search log's batching writer, OpenSearch client, index
    names, and the cached taxonomy and thesaurus."""

    engine: Engine
    sessions: sessionmaker[Session]
    search: OpenSearch
    names: IndexNames
    log_sessions: sessionmaker[Session] | None = None
    search_log: SearchLogWriter | None = None
    taxonomy_check_s: float = 1.0
    _taxonomy: Taxonomy | None = None
    _taxonomy_key: tuple | None = None
    _synonyms: SynonymIndex | None = None
    _synonyms_revision: int | None = None
    _checked_at: float | None = None
    _check_lock: threading.Lock = field(default_factory=threading.Lock)

    def taxonomy(self) -> Taxonomy:
        """The registry's taxonomy, reloaded only when it changed.

        Fresh (checked less than ``taxonomy_check_s`` seconds ago) it costs no query;
        see :meth:`refresh` for the check, so a taxonomy operation shows in the
        portal within that time.
        """
        if self._taxonomy is None or self._due():
            self.refresh()
        return self._taxonomy

    def synonyms(self) -> SynonymIndex:
        """The thesaurus in force, reloaded only when its history has a new entry
        (checked together with the taxonomy, :meth:`refresh`), so an administrator's
        change is live in every portal process within ``taxonomy_check_s`` seconds."""
        if self._synonyms is None or self._due():
            self.refresh()
        return self._synonyms

    def _due(self) -> bool:
        checked = self._checked_at
        return checked is None or time.monotonic() - checked >= self.taxonomy_check_s

    def refresh(self) -> None:
        """Check the registry's revisions (:data:`REGISTRY_REVISIONS`, one query on a
        plain connection) and reload the taxonomy or thesaurus that changed.

        At most one check per ``taxonomy_check_s`` seconds per process: the first
        thread to find the copies due claims the check; other threads keep using the
        cached copies meanwhile (they wait only while nothing is cached yet). A page
        asks for the taxonomy several times, and profiling showed a per-call check
        (two ORM queries) at 17% of a search.
        """
        cached = self._taxonomy is not None and self._synonyms is not None
        if not self._check_lock.acquire(blocking=not cached):
            return  # another thread is checking; the cached copies serve meanwhile
        try:
            if cached and not self._due():
                return
            started = time.monotonic()  # the interval counts from the check's start
            with self.engine.connect() as connection:
                tax_seq, term_count, thesaurus_seq = connection.execute(REGISTRY_REVISIONS).one()
            key = (tax_seq, term_count)
            revision = thesaurus_seq or 0
            if self._taxonomy is None or key != self._taxonomy_key:
                with self.sessions() as session:
                    self._taxonomy = load_taxonomy(session)
                self._taxonomy_key = key
            if self._synonyms is None or revision != self._synonyms_revision:
                with self.sessions() as session:
                    self._synonyms = load_synonyms(session)
                self._synonyms_revision = revision
            self._checked_at = started
        finally:
            self._check_lock.release()


def init_app(app: Flask) -> None:
    """Create the backends from ``app.config`` (no connection is opened yet)."""
    # the decompounder's word list is read once per process, before the first request:
    # threads of a worker would otherwise each build it at once on their first search
    default_decompounder()
    engine = make_engine(app.config.get("DATABASE_URL"))
    # analytics writes wait at most 250 ms for a lock (a long taxonomy operation
    # holds SQLite's write lock): a busy registry costs a log row, never a slow search
    log_engine = make_engine(app.config.get("DATABASE_URL"), busy_timeout_ms=250)
    log_sessions = make_session_factory(log_engine)
    app.extensions["innovatiebieb"] = Backends(
        engine=engine,
        sessions=make_session_factory(engine),
        log_sessions=log_sessions,
        search_log=SearchLogWriter(log_sessions),
        search=guard(
            make_client(
                app.config["OPENSEARCH_URL"],
                timeout_s=app.config["SEARCH_TIMEOUT_S"],
                transport_class=GuardedTransport,
                serializer=OrjsonSerializer(),
            ),
            CircuitBreaker(threshold=3, cooldown_s=app.config["SEARCH_BREAKER_S"]),
            slots=app.config["SEARCH_CONCURRENCY"],
        ),
        names=IndexNames(app.config["INDEX_PREFIX"]),
        taxonomy_check_s=float(app.config.get("TAXONOMY_CHECK_S", 1.0)),
    )


def backends() -> Backends:
    """The current app's :class:`Backends`."""
    return current_app.extensions["innovatiebieb"]


def flush_search_log(app: Flask, timeout_s: float = 10.0) -> bool:
    """Write every search ``app`` has queued for the search log before returning
    (tests and tools that read the log right after searching call this).

    Returns:
        True when all was written within ``timeout_s`` seconds, else False.
    """
    writer = app.extensions["innovatiebieb"].search_log
    return writer is None or writer.flush(timeout_s)

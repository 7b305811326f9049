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
from registry.models import TaxonomyEvent, TaxonomyTerm
from registry.search_log_writer import SearchLogWriter
from registry.taxonomy import Taxonomy, load_taxonomy

from .breaker import CircuitBreaker, GuardedTransport, guard
from .json_provider import OrjsonSerializer


@dataclass
class Backends:
    """The app's engine, session factories (``log_sessions``: short lock waits, for
    search analytics), the search log's batching writer, OpenSearch client, index
    names, taxonomy."""

    engine: Engine
    sessions: sessionmaker[Session]
    search: OpenSearch
    names: IndexNames
    log_sessions: sessionmaker[Session] | None = None
    search_log: SearchLogWriter | None = None
    taxonomy_check_s: float = 1.0
    _taxonomy: Taxonomy | None = None
    _taxonomy_key: tuple | None = None
    _checked_at: float = 0.0
    _synonyms: SynonymIndex | None = None
    _synonyms_revision: int | None = None
    _synonyms_checked_at: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def synonyms(self) -> SynonymIndex:
        """The thesaurus in force, reloaded only when its history has a new entry.

        Like :meth:`taxonomy`, the registry is asked at most once per
        ``taxonomy_check_s`` seconds, so an administrator's change is live in every
        portal process within that time.
        """
        now = time.monotonic()
        if self._synonyms is not None and now - self._synonyms_checked_at < self.taxonomy_check_s:
            return self._synonyms
        with self.sessions() as session:
            current = thesaurus.revision(session)
            with self._lock:
                if self._synonyms is None or current != self._synonyms_revision:
                    self._synonyms = SynonymIndex(thesaurus.list_sets(session))
                    self._synonyms_revision = current
                self._synonyms_checked_at = now
                return self._synonyms

    def taxonomy(self) -> Taxonomy:
        """The registry's taxonomy, reloaded only when it changed.

        The key is (newest history seq, term count): every taxonomy operation adds a
        history entry, so a cheap query tells whether the cached copy is current. That
        query runs at most once per ``taxonomy_check_s`` seconds (a page asks for the
        taxonomy many times; profiling showed the check at 17% of a search), so a
        taxonomy operation shows in the portal within that time.
        """
        now = time.monotonic()
        if self._taxonomy is not None and now - self._checked_at < self.taxonomy_check_s:
            return self._taxonomy
        with self.sessions() as session:
            key = (
                session.scalar(select(func.max(TaxonomyEvent.seq))),
                session.scalar(select(func.count()).select_from(TaxonomyTerm)),
            )
            with self._lock:
                if self._taxonomy is None or key != self._taxonomy_key:
                    self._taxonomy = load_taxonomy(session)
                    self._taxonomy_key = key
                self._checked_at = now
                return self._taxonomy


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

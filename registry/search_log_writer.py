"""The search log written off the request path, in batches.

A search view only hands its row to :meth:`SearchLogWriter.submit` (a queue append,
microseconds); one background thread per process writes what has gathered in one
transaction with one multi-row ``INSERT``, waiting up to :data:`LINGER_S` after the
first row for others to join. Many searches share a transaction, also at a few
searches a second, and no request thread waits for the registry.

Nothing submitted is lost on an orderly shutdown: :meth:`SearchLogWriter.flush`
waits until every row submitted before the call is written (or failed), and an
``atexit`` hook flushes every writer of the process (gunicorn workers exit through
``sys.exit`` on SIGTERM and SIGINT, which runs it). Tests and command-line tools call
:meth:`~SearchLogWriter.flush` before they read the log. A process killed with
SIGKILL loses the rows still queued (at most :data:`MAX_QUEUE`).

A failed write (a locked or unreachable registry) is logged and its batch dropped:
analytics never fail or slow a search.
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import os
import threading
import time
import weakref
from collections import deque

from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from .db import transaction
from .models import SearchLogEntry
from .search_log import normalise_query

log = logging.getLogger(__name__)

MAX_BATCH = 500
"""Rows written in one transaction at most."""
LINGER_S = 0.5
"""How long the writer waits after a first row for more to join its transaction,
seconds: at a few searches a second one transaction per search would cost more CPU
than the search's own work; a flush (and the exit hook) ends the wait at once."""
MAX_QUEUE = 10_000
"""Rows waiting at most; beyond that a row is dropped (and counted) rather than
letting memory grow while the registry is unreachable."""

_writers: weakref.WeakSet[SearchLogWriter] = weakref.WeakSet()


class SearchLogWriter:
    """Batches public-search rows into the registry from one background thread.

    Args:
        factory: session factory of the registry (the portal passes one whose SQLite
            engine waits at most 250 ms for a lock).
        max_batch: rows per transaction at most.
        max_queue: rows waiting at most before new ones are dropped.
        linger_s: seconds the writer waits after a first row for more rows (up to
            ``max_batch``) before it writes; a flush ends the wait.

    Thread-safe; the thread starts on the first :meth:`submit` of a process (so a
    forked gunicorn worker starts its own).
    """

    def __init__(
        self,
        factory: sessionmaker[Session],
        max_batch: int = MAX_BATCH,
        max_queue: int = MAX_QUEUE,
        linger_s: float = LINGER_S,
    ) -> None:
        self.factory = factory
        self.max_batch = max_batch
        self.max_queue = max_queue
        self.linger_s = linger_s
        self._flushing = 0
        self.dropped = 0
        self._rows: deque[dict] = deque()
        self._cond = threading.Condition()
        self._submitted = 0
        self._done = 0
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        _writers.add(self)

    def submit(
        self,
        q: str,
        filters: dict[str, list[str]],
        total: int,
        took_ms: int | None = None,
        at: dt.datetime | None = None,
    ) -> None:
        """Queue one public search; returns at once.

        Args:
            q: the query text as searched (stored through
                :func:`~registry.search_log.normalise_query`).
            filters: ``{facet name: [selected values]}``; empty selections are dropped.
            total: number of hits.
            took_ms: duration of the search in milliseconds, if measured.
            at: time of the search (default: now, UTC — the time of the search, not
                of the write).
        """
        row = {
            "at": at or dt.datetime.now(dt.UTC),
            "q": normalise_query(q),
            "filters": {name: list(values) for name, values in filters.items() if values},
            "total": int(total),
            "took_ms": took_ms,
        }
        with self._cond:
            if len(self._rows) >= self.max_queue:
                self.dropped += 1
                if self.dropped == 1 or self.dropped % 1000 == 0:
                    log.warning("search log: queue full, %d searches not recorded", self.dropped)
                return
            self._ensure_thread()
            self._rows.append(row)
            self._submitted += 1
            self._cond.notify_all()

    def flush(self, timeout_s: float | None = 10.0) -> bool:
        """Wait until every row submitted before this call is written (or its write
        failed and was logged).

        Args:
            timeout_s: wait at most this long, seconds (None: no limit).
        Returns:
            True when everything was written, False on timeout.
        """
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        with self._cond:
            target = self._submitted
            if self._rows and (self._thread is None or not self._thread.is_alive()):
                self._ensure_thread()
            self._flushing += 1
            self._cond.notify_all()  # the writer stops lingering
            try:
                while self._done < target:
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        return False
                    self._cond.wait(remaining)
                return True
            finally:
                self._flushing -= 1

    def pending(self) -> int:
        """Rows submitted and not yet written."""
        with self._cond:
            return self._submitted - self._done

    def _ensure_thread(self) -> None:
        # called with the condition held; a fork copies the queue but not the thread
        if self._thread is not None and self._pid == os.getpid() and self._thread.is_alive():
            return
        self._pid = os.getpid()
        self._thread = threading.Thread(target=self._run, name="search-log-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._rows:
                    self._cond.wait()
                until = time.monotonic() + self.linger_s
                while len(self._rows) < self.max_batch and not self._flushing:
                    remaining = until - time.monotonic()
                    if remaining <= 0:
                        break
                    self._cond.wait(remaining)
                batch = [self._rows.popleft() for _ in range(min(self.max_batch, len(self._rows)))]
            self._write(batch)
            with self._cond:
                self._done += len(batch)
                self._cond.notify_all()

    def _write(self, batch: list[dict]) -> None:
        try:
            with transaction(self.factory) as session:
                session.execute(insert(SearchLogEntry), batch)
        except Exception:  # noqa: BLE001 - any registry trouble must not reach the visitor
            log.warning(
                "search log: could not record a search (%d rows dropped)", len(batch), exc_info=True
            )


def flush_all(timeout_s: float = 10.0) -> None:
    """Flush every writer of this process (run at interpreter exit)."""
    for writer in list(_writers):
        if writer.pending() and not writer.flush(timeout_s):
            log.warning("search log: %d searches not written at exit", writer.pending())


atexit.register(flush_all)

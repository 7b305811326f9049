"""Taxonomy merge at scale, under a concurrent search load.

Two active communities that together cover about :data:`AFFECTED_SHARE` of the
innovations are merged into a new one with :func:`registry.taxonomy_ops.apply`, while
``python -m indexer run`` is running and threads search through the portal. Measured:
the time from the start of the merge until the portal's community facet counts equal
the counts the registry gives (predicted by :func:`registry.taxonomy_ops.preview`,
checked afterwards against a recount with
:func:`registry.taxonomy_ops.published_counts`), and every failed search meanwhile.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from itertools import combinations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from indexer.sync import pending
from registry.db import transaction
from registry.models import Innovation
from registry.taxonomy import load_taxonomy
from registry.taxonomy_ops import Operation, apply, preview, published_counts

from .search_bench import LoadResult, describe, portal_sender

AFFECTED_SHARE = 0.10
"""Share of all innovations the merge should re-map."""
MERGE_TARGET = "bench-samengevoegd"
POLL_S = 0.1
"""Interval of the facet-count poll, seconds."""
LOAD_THREADS = 2


def community_coverage(factory: sessionmaker[Session]) -> tuple[int, Counter, Counter]:
    """Innovations in total, per current community, and per pair of current communities.

    Streams the registry (every status: the change feed re-maps drafts too).
    """
    singles: Counter = Counter()
    pairs: Counter = Counter()
    total = 0
    with factory() as session:
        taxonomy = load_taxonomy(session)
        rows = session.execute(select(Innovation.id, Innovation.communities)).yield_per(5000)
        for record_id, communities in rows:
            current = sorted(set(taxonomy.resolve_communities(communities, record_id)))
            total += 1
            singles.update(current)
            pairs.update(combinations(current, 2))
    return total, singles, pairs


def choose_sources(total: int, singles: Counter, pairs: Counter) -> tuple[list[str], int]:
    """The pair of communities whose union is closest to :data:`AFFECTED_SHARE` of
    ``total``; returns ``(sources, innovations covered)``."""
    goal = AFFECTED_SHARE * total
    best: tuple[float, list[str], int] | None = None
    for a, b in combinations(sorted(singles), 2):
        union = singles[a] + singles[b] - pairs[(a, b)]
        if best is None or abs(union - goal) < best[0]:
            best = (abs(union - goal), [a, b], union)
    if best is None:
        raise RuntimeError("fewer than two communities in use: nothing to merge")
    return best[1], best[2]


def wait_caught_up(factory: sessionmaker[Session], timeout_s: float) -> None:
    """Wait until the indexer's checkpoint reaches the newest change (or raise)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with factory() as session:
            if pending(session) == 0:
                return
        time.sleep(POLL_S)
    raise RuntimeError(f"the indexer did not catch up within {timeout_s} s")


class SearchLoad:
    """Threads that search through the portal in a loop until stopped."""

    def __init__(self, base_url: str, paths: list[str], threads: int = LOAD_THREADS):
        self.send = portal_sender(base_url)
        self.paths = paths
        self.result = LoadResult()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._loop, args=(i,)) for i in range(threads)]

    def _loop(self, offset: int) -> None:
        number = offset
        while not self._stop.is_set():
            index = number % len(self.paths)
            number += len(self._threads)
            started = time.perf_counter()
            try:
                self.send(self.paths[index])
            except Exception as exc:  # noqa: BLE001 - a failed search is what we count
                with self._lock:
                    self.result.failed += 1
                    self.result.errors[f"{type(exc).__name__}: {exc}"[:120]] += 1
                continue
            with self._lock:
                self.result.latencies.append((index, (time.perf_counter() - started) * 1000))

    def __enter__(self) -> SearchLoad:
        self._started = time.perf_counter()
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()
        self.result.seconds = time.perf_counter() - self._started


def portal_community_counts(send, path: str = "/api/v1/search?size=1") -> dict[str, int]:
    """``{community id: count}`` of the portal's community facet (counts above 0)."""
    facets = send(path)["facets"]["community"]
    return {item["value"]: item["count"] for item in facets if item["count"]}


def _wait_for_counts(send, expected: dict[str, int], started: float, timeout_s: float):
    """Poll the portal until its counts equal ``expected``; returns (seconds, polls, failed)."""
    polls = failed = 0
    while time.perf_counter() - started < timeout_s:
        polls += 1
        try:
            if portal_community_counts(send) == expected:
                return time.perf_counter() - started, polls, failed
        except Exception:  # noqa: BLE001 - a failed poll is a failed search too
            failed += 1
        time.sleep(POLL_S)
    return None, polls, failed


def measure_merge(
    base_url: str, factory: sessionmaker[Session], load_paths: list[str], timeout_s: float
) -> dict:
    """Merge two communities covering ~10 % of the innovations while searching.

    Needs ``python -m indexer run`` running against the same registry and prefix.

    Returns:
        ``{"sources", "target", "affected", "affected_share", "apply_ms",
        "seconds_to_counts_equal" (None on timeout), "recount_matches", "polls",
        "load": {...latencies in ms, failed...}, "failed_searches"}``.
    """
    total, singles, pairs = community_coverage(factory)
    sources, _covered = choose_sources(total, singles, pairs)
    op = Operation("merge", sources, MERGE_TARGET, labels={"nl": "Bench samengevoegd"})
    with factory() as session:
        expected = {k: v for k, v in preview(session, op).counts_after.items() if v}
    wait_caught_up(factory, timeout_s)
    send = portal_sender(base_url)
    paths = load_paths + [f"/api/v1/search?community={s}" for s in sources]
    with SearchLoad(base_url, paths) as load:
        time.sleep(1.0)  # the load runs before the merge starts, too
        started = time.perf_counter()
        with transaction(factory) as session:
            event = apply(session, op, "bench")
            affected = event.payload["affected"]
        apply_ms = (time.perf_counter() - started) * 1000
        seconds, polls, poll_failed = _wait_for_counts(send, expected, started, timeout_s)
    with factory() as session:
        recount = {k: v for k, v in published_counts(session).items() if v}
    return {
        "sources": sources,
        "target": MERGE_TARGET,
        "affected": affected,
        "affected_share": round(affected / total, 4) if total else None,
        "apply_ms": round(apply_ms, 1),
        "seconds_to_counts_equal": None if seconds is None else round(seconds, 3),
        "recount_matches": recount == expected,
        "polls": polls,
        "load": describe(load.result),
        "failed_searches": load.result.failed + poll_failed,
    }

"""Full rebuild into fresh versioned indices, atomic alias swap, and rollback.

The rebuild streams records from the registry (memory does not grow with their
number) in a reader thread that builds the documents while the bulk requests of the
previous ones are under way, bulk-loads both new indices, replays the changes that
arrived meanwhile, then moves both aliases in one ``_aliases`` call. The indices
behind the aliases before the swap are kept for :func:`rollback`; older ones are
deleted.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import click
from opensearchpy import OpenSearch, helpers
from opensearchpy.exceptions import OpenSearchException
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from registry.db import transaction
from registry.models import Change, Innovation
from registry.records import iter_records, record_to_dict
from registry.taxonomy import load_taxonomy

from .client import AUDIENCES, IndexNames, index_body
from .lease import LEASE_SECONDS
from .sync import Position, actions_for, advance_checkpoint, after, apply_records, horizon

log = logging.getLogger("indexer")

BULK_CHUNK = 1000
"""Bulk actions (documents and deletes of both audiences) per bulk request. Measured on
a quiet machine at 10,000 records (``bench/results/2026-12-02-rebuild-overlap-10000-
quiet-10000.md``): with the reader thread 1000 gave 0.95–1.13× the raw bulk, 2000
0.86–0.89×, 500 0.41–0.86× (its first round paid the node's warm-up)."""

HEARTBEAT_RECORDS = 500
"""Records between two heartbeats of a rebuild (besides :data:`HEARTBEAT_S`); also the
records per replay batch of :func:`rollback`."""

PREFETCH_CHUNKS = 4
"""Bulk requests' worth of actions the reader thread may build ahead of the bulk
round trips (bounds the rebuild's memory: at most this many chunks wait in the queue)."""

READER_THREAD = "rebuild-reader"
"""Name of the thread that reads the registry and builds documents during a rebuild."""

HEARTBEAT_S = LEASE_SECONDS / 3
"""Longest wait between two heartbeats of a rebuild (s), whatever the records' pace: a
third of the lease, so a slow node (tens of records a second) cannot let it lapse."""

BULK_OPTIONS = {
    "chunk_size": BULK_CHUNK,
    "raise_on_error": False,
    "raise_on_exception": True,
    "max_retries": 5,
    "initial_backoff": 1,
    "max_backoff": 30,
}
"""``streaming_bulk`` settings of a rebuild: 429s retried with backoff (1–30 s);
a transport failure raises. The benchmark's raw ceiling uses the same ones."""


class RebuildError(RuntimeError):
    """A rebuild could not finish; the aliases were not moved."""


@dataclass
class RebuildResult:
    """Outcome of :func:`rebuild`: new index names, documents per audience, rejects."""

    indices: dict[str, str]
    counts: dict[str, int] = field(default_factory=dict)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    replayed: int = 0
    swapped: bool = False


def _stamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S%f")


def current_indices(client: OpenSearch, names: IndexNames) -> dict[str, list[str]]:
    """``{audience: [index, …]}`` that each alias points at now (empty when missing)."""
    out: dict[str, list[str]] = {}
    for audience in AUDIENCES:
        alias = names.alias(audience)
        if client.indices.exists_alias(name=alias):
            out[audience] = sorted(client.indices.get_alias(name=alias))
        else:
            out[audience] = []
    return out


def _record_actions(
    factory: sessionmaker[Session], targets: dict, progress: Callable[[int], None]
) -> Iterator[dict]:
    with factory() as session:
        taxonomy = load_taxonomy(session)
        for count, row in enumerate(iter_records(session), start=1):
            record = record_to_dict(row)
            yield from actions_for(record["id"], record, 0, taxonomy, targets)
            progress(count)


_DONE = object()


def prefetched(
    make_batches: Callable[[], Iterator[tuple[int, list[dict]]]], depth: int = PREFETCH_CHUNKS
) -> Iterator[tuple[int, list[dict]]]:
    """Run the producer ``make_batches`` in a thread of its own and yield its batches.

    The producer (registry reads and document building) fills a queue of at most
    ``depth`` batches while the caller waits on OpenSearch, so building and bulk round
    trips overlap; the queue bound keeps memory flat whatever the registry's size.

    Args:
        make_batches: called once in the reader thread; yields ``(records done so
            far, actions)``.
        depth: batches that may wait in the queue (at least 1).
    Yields:
        the producer's batches, in its order.
    Raises:
        whatever the producer raised, in the caller's thread, once the batches before
        it were yielded. When the caller stops early (an exception in the bulk
        loop, or ``close()``), the producer is told to stop and the thread is joined
        before the caller's exception goes on, so no thread outlives the rebuild.
    """
    batches: queue.Queue = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()
    failure: list[BaseException] = []

    def offer(item) -> bool:
        while not stop.is_set():
            try:
                batches.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for batch in make_batches():
                if not offer(batch):
                    return
        except BaseException as exc:  # handed to the caller's thread
            failure.append(exc)
        offer(_DONE)

    reader = threading.Thread(target=produce, name=READER_THREAD, daemon=True)
    reader.start()
    try:
        while True:
            item = batches.get()
            if item is _DONE:
                break
            yield item
        if failure:
            raise failure[0]
    finally:
        stop.set()
        reader.join()


def _record_batches(
    factory: sessionmaker[Session], targets: dict, records_per_batch: int
) -> Iterator[tuple[int, list[dict]]]:
    """``(records done, actions)`` per ``records_per_batch`` registry records (the last
    batch may be smaller)."""
    with factory() as session:
        taxonomy = load_taxonomy(session)
        batch: list[dict] = []
        done = 0
        for done, row in enumerate(iter_records(session), start=1):
            record = record_to_dict(row)
            batch.extend(actions_for(record["id"], record, 0, taxonomy, targets))
            if done % records_per_batch == 0:
                yield done, batch
                batch = []
        if batch:
            yield done, batch


def _overlapped_actions(
    factory: sessionmaker[Session],
    targets: dict,
    progress: Callable[[int], None],
    chunk_size: int = BULK_CHUNK,
    depth: int = PREFETCH_CHUNKS,
) -> Iterator[dict]:
    """The rebuild's bulk actions, built by a reader thread (:func:`prefetched`, up to
    ``depth`` batches ahead) in batches of about ``chunk_size`` actions;
    ``progress(records done)`` is called in the caller's thread as batches are taken.
    ``depth`` 0 builds them in the caller's thread instead (no overlap)."""
    if depth < 1:
        yield from _record_actions(factory, targets, progress)
        return
    per_batch = max(1, chunk_size // len(AUDIENCES))
    batches = prefetched(lambda: _record_batches(factory, targets, per_batch), depth)
    try:
        for done, actions in batches:
            yield from actions
            progress(done)
    finally:
        batches.close()


def beating(
    heartbeat: Callable[[], None],
    every_records: int = HEARTBEAT_RECORDS,
    every_s: float = HEARTBEAT_S,
    clock: Callable[[], float] = time.monotonic,
) -> Callable[[int], None]:
    """A ``progress(records done)`` hook that calls ``heartbeat()`` once per further
    ``every_records`` records or when ``every_s`` seconds (``clock`` units) passed since
    the last call, whichever comes first; at most one call per progress step."""
    last = {"records": 0, "at": clock()}

    def progress(count: int) -> None:
        now = clock()
        if count // every_records > last["records"] or now - last["at"] >= every_s:
            last["records"] = count // every_records
            last["at"] = now
            heartbeat()

    return progress


def _progress_printer(total: int) -> Callable[[int], None]:
    """A progress bar (click's) on a terminal (stderr), silence otherwise; the returned
    function takes the number of records done so far."""
    if not sys.stderr.isatty() or total == 0:
        return lambda _count: None
    bar = click.progressbar(
        length=total, label="  records", show_pos=True, file=sys.stderr, update_min_steps=50
    )

    done = [0]

    def show(count: int) -> None:
        bar.update(count - done[0])
        done[0] = count
        if count == total:
            bar.render_finish()

    return show


def rebuild(
    client: OpenSearch,
    factory: sessionmaker[Session],
    names: IndexNames,
    heartbeat: Callable[[], None] | None = None,
    chunk_size: int = BULK_CHUNK,
    prefetch: int = PREFETCH_CHUNKS,
    heartbeat_s: float = HEARTBEAT_S,
) -> RebuildResult:
    """Build both indices from the registry and swap the aliases atomically.

    ``heartbeat`` is called every :data:`HEARTBEAT_RECORDS` records and at least every
    ``heartbeat_s`` seconds while records arrive (:func:`beating`; the CLI renews its
    lease there, so a long or slow rebuild keeps it), in the caller's thread. ``chunk_size``:
    bulk actions per request (default :data:`BULK_CHUNK`; the benchmark varies it).
    ``prefetch``: chunks the reader thread may build ahead (0: no reader thread, the
    documents are built between bulk requests, as the benchmark's baseline).

    A reader thread reads the registry and builds the documents while this thread
    waits for the bulk round trips (:func:`prefetched`, at most
    :data:`PREFETCH_CHUNKS` chunks ahead); an error on either side stops both.

    Raises:
        RebuildError: documents were rejected (each listed in the result with its
            id and reason, the new indices are kept for inspection and the aliases
            stay where they were), or the cluster failed (a bulk request raised).
        Exception: whatever reading the registry or building a document raised,
            after the reader thread stopped; the aliases stay where they were.
    Returns:
        a :class:`RebuildResult` with ``swapped=True``.
    """
    stamp = _stamp()
    targets = {audience: names.index(audience, stamp) for audience in AUDIENCES}
    result = RebuildResult(indices=targets)
    for audience, index in targets.items():
        body = index_body(audience)
        # refresh off and no replicas while loading; restored before the swap
        body["settings"]["index"]["refresh_interval"] = "-1"
        client.indices.create(index=index, body=body)
    with factory() as session:
        # every change at or before this position is in the registry rows read below
        start = horizon(session)
        total = session.scalar(select(func.count()).select_from(Innovation)) or 0
    show = _progress_printer(total)

    beat = beating(heartbeat, HEARTBEAT_RECORDS, heartbeat_s) if heartbeat else None

    def progress(count: int) -> None:
        show(count)
        if beat:
            beat(count)

    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, not {chunk_size}")
    options = {**BULK_OPTIONS, "chunk_size": chunk_size}
    actions = _overlapped_actions(factory, targets, progress, chunk_size, prefetch)
    try:
        for ok, item in helpers.streaming_bulk(client, actions, **options):
            op, info = next(iter(item.items()))
            if not ok and not (op == "delete" and info.get("status") == 404):
                error = info.get("error")
                reason = error.get("reason") if isinstance(error, dict) else str(error)
                result.rejected.append((info.get("_id", "?"), reason or "rejected"))
        for index in targets.values():
            client.indices.put_settings(index=index, body={"index": {"refresh_interval": "1s"}})
            client.indices.refresh(index=index)
    except OpenSearchException as exc:
        raise RebuildError(f"bulk load failed; aliases not moved: {exc}") from exc
    finally:
        actions.close()  # stops and joins the reader thread on every way out
    if result.rejected:
        raise RebuildError(_reject_message(result))
    result.replayed += _replay(client, factory, targets, start)
    previous = current_indices(client, names)
    swap_aliases(client, names, targets, previous)
    result.swapped = True
    # changes the sync loop wrote to the old indices between replay and swap
    with factory() as session:
        done = horizon(session)
    result.replayed += _replay(client, factory, targets, start)
    with transaction(factory) as session:
        advance_checkpoint(session, done)
    _drop_older(client, names, keep={*targets.values(), *sum(previous.values(), [])})
    for audience, index in targets.items():
        result.counts[audience] = client.count(index=index)["count"]
    return result


def _reject_message(result: RebuildResult) -> str:
    lines = [f"{len(result.rejected)} document(s) rejected; aliases not moved:"]
    lines += [f"  {doc_id}: {reason}" for doc_id, reason in result.rejected]
    return "\n".join(lines)


def _replay(
    client: OpenSearch, factory: sessionmaker[Session], targets: dict, start: Position
) -> int:
    """Apply every committed change after position ``start`` to ``targets``; returns
    changes read."""
    with factory() as session:
        changes = [
            (c.record_id, c.record_version)
            for c in session.scalars(select(Change).where(after(start)))
        ]
    if changes:
        _, _, failed = apply_records(client, factory, changes, targets)
        if failed:
            raise RebuildError(f"replay failed for: {failed}")
        for index in targets.values():
            client.indices.refresh(index=index)
    return len(changes)


def swap_aliases(
    client: OpenSearch, names: IndexNames, targets: dict, previous: dict[str, list[str]]
) -> None:
    """Point each alias at ``targets[audience]`` in one atomic ``_aliases`` request."""
    actions = []
    for audience, index in targets.items():
        alias = names.alias(audience)
        for old in previous.get(audience, []):
            actions.append({"remove": {"index": old, "alias": alias}})
        actions.append({"add": {"index": index, "alias": alias}})
    client.indices.update_aliases(body={"actions": actions})


def _drop_older(client: OpenSearch, names: IndexNames, keep: set[str]) -> None:
    for audience in AUDIENCES:
        existing = client.indices.get(index=names.pattern(audience), ignore_unavailable=True)
        for index in existing:
            if index not in keep:
                client.indices.delete(index=index)


def rollback(client: OpenSearch, factory: sessionmaker[Session], names: IndexNames) -> dict:
    """Point both aliases back at the previous indices, then replay recent changes.

    Returns:
        ``{audience: index}`` now behind each alias.
    Raises:
        RebuildError: there is no previous index to go back to.
    """
    now = current_indices(client, names)
    targets = {}
    for audience in AUDIENCES:
        existing = sorted(
            client.indices.get(index=names.pattern(audience), ignore_unavailable=True)
        )
        older = [i for i in existing if now[audience] and i < now[audience][0]]
        if not older:
            raise RebuildError(f"no previous index for {names.alias(audience)}")
        targets[audience] = older[-1]
    swap_aliases(client, names, targets, now)
    # the previous indices miss what changed since; versions make the replay safe
    with factory() as session:
        batch: list[tuple[str, int]] = []
        for row in iter_records(session):
            batch.append((row.id, row.version))
            if len(batch) == HEARTBEAT_RECORDS:
                apply_records(client, factory, batch, targets)
                batch.clear()
    if batch:
        apply_records(client, factory, batch, targets)
    return targets

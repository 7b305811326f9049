"""Incremental sync: follow the change feed from the checkpoint into both aliases.

Each change row only names a record; the record is re-read from the registry and
its current documents are written with an external version
(:func:`indexer.documents.document_version`), so replayed or late writes are
harmless (``external_gte``: an equal version rewrites identical content). The
checkpoint moves only after OpenSearch acknowledged the batch.

No change is lost past the checkpoint. The feed is read in *position* order,
``(txid, seq)``, and only up to the :func:`horizon`, the position at or before which
every row is committed or will never exist:

- SQLite serialises writers: a row's ``seq`` is handed out under the write lock
  held until commit, so ids commit in order; ``txid`` is 0 and the horizon is the
  newest ``seq``.
- PostgreSQL hands out ``seq`` at insert, not at commit, so a slow transaction
  can commit ``seq`` 100 after 101 was read. Each row therefore carries its
  transaction's id (``pg_current_xact_id()``), and the horizon is
  ``(pg_snapshot_xmin(pg_current_snapshot()), 0)``: every transaction with a
  smaller id has ended, and every later one gets a larger id, so the set of rows
  before the horizon never grows. A change becomes visible to the indexer once
  every older writing transaction has ended; a long-open writing transaction
  delays the changes after it (never loses them).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from opensearchpy import OpenSearch, helpers
from opensearchpy.exceptions import OpenSearchException
from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.orm import Session, sessionmaker

from registry.db import transaction
from registry.models import Change, Checkpoint, DeadLetter, Innovation
from registry.records import record_to_dict
from registry.taxonomy import Taxonomy, load_taxonomy

from .client import AUDIENCES, IndexNames
from .documents import build_document, document_version

log = logging.getLogger("indexer")

CHECKPOINT = "main"
BATCH_SIZE = 500
MAX_ATTEMPTS = 3
SETTLE_S = 30.0
"""How long :func:`sync_all` waits for committed changes behind an open transaction."""
"""Bulk attempts for one change before it is parked in the dead-letter table."""


@dataclass
class SyncResult:
    """What one :func:`sync_once` call did: change rows read, documents written."""

    changes: int = 0
    written: int = 0
    deleted: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    checkpoint: int = 0


Position = tuple[int, int]
"""A place in the change feed: ``(txid, seq)`` of a row; feed order is tuple order."""


def get_checkpoint(session: Session) -> int:
    """The ``seq`` of the last applied change (0 when the indexer never ran)."""
    return get_position(session)[1]


def get_position(session: Session) -> Position:
    """The position of the last applied change (``(0, 0)`` when the indexer never ran)."""
    row = session.get(Checkpoint, CHECKPOINT)
    return (row.txid, row.seq) if row else (0, 0)


def advance_checkpoint(session: Session, position: Position) -> None:
    """Move the checkpoint forward to ``position``; never moves it back."""
    row = session.get(Checkpoint, CHECKPOINT, with_for_update=True)
    if row is None:
        session.add(Checkpoint(name=CHECKPOINT, txid=position[0], seq=position[1]))
    elif tuple(position) > (row.txid, row.seq):
        row.txid, row.seq = position


def horizon(session: Session) -> Position:
    """The newest position at or before which every feed row is final (committed or
    never to exist); see the module docstring for why this holds on each database."""
    if session.get_bind().dialect.name == "postgresql":
        xmin = session.scalar(text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"))
        return (int(xmin), 0)
    return (0, latest_seq(session))


def after(position: Position):
    """SQL condition: the feed row comes after ``position``."""
    txid, seq = position
    return or_(Change.txid > txid, and_(Change.txid == txid, Change.seq > seq))


def at_or_before(position: Position):
    """SQL condition: the feed row comes at or before ``position``."""
    txid, seq = position
    return or_(Change.txid < txid, and_(Change.txid == txid, Change.seq <= seq))


def pending(session: Session) -> int:
    """Change rows after the checkpoint (committed ones, whether final yet or not)."""
    return session.scalar(select(func.count()).where(after(get_position(session)))) or 0


def latest_seq(session: Session) -> int:
    """The newest change-feed ``seq`` (0 for an empty feed)."""
    return session.scalar(select(func.max(Change.seq))) or 0


def actions_for(
    record_id: str, record: dict | None, deleted_version: int, taxonomy: Taxonomy, targets: dict
) -> list[dict]:
    """Bulk actions that make both indices match ``record`` (None: record deleted).

    Args:
        record_id: the record's id.
        record: the record as a dict, or None when it no longer exists.
        deleted_version: the change row's version, used for deletes of vanished records.
        taxonomy: the current taxonomy.
        targets: ``{audience: index_or_alias_name}``.
    Returns:
        one ``index`` or ``delete`` action per audience, versioned externally.
    """
    actions = []
    for audience in AUDIENCES:
        doc = build_document(record, taxonomy, audience) if record else None
        record_version = record["version"] if record else deleted_version
        version = document_version(record_version, taxonomy.revision)
        base = {
            "_index": targets[audience],
            "_id": record_id,
            "version": version,
            "version_type": "external_gte",
        }
        if doc is None:
            actions.append({**base, "_op_type": "delete"})
        else:
            actions.append({**base, "_op_type": "index", "_source": doc})
    return actions


def apply_records(
    client: OpenSearch,
    factory: sessionmaker[Session],
    changes: list[tuple[str, int]],
    targets: dict,
) -> tuple[int, int, list[tuple[str, str]]]:
    """Write the current state of the records named in ``changes`` to ``targets``.

    Args:
        changes: ``[(record_id, change_version), …]``; a record named twice is
            written once.
        targets: ``{audience: index_or_alias_name}``.
    Returns:
        ``(written, deleted, failed)`` where ``failed`` lists ``(record_id, reason)``.
        Version conflicts (a newer document is already there) and deletes of absent
        documents count as success.
    Raises:
        opensearchpy.exceptions.ConnectionError: the cluster is unreachable.
        ClusterTrouble: a document got a 5xx answer (transient; nothing is parked).
    """
    latest: dict[str, int] = {}
    for record_id, version in changes:
        latest[record_id] = max(version, latest.get(record_id, 0))
    with factory() as session:
        taxonomy = load_taxonomy(session)
        rows = session.scalars(select(Innovation).where(Innovation.id.in_(list(latest)))).all()
        records = {row.id: record_to_dict(row) for row in rows}
    actions = []
    for record_id, version in latest.items():
        actions.extend(actions_for(record_id, records.get(record_id), version, taxonomy, targets))
    written = deleted = 0
    failed: dict[str, str] = {}
    # raise_on_exception: an unreachable cluster raises instead of marking every
    # document failed, so an outage never parks good changes
    for ok, item in helpers.streaming_bulk(
        client, actions, raise_on_error=False, raise_on_exception=True, max_retries=3
    ):
        op, result = next(iter(item.items()))
        status = result.get("status", 0)
        if ok:
            if op == "delete":
                deleted += 1
            else:
                written += 1
        elif status == 409 or (op == "delete" and status == 404):
            continue
        elif not isinstance(status, int) or status >= 500:
            raise ClusterTrouble(f"{result.get('_id', '?')}: {_reason(result)}")
        else:
            failed[result.get("_id", "?")] = _reason(result)
    return written, deleted, sorted(failed.items())


class ClusterTrouble(OpenSearchException):
    """OpenSearch answered a document with a server error: retry later, do not park."""


def _reason(result: dict) -> str:
    error = result.get("error")
    if isinstance(error, dict):
        return f"{error.get('type', 'error')}: {error.get('reason', '')}".strip()
    return str(error or result.get("status", "unknown error"))


def sync_once(
    client: OpenSearch, factory: sessionmaker[Session], names: IndexNames, batch: int = BATCH_SIZE
) -> SyncResult:
    """Apply the next ``batch`` change rows after the checkpoint to both aliases.

    A record whose write fails is parked in the dead-letter table with the reason
    once it failed :data:`MAX_ATTEMPTS` times in a row, so it never blocks the
    changes behind it; until then the checkpoint stops before it.

    Returns:
        a :class:`SyncResult`; ``changes == 0`` means the index is caught up.
    """
    with factory() as session:
        start = get_position(session)
        limit = horizon(session)
        rows = session.scalars(
            select(Change)
            .where(after(start), at_or_before(limit))
            .order_by(Change.txid, Change.seq)
            .limit(batch)
        ).all()
        changes = [(row.seq, row.record_id, row.record_version, row.txid) for row in rows]
    result = SyncResult(checkpoint=start[1])
    if not changes:
        return result
    targets = {audience: names.alias(audience) for audience in AUDIENCES}
    written, deleted, failed = apply_records(
        client, factory, [(rid, ver) for _, rid, ver, _ in changes], targets
    )
    result.changes, result.written, result.deleted = len(changes), written, deleted
    failed_ids = dict(failed)
    with transaction(factory) as session:
        # the checkpoint stops before the first change still to be retried
        new_checkpoint, blocked = (changes[-1][3], changes[-1][0]), False
        previous = start
        for seq, record_id, _, txid in changes:
            if record_id not in failed_ids:
                _clear_attempts(session, seq)
            else:
                attempts = _record_attempt(session, seq, record_id, failed_ids[record_id])
                if attempts < MAX_ATTEMPTS:
                    if not blocked:
                        new_checkpoint, blocked = previous, True
                else:
                    result.failed.append((record_id, failed_ids[record_id]))
            previous = (txid, seq)
        advance_checkpoint(session, new_checkpoint)
        result.checkpoint = max(start, new_checkpoint)[1]
    return result


def _clear_attempts(session: Session, seq: int) -> None:
    row = session.scalar(select(DeadLetter).where(DeadLetter.change_seq == seq))
    if row is not None:
        session.delete(row)


def _record_attempt(session: Session, seq: int, record_id: str, reason: str) -> int:
    """Count one failed attempt for change ``seq``; returns attempts so far."""
    row = session.scalar(select(DeadLetter).where(DeadLetter.change_seq == seq))
    if row is None:
        row = DeadLetter(change_seq=seq, record_id=record_id, reason=reason, attempts=1)
        session.add(row)
        return 1
    row.attempts += 1
    row.reason = reason
    return row.attempts


def sync_all(
    client: OpenSearch,
    factory: sessionmaker[Session],
    names: IndexNames,
    heartbeat: Callable[[], None] | None = None,
) -> SyncResult:
    """Run :func:`sync_once` until every change committed before the call is applied;
    returns the summed result.

    On PostgreSQL a committed change can lie beyond the :func:`horizon` while an
    older writing transaction (in any database of the cluster) is still open; this
    waits up to :data:`SETTLE_S` for it to end, then returns with the rest pending.
    Terminates: a failing change is retried at most :data:`MAX_ATTEMPTS` times,
    then parked, and the checkpoint moves past it. ``heartbeat`` is called before
    every batch (the CLI renews its lease there).
    """
    total = SyncResult()
    deadline = time.monotonic() + SETTLE_S
    while True:
        if heartbeat:
            heartbeat()
        step = sync_once(client, factory, names)
        total.checkpoint = step.checkpoint
        if step.changes == 0:
            with factory() as session:
                waiting = pending(session)
            if waiting and time.monotonic() < deadline:
                time.sleep(0.05)
                continue
            return total
        total.changes += step.changes
        total.written += step.written
        total.deleted += step.deleted
        total.failed.extend(step.failed)


def parked(session: Session) -> list[DeadLetter]:
    """Dead letters: changes that failed :data:`MAX_ATTEMPTS` times, oldest first."""
    return list(
        session.scalars(
            select(DeadLetter)
            .where(DeadLetter.attempts >= MAX_ATTEMPTS)
            .order_by(DeadLetter.change_seq)
        )
    )


def retry_parked(
    client: OpenSearch, factory: sessionmaker[Session], names: IndexNames
) -> tuple[int, list[tuple[str, str]]]:
    """Apply every parked change again; a success removes its dead letter.

    Returns:
        ``(fixed, still_failing)`` with ``still_failing`` as ``(record_id, reason)``.
    """
    with factory() as session:
        letters = [(d.change_seq, d.record_id) for d in parked(session)]
    if not letters:
        return 0, []
    targets = {audience: names.alias(audience) for audience in AUDIENCES}
    with factory() as session:
        versions = {
            c.seq: c.record_version
            for c in session.scalars(
                select(Change).where(Change.seq.in_([seq for seq, _ in letters]))
            )
        }
    _, _, failed = apply_records(
        client, factory, [(rid, versions.get(seq, 0)) for seq, rid in letters], targets
    )
    failing = dict(failed)
    with transaction(factory) as session:
        for seq, record_id in letters:
            row = session.scalar(select(DeadLetter).where(DeadLetter.change_seq == seq))
            if record_id in failing:
                row.reason = failing[record_id]
                row.attempts += 1
            else:
                session.delete(row)
    return len({rid for _, rid in letters} - set(failing)), failed

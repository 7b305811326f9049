"""Writes and reads of innovation records; every write appends to the change feed.

This module is the only place that changes ``innovations`` rows. Each change bumps
the record's ``version`` (used by the indexer as the external version) and adds a
:class:`~registry.models.Change` row in the same transaction (transactional outbox).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from marshmallow import ValidationError
from sqlalchemy import event, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from . import jsonlimits
from .db import transaction
from .models import Change, Innovation
from .schemas import InnovationSchema, flatten_errors
from .taxonomy import load_taxonomy

RECORD_FIELDS = tuple(InnovationSchema._declared_fields)
"""Every field of a record, in schema order (``id`` first)."""

PUBLIC_FIELDS = (
    "id", "title", "summary", "description", "results", "priorities", "communities",
    "phase", "innovation_type", "target_groups", "evidence_level", "organisation",
    "province", "places_applied", "start_year", "programmes", "url", "keywords",
    "last_verified", "created",
)  # fmt: skip
"""Fields anyone may see (``data/README.md``, visibility column)."""

MEMBER_FIELDS = ("contact", "budget_eur", "lessons_learned")
"""Fields only logged-in members (and up) may see."""

MAX_LINE_BYTES = 1_000_000
"""Longest import line, bytes: the longest valid record (every text field at its
schema maximum, escaped) stays well below it."""
MAX_LINE_DEPTH = 4
"""Deepest nesting of an import line: a record is two levels (an object holding
lists and the contact object); deeper lines are refused before validation."""


def record_to_dict(record: Innovation) -> dict:
    """All fields of ``record`` plus ``version``, ``updated_at`` and ``owner_id``,
    JSON-ready (ISO dates)."""
    out = {name: getattr(record, name) for name in RECORD_FIELDS}
    for name in ("last_verified", "created"):
        if out[name] is not None:
            out[name] = out[name].isoformat()
    out["version"] = record.version
    out["updated_at"] = record.updated_at.isoformat() if record.updated_at else None
    out["owner_id"] = record.owner_id
    return out


CHANGES_CHANNEL = "innovatiebieb_changes"
"""PostgreSQL ``NOTIFY`` channel on which a committed change-feed write wakes the indexer."""

# the writing transaction's id (assigned on its first write), as a plain bigint;
# the indexer orders the feed by it, see indexer.sync
_PG_TXID = text("pg_current_xact_id()::text::bigint")


def append_change(session: Session, record_id: str, version: int, op: str) -> None:
    """Add a change-feed row for ``record_id`` (``op``: ``upsert`` or ``delete``).

    On PostgreSQL the row carries the writing transaction's id and the transaction
    sends ``NOTIFY`` on :data:`CHANGES_CHANNEL`, delivered only at commit (and
    folded into one per transaction by the server); on SQLite ``txid`` is 0.
    """
    postgres = session.get_bind().dialect.name == "postgresql"
    session.add(
        Change(record_id=record_id, record_version=version, op=op, txid=_PG_TXID if postgres else 0)
    )
    if postgres and not session.info.get("notify_pending"):
        session.info["notify_pending"] = True
        session.execute(text(f"NOTIFY {CHANGES_CHANNEL}"))


@event.listens_for(Session, "after_transaction_end")
def _forget_notify(session: Session, transaction) -> None:
    # the NOTIFY belongs to one transaction; the next one sends its own
    if transaction.parent is None:
        session.info.pop("notify_pending", None)


def upsert(session: Session, data: dict) -> str:
    """Create or update one validated record (``data`` as loaded by the schema).

    Returns:
        ``"created"``, ``"updated"`` or ``"unchanged"``; only the first two bump the
        version and write a change-feed row, so re-importing a file is a no-op for
        search.
    """
    record = session.get(Innovation, data["id"])
    if record is None:
        record = Innovation(**data, version=1)
        session.add(record)
        session.flush()
        append_change(session, record.id, record.version, "upsert")
        return "created"
    changed = [name for name in RECORD_FIELDS if getattr(record, name) != data.get(name)]
    if not changed:
        return "unchanged"
    for name in changed:
        setattr(record, name, data.get(name))
    record.version += 1
    record.updated_at = dt.datetime.now(dt.UTC)
    append_change(session, record.id, record.version, "upsert")
    return "updated"


def insert(session: Session, data: dict, owner_id: int | None = None) -> Innovation:
    """Create one validated record that must not exist yet (never an update).

    Raises:
        sqlalchemy.exc.IntegrityError: the id is taken (also by a record another
            transaction created meanwhile: the primary key decides, not a read).
    """
    record = Innovation(**data, version=1, owner_id=owner_id)
    session.add(record)
    session.flush()
    append_change(session, record.id, record.version, "upsert")
    return record


def delete(session: Session, record_id: str) -> bool:
    """Delete a record; returns False when it did not exist."""
    record = session.get(Innovation, record_id)
    if record is None:
        return False
    version = record.version + 1
    session.delete(record)
    append_change(session, record_id, version, "delete")
    return True


def iter_records(session: Session, batch: int = 500) -> Iterator[Innovation]:
    """Stream every record ordered by id, ``batch`` rows per fetch (memory stays flat)."""
    last = ""
    while True:
        rows = session.scalars(
            select(Innovation).where(Innovation.id > last).order_by(Innovation.id).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].id
        session.expunge_all()


@dataclass
class ImportReport:
    """Outcome of :func:`import_jsonl`: counts per outcome and the rejected lines.

    ``rejected`` holds ``(line_number, field, reason)`` with 1-based line numbers;
    ``warnings`` holds ``(line_number, message)`` for lines that imported but need
    a look (an id seen earlier in the same file: the later line wins).
    """

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str, str]] = field(default_factory=list)
    warnings: list[tuple[int, str]] = field(default_factory=list)

    @property
    def rejected_lines(self) -> int:
        """Number of distinct rejected lines."""
        return len({line for line, _, _ in self.rejected})

    def count(self, outcome: str) -> None:
        """Count one ``created``/``updated``/``unchanged`` record."""
        setattr(self, outcome, getattr(self, outcome) + 1)


def _parse_line(raw_bytes: bytes, number: int, schema: InnovationSchema, report: ImportReport):
    """The validated record of one line, or None (the reason is added to ``report``)."""
    try:
        line = raw_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        report.rejected.append((number, "_line", f"not valid UTF-8 (byte {exc.start + 1})"))
        return None
    if not line.strip():
        return None
    try:
        raw = jsonlimits.loads(line, MAX_LINE_BYTES, MAX_LINE_DEPTH)
    except jsonlimits.JsonLimitError as exc:
        report.rejected.append((number, "_line", f"refused: {exc}"))
        return None
    except json.JSONDecodeError as exc:
        report.rejected.append((number, "_line", f"invalid JSON: {exc.msg}"))
        return None
    if not isinstance(raw, dict):
        report.rejected.append((number, "_line", "expected a JSON object"))
        return None
    try:
        return schema.load(raw)
    except ValidationError as exc:
        for name, reason in flatten_errors(exc.messages):
            report.rejected.append((number, name, reason))
        return None


def _lines(handle: BinaryIO, limit: int) -> Iterator[tuple[int, bytes | None]]:
    """``(line number, bytes)`` of each line, ``None`` for a line longer than
    ``limit`` bytes (it is skipped without ever being held in memory whole)."""
    number = 0
    while True:
        line = handle.readline(limit + 1)
        if not line:
            return
        number += 1
        if len(line) <= limit:
            yield number, line
            continue
        while line and not line.endswith(b"\n"):
            line = handle.readline(limit)
        yield number, None


def import_jsonl(factory: sessionmaker[Session], path: Path, chunk: int = 200) -> ImportReport:
    """Import a JSON Lines file into the registry: validate each line, upsert by ``id``.

    Each line is parsed and validated on its own with :class:`InnovationSchema`
    against the registry's taxonomy; a bad line (longer than :data:`MAX_LINE_BYTES`,
    not UTF-8, not JSON, nested deeper than :data:`MAX_LINE_DEPTH`, not a valid
    record) is reported with its number and skipped, the rest still imports. Valid lines are
    written in transactions of ``chunk`` records; if the database refuses a chunk,
    its records are retried one by one so only the refused line is lost. Blank
    lines are skipped; an id repeated in the file is a warning (the later line wins).

    Args:
        factory: session factory of the registry.
        path: the ``.jsonl`` file.
        chunk: records per transaction.
    Returns:
        an :class:`ImportReport`.
    Raises:
        OSError: the file cannot be read (missing, a directory, no permission).
    """
    report = ImportReport()
    with factory() as session:
        schema = InnovationSchema(taxonomy=load_taxonomy(session))
    pending: list[tuple[int, dict]] = []
    first_line: dict[str, int] = {}

    def write(batch: list[tuple[int, dict]]) -> None:
        with transaction(factory) as session:
            for _number, data in batch:
                report.count(upsert(session, data))

    def flush() -> None:
        try:
            write(pending)
        except (SQLAlchemyError, OverflowError):
            for item in pending:
                try:
                    write([item])
                except (SQLAlchemyError, OverflowError) as exc:
                    reason = str(getattr(exc, "orig", exc)).splitlines()[0]
                    report.rejected.append((item[0], "_record", f"database refused it: {reason}"))
        pending.clear()

    with open(path, "rb") as handle:
        for number, raw_bytes in _lines(handle, MAX_LINE_BYTES):
            if raw_bytes is None:
                report.rejected.append(
                    (number, "_line", f"refused: longer than {MAX_LINE_BYTES} bytes")
                )
                continue
            data = _parse_line(raw_bytes, number, schema, report)
            if data is None:
                continue
            if data["id"] in first_line:
                report.warnings.append(
                    (number, f"id {data['id']} also on line {first_line[data['id']]}; "
                             "the later line wins")
                )  # fmt: skip
            first_line.setdefault(data["id"], number)
            pending.append((number, data))
            if len(pending) >= chunk:
                flush()
    if pending:
        flush()
    report.rejected.sort()
    return report

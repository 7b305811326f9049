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

from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

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

EDITOR_FIELDS = ("internal_notes",)
"""Fields only editors see; they are in no search index."""


def record_to_dict(record: Innovation) -> dict:
    """All fields of ``record`` plus ``status`` and ``version``, JSON-ready (ISO dates)."""
    out = {name: getattr(record, name) for name in RECORD_FIELDS}
    for name in ("last_verified", "created"):
        if out[name] is not None:
            out[name] = out[name].isoformat()
    out["version"] = record.version
    return out


def append_change(session: Session, record_id: str, version: int, op: str) -> None:
    """Add a change-feed row for ``record_id`` (``op``: ``upsert`` or ``delete``)."""
    session.add(Change(record_id=record_id, record_version=version, op=op))


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

    ``rejected`` holds ``(line_number, field, reason)`` with 1-based line numbers.
    """

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def rejected_lines(self) -> int:
        """Number of distinct rejected lines."""
        return len({line for line, _, _ in self.rejected})


def import_jsonl(factory: sessionmaker[Session], path: Path, chunk: int = 200) -> ImportReport:
    """Import a JSON Lines file into the registry: validate each line, upsert by ``id``.

    Each line is validated on its own with :class:`InnovationSchema` against the
    registry's taxonomy; a bad line is reported and skipped, the rest still imports.
    Valid lines are written in transactions of ``chunk`` records. Blank lines are
    skipped.

    Args:
        factory: session factory of the registry.
        path: the ``.jsonl`` file (UTF-8).
        chunk: records per transaction.
    Returns:
        an :class:`ImportReport`.
    Raises:
        OSError: the file cannot be read.
    """
    report = ImportReport()
    with factory() as session:
        schema = InnovationSchema(taxonomy=load_taxonomy(session))
    pending: list[dict] = []

    def flush() -> None:
        with transaction(factory) as session:
            for data in pending:
                outcome = upsert(session, data)
                setattr(report, outcome, getattr(report, outcome) + 1)
        pending.clear()

    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as exc:
                report.rejected.append((number, "_line", f"invalid JSON: {exc.msg}"))
                continue
            if not isinstance(raw, dict):
                report.rejected.append((number, "_line", "expected a JSON object"))
                continue
            try:
                pending.append(schema.load(raw))
            except ValidationError as exc:
                for name, reason in flatten_errors(exc.messages):
                    report.rejected.append((number, name, reason))
                continue
            if len(pending) >= chunk:
                flush()
    if pending:
        flush()
    return report

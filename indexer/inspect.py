"""Read-only checks of the index against the registry: ``verify`` and ``status``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from opensearchpy import OpenSearch, helpers
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from registry.models import Change, Checkpoint
from registry.records import iter_records, record_to_dict
from registry.taxonomy import load_taxonomy

from .client import AUDIENCES, IndexNames
from .documents import build_document
from .sync import CHECKPOINT, after, get_position, latest_seq, parked, pending


@dataclass
class Drift:
    """Differences for one alias: ids missing from the index, extra, or stale."""

    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """True when the alias matches the registry exactly."""
        return not (self.missing or self.extra or self.stale)


def verify(
    client: OpenSearch, factory: sessionmaker[Session], names: IndexNames
) -> dict[str, Drift]:
    """Compare registry and both aliases by id and content hash.

    Expected documents are built from the registry with the same code the indexer
    writes with; the index side is read with a scroll of ``content_hash`` only.

    Returns:
        ``{audience: Drift}``.
    """
    expected: dict[str, dict[str, str]] = {audience: {} for audience in AUDIENCES}
    with factory() as session:
        taxonomy = load_taxonomy(session)
        for row in iter_records(session):
            record = record_to_dict(row)
            for audience in AUDIENCES:
                doc = build_document(record, taxonomy, audience)
                if doc is not None:
                    expected[audience][record["id"]] = doc["content_hash"]
    report = {}
    for audience in AUDIENCES:
        # what was acknowledged must be visible before it is compared
        client.indices.refresh(index=names.alias(audience))
        actual = {
            hit["_id"]: hit["_source"].get("content_hash")
            for hit in helpers.scan(
                client,
                index=names.alias(audience),
                query={"query": {"match_all": {}}, "_source": ["content_hash"]},
                size=1000,
            )
        }
        want = expected[audience]
        report[audience] = Drift(
            missing=sorted(set(want) - set(actual)),
            extra=sorted(set(actual) - set(want)),
            stale=sorted(i for i in set(want) & set(actual) if want[i] != actual[i]),
        )
    return report


def status(client: OpenSearch | None, factory: sessionmaker[Session], names: IndexNames) -> dict:
    """Checkpoint, lag and document counts.

    Returns:
        ``{"checkpoint": int, "latest": int, "lag_events": int, "lag_seconds": float,
        "parked": [(record_id, reason)], "owner": str | None, "lease_until": str | None,
        "aliases": {alias: {"indices": [...],
        "docs": int}}}``; ``aliases`` is omitted when ``client`` is None.
    """
    with factory() as session:
        position = get_position(session)
        checkpoint = position[1]
        latest = latest_seq(session)
        lag_events = pending(session)
        oldest_pending = session.scalar(select(func.min(Change.created_at)).where(after(position)))
        letters = [(d.record_id, d.reason) for d in parked(session)]
        lease = session.get(Checkpoint, CHECKPOINT)
        owner = lease.owner if lease else None
        lease_until = lease.lease_until.isoformat() if lease and lease.lease_until else None
    lag_seconds = 0.0
    if oldest_pending is not None:
        if oldest_pending.tzinfo is None:
            oldest_pending = oldest_pending.replace(tzinfo=dt.UTC)
        lag_seconds = max(0.0, (dt.datetime.now(dt.UTC) - oldest_pending).total_seconds())
    out = {
        "checkpoint": checkpoint,
        "latest": latest,
        "lag_events": lag_events,
        "lag_seconds": round(lag_seconds, 3),
        "parked": letters,
        "owner": owner,
        "lease_until": lease_until,
    }
    if client is not None:
        aliases = {}
        for audience in AUDIENCES:
            alias = names.alias(audience)
            if client.indices.exists_alias(name=alias):
                aliases[alias] = {
                    "indices": sorted(client.indices.get_alias(name=alias)),
                    "docs": client.count(index=alias)["count"],
                }
            else:
                aliases[alias] = {"indices": [], "docs": 0}
        out["aliases"] = aliases
    return out

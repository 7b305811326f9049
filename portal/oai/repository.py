"""What OAI-PMH exposes, read from the registry (the source of truth).

Read from the registry, not from the search index, because a harvester needs what
the index does not keep: archived records must be reported as deleted (the public
index drops them, the members' index carries member fields), the datestamp must
follow every change of a record and of its taxonomy labels, and a harvest must not
depend on the indexer's lag.

**Datestamp.** Every write that changes what a record shows appends a change-feed
row in the same transaction: edits, status changes, imports, and taxonomy
operations for every innovation whose communities or community labels change
(:mod:`registry.taxonomy_ops`). So a record's datestamp is the time of its newest
change-feed row (its ``updated_at`` when it has none), truncated to the second.

Only public fields are selected (:data:`registry.records.PUBLIC_FIELDS`): member
and editor fields are never even read here. Published records are records;
archived records are deleted records (``deletedRecord`` persistent); drafts and
records in review do not exist for OAI-PMH.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import Session

from registry.models import Change, Innovation
from registry.records import PUBLIC_FIELDS
from registry.statuses import ever_visible_statuses, visible_statuses
from registry.taxonomy import Taxonomy

VISIBLE_STATUSES = ever_visible_statuses()
"""Statuses OAI-PMH shows: what the public sees as records, the rest that some audience
sees (archived) as deleted records (:data:`registry.statuses.STATUS_TABLE`)."""
PUBLIC_STATUSES = visible_statuses("public")

SET_KINDS = {"priority": "priorities", "community": "communities"}
"""Set spec prefix -> vocabulary; a set spec is ``<kind>`` or ``<kind>:<term id>``."""


@dataclass(frozen=True)
class Item:
    """One record as OAI-PMH sees it.

    ``record`` holds only public fields (communities already resolved to the current
    taxonomy); ``deleted`` is True for archived records; ``datestamp`` is aware UTC.
    """

    id: str
    deleted: bool
    datestamp: dt.datetime
    record: dict
    set_specs: tuple[str, ...]


def _datestamp_column():
    newest_change = (
        select(func.max(Change.created_at))
        .where(Change.record_id == Innovation.id)
        .correlate(Innovation)
        .scalar_subquery()
    )
    return func.coalesce(newest_change, Innovation.updated_at).label("datestamp")


def _utc(value) -> dt.datetime:
    if isinstance(value, str):  # SQLite returns coalesce() of datetimes as text
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).replace(microsecond=0)


def _bound(session: Session, when: dt.datetime):
    # SQLite compares datetimes as text: naive UTC renders in the stored format
    if session.get_bind().dialect.name == "sqlite":
        return when.astimezone(dt.UTC).replace(tzinfo=None)
    return when


def set_specs_of(record: dict) -> tuple[str, ...]:
    """The set specs of a record whose communities are already resolved."""
    specs = []
    for kind, field in SET_KINDS.items():
        if record.get(field):
            specs.append(kind)
            specs.extend(f"{kind}:{term_id}" for term_id in record[field])
    return tuple(specs)


def in_set(item: Item, set_spec: str | None) -> bool:
    """Whether ``item`` belongs to ``set_spec`` (a parent set holds its children)."""
    return set_spec is None or set_spec in item.set_specs


class Repository:
    """Reads OAI-PMH items from one registry session with one taxonomy.

    Args:
        session: an open registry session.
        taxonomy: the current taxonomy (communities resolve through it, the way the
            community facet does).
    """

    def __init__(self, session: Session, taxonomy: Taxonomy):
        self.session = session
        self.taxonomy = taxonomy

    def _select(self):
        columns = [getattr(Innovation, name) for name in PUBLIC_FIELDS]
        return select(*columns, Innovation.status, _datestamp_column()).where(
            Innovation.status.in_(VISIBLE_STATUSES)
        )

    def _item(self, row) -> Item:
        record = {name: getattr(row, name) for name in PUBLIC_FIELDS}
        for name in ("last_verified", "created"):
            if record[name] is not None:
                record[name] = record[name].isoformat()
        record["communities"] = self.taxonomy.resolve_communities(record["communities"], row.id)
        return Item(
            id=row.id,
            deleted=row.status not in PUBLIC_STATUSES,
            datestamp=_utc(row.datestamp),
            record=record,
            set_specs=set_specs_of(record),
        )

    def get(self, record_id: str) -> Item | None:
        """The item ``record_id``, or None when it does not exist for OAI-PMH."""
        row = self.session.execute(self._select().where(Innovation.id == record_id)).first()
        return self._item(row) if row else None

    def _filtered(self, from_, until, set_spec):
        query = self._select()
        datestamp = _datestamp_column()
        # the stored times carry fractions of a second, datestamps do not: a record
        # changed at 12:00:00.4 has datestamp 12:00:00 and matches from=12:00:00
        if from_ is not None:
            just_before = from_ - dt.timedelta(microseconds=1)
            query = query.where(datestamp > _bound(self.session, just_before))
        if until is not None:
            query = query.where(datestamp <= _bound(self.session, until))
        if set_spec:
            kind, _, term_id = set_spec.partition(":")
            if kind not in SET_KINDS:
                return None
            if term_id:
                ids = [term_id]
                if kind == "community":
                    ids += self.taxonomy.predecessors(term_id)
                column = cast(getattr(Innovation, SET_KINDS[kind]), String)
                # a coarse text filter; the exact membership is decided in Python
                query = query.where(or_(*[column.like(f'%"{value}"%') for value in ids]))
        return query

    def page(
        self,
        *,
        after: str,
        limit: int,
        from_: dt.datetime | None = None,
        until: dt.datetime | None = None,
        set_spec: str | None = None,
        batch: int = 500,
    ) -> tuple[list[Item], bool]:
        """Items with an id after ``after``, in id order, at most ``limit``.

        Args:
            after: the last id already sent ("" at the start).
            limit: page size.
            from_, until: inclusive datestamp bounds (aware UTC), or None.
            set_spec: a set spec (``priority``, ``community:<id>``…), or None.
            batch: rows read per query while filtering by set.
        Returns:
            ``(items, more)``: ``more`` tells whether items follow this page.
        """
        query = self._filtered(from_, until, set_spec)
        if query is None:
            return [], False
        items: list[Item] = []
        last = after
        if not set_spec:
            batch = limit + 1  # every row is an item: one more tells whether more follow
        while True:
            rows = self.session.execute(
                query.where(Innovation.id > last).order_by(Innovation.id).limit(batch)
            ).all()
            for row in rows:
                item = self._item(row)
                if not in_set(item, set_spec):
                    continue
                if len(items) == limit:
                    return items, True
                items.append(item)
            if len(rows) < batch:
                return items, False
            last = rows[-1].id

    def count(
        self,
        *,
        from_: dt.datetime | None = None,
        until: dt.datetime | None = None,
        set_spec: str | None = None,
    ) -> int:
        """How many items the selection holds (the ``completeListSize``)."""
        query = self._filtered(from_, until, set_spec)
        if query is None:
            return 0
        if not set_spec:
            return self.session.scalar(select(func.count()).select_from(query.subquery()))
        total, after = 0, ""
        while True:
            items, more = self.page(after=after, limit=1000, from_=from_, until=until,
                                    set_spec=set_spec)  # fmt: skip
            total += len(items)
            if not more:
                return total
            after = items[-1].id

    def earliest_datestamp(self) -> dt.datetime:
        """The oldest datestamp of any item (now, for an empty repository)."""
        subquery = self._select().subquery()
        value = self.session.scalar(select(func.min(subquery.c.datestamp)))
        return _utc(value) if value is not None else dt.datetime.now(dt.UTC).replace(microsecond=0)

    def sets(self) -> list[tuple[str, str]]:
        """``(set spec, Dutch set name)`` of every set: the two parents, the
        priorities and the active communities (merged or retired ones are no sets)."""
        out = [("priority", "Prioriteiten"), ("community", "Communities")]
        out += [(f"priority:{t.id}", t.label("nl")) for t in self.taxonomy.terms("priorities")]
        out += [(f"community:{t.id}", t.label("nl")) for t in self.taxonomy.active_communities()]
        return out


def published_stamps(session: Session, offset: int, limit: int) -> list[tuple[str, dt.datetime]]:
    """``(id, datestamp)`` of published records in id order, ``limit`` from ``offset``
    (the sitemap's pages; the same datestamp as OAI-PMH)."""
    rows = session.execute(
        select(Innovation.id, _datestamp_column())
        .where(Innovation.status == "published")
        .order_by(Innovation.id)
        .offset(offset)
        .limit(limit)
    )
    return [(record_id, _utc(stamp)) for record_id, stamp in rows]


def published_count(session: Session) -> int:
    """How many records are published."""
    return session.scalar(
        select(func.count()).select_from(Innovation).where(Innovation.status == "published")
    )

"""The search log: public searches recorded for analysts (search analytics).

One :class:`~registry.models.SearchLogEntry` per public search holds the query text,
the facet selection, the number of hits, the time and the duration; no user, no IP
address, no session, nothing that points at a person. Reads group the entries of one
calendar month (UTC); :func:`purge_search_log` applies the retention period.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from .models import MAX_Q_CHARS, SearchLogEntry


def normalise_query(q: str) -> str:
    """The query text as analytics count it: whitespace collapsed, lower case.

    ``"Lezen"`` and ``" lezen "`` are the same question, so they are stored alike
    and counted together.
    """
    return " ".join(q.split()).lower()[:MAX_Q_CHARS]


def log_search(
    session: Session,
    q: str,
    filters: dict[str, list[str]],
    total: int,
    took_ms: int | None = None,
    at: dt.datetime | None = None,
) -> SearchLogEntry:
    """Record one public search.

    Args:
        session: an open session inside a transaction (the caller commits).
        q: the query text as searched; stored through :func:`normalise_query`.
        filters: ``{facet name: [selected values]}`` as in the URL (e.g.
            ``{"phase": ["idee"], "evidence": ["2"]}``); empty selections are dropped.
        total: number of hits.
        took_ms: duration of the search in milliseconds, if measured.
        at: time of the search (default: now, UTC).
    Returns:
        the new, flushed entry.
    """
    entry = SearchLogEntry(
        at=at or dt.datetime.now(dt.UTC),
        q=normalise_query(q),
        filters={name: list(values) for name, values in filters.items() if values},
        total=int(total),
        took_ms=took_ms,
    )
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class Month:
    """A calendar month (UTC); ``Month(2026, 11)`` prints as ``2026-11``."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """``"YYYY-MM"`` → Month; raises ValueError for anything else."""
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}", text):
            raise ValueError(f"not a month (YYYY-MM): {text!r}")
        year, _, month = text.partition("-")
        # the month after must exist too (month ranges end at the next month's start)
        if not 1 <= int(month) <= 12 or not 1 <= int(year) <= 9998:
            raise ValueError(f"not a month (YYYY-MM): {text!r}")
        return cls(int(year), int(month))

    @classmethod
    def of(cls, moment: dt.date) -> Month:
        """The month that contains ``moment`` (a date, or a datetime: UTC if naive)."""
        if isinstance(moment, dt.datetime) and moment.tzinfo:
            moment = moment.astimezone(dt.UTC)
        return cls(moment.year, moment.month)

    def start(self) -> dt.datetime:
        """First instant of the month, UTC."""
        return dt.datetime(self.year, self.month, 1, tzinfo=dt.UTC)

    def next(self) -> Month:
        """The following month."""
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def _in_month(month: Month):
    # UTC bounds: PostgreSQL compares them as instants; SQLite stores and compares the
    # UTC fields as text, ignoring the zone
    return SearchLogEntry.at >= month.start(), SearchLogEntry.at < month.next().start()


def logged_months(session: Session) -> list[Month]:
    """Every month from the oldest to the newest entry, newest first ([] when empty)."""
    oldest, newest = session.execute(
        select(func.min(SearchLogEntry.at), func.max(SearchLogEntry.at))
    ).one()
    if oldest is None:
        return []
    months, month, last = [], Month.of(oldest), Month.of(newest)
    while (month.year, month.month) <= (last.year, last.month):
        months.append(month)
        month = month.next()
    return months[::-1]


def searches_in_month(session: Session, month: Month) -> dict:
    """How many searches ``month`` had.

    Returns:
        ``{"searches": int, "with_query": int, "zero_results": int}``: all entries,
        those with query text, those that found nothing.
    """
    where = _in_month(month)
    searches, with_query, zero = session.execute(
        select(
            func.count(),
            func.count().filter(SearchLogEntry.q != ""),
            func.count().filter(SearchLogEntry.total == 0),
        ).where(*where)
    ).one()
    return {"searches": searches, "with_query": with_query, "zero_results": zero}


def top_queries(
    session: Session, month: Month, limit: int = 50, zero_results: bool = False
) -> list[dict]:
    """The most frequent query texts of ``month`` (searches without text left out).

    Args:
        zero_results: only searches that found nothing ("zero-result queries").
        limit: at most this many queries.
    Returns:
        ``[{"q": str, "count": int, "last_total": int}]``, most frequent first, ties
        by text; ``last_total`` is the hit count of the newest such search.
    """
    where = [*_in_month(month), SearchLogEntry.q != ""]
    if zero_results:
        where.append(SearchLogEntry.total == 0)
    count = func.count().label("n")
    newest = func.max(SearchLogEntry.id).label("newest")
    rows = session.execute(
        select(SearchLogEntry.q, count, newest)
        .where(*where)
        .group_by(SearchLogEntry.q)
        .order_by(count.desc(), SearchLogEntry.q)
        .limit(limit)
    ).all()
    totals = dict(
        session.execute(
            select(SearchLogEntry.id, SearchLogEntry.total).where(
                SearchLogEntry.id.in_([row.newest for row in rows])
            )
        ).all()
    )
    return [{"q": row.q, "count": row.n, "last_total": totals[row.newest]} for row in rows]


def facet_usage(session: Session, month: Month) -> dict[str, dict]:
    """How often each facet (and each value) was used in the searches of ``month``.

    The selections are JSON, which SQLite and PostgreSQL query differently, so the
    ``filters`` column alone is streamed and counted here; memory stays flat.

    Returns:
        ``{facet name: {"searches": int, "values": {value: int}}}``: searches that
        used the facet, and per selected value the searches that selected it.
    """
    searches: Counter[str] = Counter()
    values: dict[str, Counter[str]] = {}
    stream = session.execute(
        select(SearchLogEntry.filters).where(*_in_month(month)).execution_options(yield_per=500)
    )
    for (filters,) in stream:
        for name, selected in (filters or {}).items():
            searches[name] += 1
            values.setdefault(name, Counter()).update(set(selected))
    return {name: {"searches": n, "values": dict(values[name])} for name, n in searches.items()}


def purge_search_log(session: Session, older_than_days: int, now: dt.datetime | None = None) -> int:
    """Delete entries older than ``older_than_days`` days (the retention period).

    Args:
        session: an open session inside a transaction.
        older_than_days: entries with ``at`` before ``now - older_than_days`` go; ≥ 0.
        now: the reference time (default: now, UTC).
    Returns:
        the number of entries deleted.
    Raises:
        ValueError: a negative ``older_than_days``.
    """
    if older_than_days < 0:
        raise ValueError("older_than_days must be 0 or more")
    cutoff = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=older_than_days)
    result = session.execute(delete(SearchLogEntry).where(SearchLogEntry.at < cutoff))
    return result.rowcount or 0

"""SQLAlchemy models of the registry.

Record fields follow ``data/README.md`` of the shared data set; list-valued fields are
JSON columns so SQLite and PostgreSQL behave alike.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base of all registry tables."""


class Innovation(Base):
    """One innovation record; ``version`` grows by one on every change (external version)."""

    __tablename__ = "innovations"

    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    status: Mapped[str] = mapped_column(String(20), nullable=False, index=True)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    summary: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    results: Mapped[str | None] = mapped_column(Text)
    priorities: Mapped[list] = mapped_column(JSON, nullable=False)
    communities: Mapped[list] = mapped_column(JSON, nullable=False)
    phase: Mapped[str] = mapped_column(String(40), nullable=False)
    innovation_type: Mapped[str] = mapped_column(String(40), nullable=False)
    target_groups: Mapped[list] = mapped_column(JSON, nullable=False)
    evidence_level: Mapped[int | None] = mapped_column(Integer)
    organisation: Mapped[str] = mapped_column(String(300), nullable=False)
    province: Mapped[str] = mapped_column(String(40), nullable=False)
    places_applied: Mapped[int | None] = mapped_column(Integer)
    start_year: Mapped[int | None] = mapped_column(Integer)
    programmes: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    url: Mapped[str | None] = mapped_column(String(1000))
    keywords: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    last_verified: Mapped[dt.date | None] = mapped_column(Date)
    created: Mapped[dt.date | None] = mapped_column(Date)
    contact: Mapped[dict | None] = mapped_column(JSON)
    budget_eur: Mapped[int | None] = mapped_column(Integer)
    lessons_learned: Mapped[str | None] = mapped_column(Text)
    internal_notes: Mapped[str | None] = mapped_column(Text)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


class TaxonomyTerm(Base):
    """One value of a controlled vocabulary (priority, community, phase, …).

    ``vocabulary`` names the list in ``taxonomy.json`` (``communities``, ``phases``…);
    ``attributes`` holds the term's remaining keys (group, number, status, successors,
    short labels) exactly as the taxonomy file gives them.
    """

    __tablename__ = "taxonomy_terms"

    vocabulary: Mapped[str] = mapped_column(String(40), primary_key=True)
    term_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    label_nl: Mapped[str] = mapped_column(String(300), nullable=False)
    label_en: Mapped[str] = mapped_column(String(300), nullable=False)
    attributes: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)


class TaxonomyEvent(Base):
    """One entry of the community history (merge, split, rename, retire, create, undo).

    ``before`` keeps the affected terms as they were, so the operation can be undone;
    ``undone_by`` names the undo entry that reversed it.
    """

    __tablename__ = "taxonomy_history"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    op: Mapped[str] = mapped_column(String(20), nullable=False)
    payload: Mapped[dict] = mapped_column(JSON, nullable=False)
    actor: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    before: Mapped[dict | None] = mapped_column(JSON)
    undone_by: Mapped[int | None] = mapped_column(Integer)


class Change(Base):
    """A change-feed row (transactional outbox): ``record_id`` must be re-indexed.

    Written in the same transaction as the change itself; the indexer reads rows in
    ``(txid, seq)`` order from its checkpoint and re-reads the record, so the row
    carries no document. ``txid`` is the writing transaction's id on PostgreSQL
    (``pg_current_xact_id()``) and 0 on SQLite; see :mod:`indexer.sync` for why.
    """

    __tablename__ = "change_feed"
    __table_args__ = (Index("ix_change_feed_txid_seq", "txid", "seq"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_id: Mapped[str] = mapped_column(String(120), nullable=False, index=True)
    record_version: Mapped[int] = mapped_column(Integer, nullable=False)
    op: Mapped[str] = mapped_column(String(20), nullable=False)
    txid: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


class Checkpoint(Base):
    """The indexer's position in the change feed: the last applied ``(txid, seq)``.

    ``owner``/``lease_until`` form a lease: only the indexer holding an unexpired
    lease advances the checkpoint, so two indexers never interleave.
    """

    __tablename__ = "indexer_checkpoints"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    txid: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    owner: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()
    )


class DeadLetter(Base):
    """A change the indexer could not apply after its retries, with the reason."""

    __tablename__ = "indexer_dead_letters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    change_seq: Mapped[int] = mapped_column(ForeignKey("change_feed.seq"), nullable=False)
    record_id: Mapped[str] = mapped_column(String(120), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


MAX_Q_CHARS = 500
"""Longest search text, in characters: the search log's column size, and the longest
``q`` the portal accepts (``portal.search.params.MAX_Q_LENGTH``)."""


class SearchLogEntry(Base):
    """One public search, for analysts: what was asked and how many hits it had.

    No personal data: no user, no IP address, no session.
    """

    __tablename__ = "search_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False, index=True)
    q: Mapped[str] = mapped_column(String(MAX_Q_CHARS), nullable=False, default="")
    filters: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    total: Mapped[int] = mapped_column(Integer, nullable=False)
    took_ms: Mapped[int | None] = mapped_column(Integer)


class User(Base):
    """A person who logs in; ``role`` is one of :data:`registry.roles.ROLES`."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(320), unique=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(String(300), nullable=False)
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    active: Mapped[bool] = mapped_column(default=True, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


class LoginToken(Base):
    """One login: the session and remember-me cookies of that login carry the token,
    the registry keeps only its SHA-256. Logout removes the row, so a saved copy of
    either cookie stops working at once (see :mod:`registry.users`)."""

    __tablename__ = "login_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class AuditEntry(Base):
    """One change to a record: who, when, which fields (``{field: [old, new]}``)."""

    __tablename__ = "record_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_id: Mapped[str] = mapped_column(String(120), nullable=False, index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    actor: Mapped[str] = mapped_column(String(320), nullable=False)
    action: Mapped[str] = mapped_column(String(40), nullable=False)
    changes: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)


class ReviewComment(Base):
    """An editor's request for changes, shown to the submitter."""

    __tablename__ = "review_comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_id: Mapped[str] = mapped_column(String(120), nullable=False, index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    author: Mapped[str] = mapped_column(String(320), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)


class VerificationReminder(Base):
    """A verification reminder sent for one record in one half-year cycle (once only)."""

    __tablename__ = "verification_reminders"
    __table_args__ = (UniqueConstraint("record_id", "cycle"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_id: Mapped[str] = mapped_column(String(120), nullable=False)
    cycle: Mapped[str] = mapped_column(String(10), nullable=False)
    sent_to: Mapped[str] = mapped_column(String(320), nullable=False)
    sent_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class SavedSearch(Base):
    """A member's saved search (a query string), optionally with a weekly digest."""

    __tablename__ = "saved_searches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    query: Mapped[str] = mapped_column(String(2000), nullable=False, default="")
    weekly: Mapped[bool] = mapped_column(default=False, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    last_sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class SynonymSet(Base):
    """One synonym set of the thesaurus (``registry.thesaurus``).

    ``kind`` ``equivalent``: every term of ``terms`` finds the others; ``broader``:
    a search for ``broader`` also finds each of ``terms`` (its narrower terms), not
    the other way round.
    """

    __tablename__ = "thesaurus_sets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    broader: Mapped[str | None] = mapped_column(String(100))
    terms: Mapped[list] = mapped_column(JSON, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    created_by: Mapped[str] = mapped_column(String(320), nullable=False)


class ThesaurusEvent(Base):
    """One change of the thesaurus: ``op`` ``add``, ``remove``, ``import`` or ``undo``.

    ``payload`` holds the sets added and removed (with their ids), so the change can be
    undone; ``undone_by`` names the undo entry that reversed it.
    """

    __tablename__ = "thesaurus_history"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    actor: Mapped[str] = mapped_column(String(320), nullable=False)
    op: Mapped[str] = mapped_column(String(20), nullable=False)
    payload: Mapped[dict] = mapped_column(JSON, nullable=False)
    undone_by: Mapped[int | None] = mapped_column(Integer)

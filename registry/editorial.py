"""The editorial workflow: submissions, review, publication, audit, verification,
saved searches.

Status moves (who may make them: :data:`registry.roles.ROLE_TABLE`):

- a member saves a draft or submits it for review (``draft`` → ``in_review``); they
  edit only their own records while these are ``draft``;
- an editor requests changes (back to ``draft``, with a comment the submitter
  sees), publishes (``published``) or archives (``archived``), and may edit any
  record;
- twice a year the submitter confirms a published record is still correct
  (``last_verified`` becomes today).

Every change goes through :func:`registry.records.upsert`, so it bumps the version
and appends to the change feed, and writes one audit entry (who, when, which
fields, old → new).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from dateutil.relativedelta import relativedelta
from marshmallow import fields
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from .db import transaction
from .errors import DomainError
from .models import AuditEntry, Innovation, ReviewComment, SavedSearch, User, VerificationReminder
from .records import RECORD_FIELDS, insert, upsert
from .roles import Role, may
from .schemas import InnovationSchema
from .taxonomy import load_taxonomy

VERIFY_AFTER = relativedelta(months=6)
"""A published record is due for verification when its last verification is more than
six calendar months old (or missing): submitters confirm their records twice a year.
The one rule of the editors' backlog, the reminders and the statistics' backlog."""


def verification_cutoff(today: dt.date) -> dt.date:
    """Verifications before this date are overdue: ``today`` minus :data:`VERIFY_AFTER`,
    clamped to the end of a shorter month (31 August → 28 or 29 February)."""
    return today - VERIFY_AFTER


class EditorialError(DomainError, ValueError):
    """A workflow step that is not allowed; ``code`` says why."""

    codes = (
        "no_record", "no_free_id", "action_not_allowed", "comment_needed",
        "comment_too_long", "not_published", "search_name_needed", "search_too_long",
        "no_search",
    )  # fmt: skip


class Forbidden(EditorialError):
    """The user may not do this to this record."""

    codes = ("not_own_draft", "editors_only")


def _jsonable(value):
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def _audit(session: Session, record_id: str, actor: str, action: str, old: dict, new: dict):
    changes = {
        name: [_jsonable(old.get(name)), _jsonable(new.get(name))]
        for name in RECORD_FIELDS
        if old.get(name) != new.get(name)
    }
    session.add(
        AuditEntry(
            record_id=record_id,
            at=dt.datetime.now(dt.UTC),
            actor=actor,
            action=action,
            changes=changes,
        )  # fmt: skip
    )
    return changes


def _current(session: Session, record_id: str) -> Innovation:
    record = session.get(Innovation, record_id)
    if record is None:
        raise EditorialError(f"no innovation {record_id!r}", "no_record", id=record_id)
    return record


def _loaded(record: Innovation) -> dict:
    return {name: getattr(record, name) for name in RECORD_FIELDS}


def is_editor(user: User) -> bool:
    """Editors and administrators review and edit any record (:data:`registry.roles.ROLE_TABLE`)."""
    return may(user.role, Role.EDITOR)


def may_edit(user: User, record: Innovation) -> bool:
    """Editors edit any record; a member edits their own record while it is a draft."""
    return is_editor(user) or (record.owner_id == user.id and record.status == "draft")


ID_ATTEMPTS = 20
"""How often :func:`create_submission` tries a next id when concurrent submissions
with the same title take the one it chose."""


def slugify(title: str) -> str:
    """A URL id from a title: ASCII, lowercase, hyphens (``Ideeën & co`` → ``ideeen-co``)."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return slug[:100] or "innovatie"


def free_id(session: Session, title: str) -> str:
    """The first record id not in use for ``title``: ``slug``, ``slug-2``, …

    Only a proposal: another transaction may take it before this one inserts (see
    :func:`create_submission`).
    """
    base = slugify(title)
    candidate, number = base, 1
    while session.scalar(select(Innovation.id).where(Innovation.id == candidate)):
        number += 1
        candidate = f"{base}-{number}"
    return candidate


def create_submission(factory: sessionmaker[Session], user_id: int, raw: dict, submit: bool) -> str:
    """Create a new submission owned by ``user_id``, with an id made from its title.

    Each attempt is one transaction that inserts (never updates) the record under
    the first free id; when a concurrent submission with the same title took that
    id first, the primary key refuses the insert and the next attempt picks the next
    free id. So a submission never lands in someone else's record, and two members
    submitting one title at once both get their own record.

    Args:
        factory: the registry's session factory.
        user_id: the submitter.
        raw: form values (``id`` is ignored), validated by
            :class:`~registry.schemas.InnovationSchema` (a draft by :func:`load_draft`:
            only a title is needed).
        submit: True sends it for review; False saves a draft.
    Returns:
        the new record's id.
    Raises:
        marshmallow.ValidationError: field-level errors (``messages``).
        EditorialError: no free id after :data:`ID_ATTEMPTS` attempts.
    """
    for _attempt in range(ID_ATTEMPTS):
        try:
            with transaction(factory) as session:
                user = session.get(User, user_id)
                schema = InnovationSchema(taxonomy=load_taxonomy(session))
                record_id = free_id(session, raw.get("title") or "innovatie")
                given = {**raw, "id": record_id}
                data = (
                    schema.load({**given, "status": "in_review"})
                    if submit
                    else load_draft(schema, given)
                )
                insert(session, data, owner_id=user.id)
                _audit(session, record_id, user.email, "submit" if submit else "save", {}, data)
                return record_id
        except IntegrityError:
            continue
    raise EditorialError("no free id for this title; try again", "no_free_id")


def save_submission(session: Session, user: User, raw: dict, submit: bool) -> Innovation:
    """Edit an existing submission from form data (new ones: :func:`create_submission`).

    Args:
        user: the submitter (or an editor).
        raw: field values as the form sends them, with the record's ``id``
            (validated by :class:`~registry.schemas.InnovationSchema`, the import's
            schema).
        submit: True sends it for review; False keeps (or makes) it a draft.
    Returns:
        the saved record.
    Raises:
        marshmallow.ValidationError: field-level errors (``messages``).
        EditorialError: there is no record with this id.
        Forbidden: the user may not edit this record.
    """
    schema = InnovationSchema(taxonomy=load_taxonomy(session))
    record = _current(session, raw.get("id"))
    if not may_edit(user, record):
        raise Forbidden("you may only change your own drafts", "not_own_draft")
    status = "in_review" if submit else "draft"
    if is_editor(user) and record.status in ("published", "archived"):
        status = record.status  # an editor's fix does not unpublish
    data = load_draft(schema, raw) if status == "draft" else schema.load({**raw, "status": status})
    old = _loaded(record)
    outcome = upsert(session, data)
    saved = session.get(Innovation, data["id"])
    if outcome != "unchanged":
        _audit(session, saved.id, user.email, "submit" if submit else "save", old, data)
    return saved


DRAFT_REQUIRED = ("id", "title")
"""The only fields a draft needs; every other rule applies to what is filled in, and
all rules apply on submit."""


def _blank(value) -> bool:
    return value is None or value == "" or value == []


def load_draft(schema: InnovationSchema, raw: dict) -> dict:
    """Validate ``raw`` as a draft: only :data:`DRAFT_REQUIRED` must be there.

    Required fields left empty are stored empty (``""`` or ``[]``: the registry's
    columns are not nullable, and drafts are in no index); a filled-in value is
    checked as on submit (length, vocabulary, numbers, URL).

    Raises:
        marshmallow.ValidationError: as :class:`~registry.schemas.InnovationSchema`.
    """
    empty = [
        name
        for name, field in schema.fields.items()
        if field.required and name not in (*DRAFT_REQUIRED, "status") and _blank(raw.get(name))
    ]
    given = {name: value for name, value in raw.items() if name not in empty}
    data = schema.load({**given, "status": "draft"}, partial=tuple(empty))
    for name in empty:
        data[name] = [] if isinstance(schema.fields[name], fields.List) else ""
    return data


ALLOWED_MOVES = {
    "publish": ("in_review", "archived"),
    "archive": ("published",),
    "request_changes": ("in_review",),
}
"""From which statuses each editor action may start (a draft is the submitter's
until it is submitted)."""

MAX_COMMENT_CHARS = 5000
MAX_SEARCH_NAME_CHARS = 200
"""Longest name of a saved search (longer names are cut)."""
MAX_SAVED_QUERY_CHARS = 2000
"""Longest query string a saved search keeps."""


def set_status(
    session: Session, editor: User, record_id: str, status: str, action: str
) -> Innovation:
    """Change a record's status as an editor (publish, archive, back to draft).

    Raises:
        Forbidden: not an editor.
        EditorialError: the record's status does not allow ``action``
            (:data:`ALLOWED_MOVES`).
    """
    if not is_editor(editor):
        raise Forbidden("only editors change the status", "editors_only")
    record = _current(session, record_id)
    if record.status not in ALLOWED_MOVES.get(action, ()):
        raise EditorialError(
            f"a {record.status} record cannot be given the action {action}",
            "action_not_allowed",
            status=record.status,
            action=action,
        )
    old = _loaded(record)
    data = {**old, "status": status}
    if status == "published" and not data.get("last_verified"):
        data["last_verified"] = dt.date.today()
    upsert(session, data)
    _audit(session, record_id, editor.email, action, old, data)
    return record


def publish(session: Session, editor: User, record_id: str) -> Innovation:
    """Publish a record (it enters the public index through the change feed)."""
    return set_status(session, editor, record_id, "published", "publish")


def archive(session: Session, editor: User, record_id: str) -> Innovation:
    """Archive a record (it leaves the public index, members still find it)."""
    return set_status(session, editor, record_id, "archived", "archive")


def request_changes(session: Session, editor: User, record_id: str, comment: str) -> Innovation:
    """Send a submission back to its submitter as a draft, with ``comment``."""
    comment = comment.strip()
    if not comment:
        raise EditorialError("write what should change", "comment_needed")
    if len(comment) > MAX_COMMENT_CHARS:
        raise EditorialError(
            f"a comment has at most {MAX_COMMENT_CHARS} characters",
            "comment_too_long",
            max=MAX_COMMENT_CHARS,
        )
    record = set_status(session, editor, record_id, "draft", "request_changes")
    session.add(ReviewComment(record_id=record_id, at=dt.datetime.now(dt.UTC),
                              author=editor.email, text=comment))  # fmt: skip
    return record


def review_queue(session: Session) -> list[Innovation]:
    """Submissions waiting for review, oldest change first."""
    return list(
        session.scalars(
            select(Innovation)
            .where(Innovation.status == "in_review")
            .order_by(Innovation.updated_at)
        )
    )


def submissions_of(session: Session, user: User) -> list[Innovation]:
    """The records a user submitted, newest change first."""
    return list(
        session.scalars(
            select(Innovation).where(Innovation.owner_id == user.id)
            .order_by(Innovation.updated_at.desc())
        )
    )  # fmt: skip


def comments_for(session: Session, record_id: str) -> list[ReviewComment]:
    """Review comments on a record, oldest first."""
    return list(
        session.scalars(
            select(ReviewComment).where(ReviewComment.record_id == record_id)
            .order_by(ReviewComment.at)
        )
    )  # fmt: skip


def audit_log(session: Session, record_id: str) -> list[AuditEntry]:
    """Every recorded change of a record, newest first."""
    return list(
        session.scalars(
            select(AuditEntry).where(AuditEntry.record_id == record_id)
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        )
    )  # fmt: skip


def cycle_of(day: dt.date) -> str:
    """The half-year verification cycle of ``day``: ``2026-H1`` or ``2026-H2``."""
    return f"{day.year}-H{1 if day.month <= 6 else 2}"


def verification_backlog(session: Session, today: dt.date) -> list[Innovation]:
    """Published records last verified before :func:`verification_cutoff` (or never),
    oldest first."""
    limit = verification_cutoff(today)
    return list(
        session.scalars(
            select(Innovation)
            .where(Innovation.status == "published")
            .where((Innovation.last_verified.is_(None)) | (Innovation.last_verified < limit))
            .order_by(Innovation.last_verified, Innovation.id)
        )
    )


def reminder_address(session: Session, record: Innovation) -> str | None:
    """Whom to ask: the submitting user, else the record's contact e-mail."""
    if record.owner_id:
        owner = session.get(User, record.owner_id)
        if owner:
            return owner.email
    return (record.contact or {}).get("email")


def due_reminders(session: Session, today: dt.date) -> list[tuple[Innovation, str]]:
    """``(record, address)`` for backlog records not yet reminded in this cycle."""
    cycle = cycle_of(today)
    sent = set(
        session.scalars(
            select(VerificationReminder.record_id).where(VerificationReminder.cycle == cycle)
        )
    )
    out = []
    for record in verification_backlog(session, today):
        address = reminder_address(session, record)
        if record.id not in sent and address:
            out.append((record, address))
    return out


def mark_reminded(session: Session, record_id: str, address: str, today: dt.date) -> None:
    """Record that the reminder of this cycle went out (never twice per cycle)."""
    session.add(VerificationReminder(record_id=record_id, cycle=cycle_of(today), sent_to=address,
                                     sent_at=dt.datetime.now(dt.UTC)))  # fmt: skip


def confirm_verified(session: Session, record_id: str, actor: str, today: dt.date) -> Innovation:
    """The submitter confirmed the record: ``last_verified`` becomes ``today``.

    Raises:
        EditorialError: the record does not exist or is not published (only published
            records are in the verification cycle).
    """
    record = _current(session, record_id)
    if record.status != "published":
        raise EditorialError(
            f"only published records are verified, not {record.status} ones",
            "not_published",
            status=record.status,
        )
    old = _loaded(record)
    data = {**old, "last_verified": today}
    upsert(session, data)
    _audit(session, record_id, actor, "verify", old, data)
    return record


def save_search(session: Session, user: User, name: str, query: str, weekly: bool) -> SavedSearch:
    """Save a search (its URL query string) for a member."""
    name = name.strip()[:MAX_SEARCH_NAME_CHARS]
    if not name:
        raise EditorialError("give the search a name", "search_name_needed")
    if len(query) > MAX_SAVED_QUERY_CHARS:
        raise EditorialError("this search is too long to save", "search_too_long")
    saved = SavedSearch(user_id=user.id, name=name, query=query, weekly=weekly,
                        created_at=dt.datetime.now(dt.UTC))  # fmt: skip
    session.add(saved)
    session.flush()
    return saved


def saved_searches(session: Session, user: User) -> list[SavedSearch]:
    """The saved searches of ``user``, oldest first."""
    query = select(SavedSearch).where(SavedSearch.user_id == user.id).order_by(SavedSearch.id)
    return list(session.scalars(query))


def delete_search(session: Session, user: User, search_id: str) -> None:
    """Delete the saved search ``search_id`` (as posted: digits) of ``user``.

    Raises:
        EditorialError: ``no_search`` when ``search_id`` names no search of ``user``
            (another member's search is as absent as a missing one).
    """
    found = None
    if search_id.isdigit() and len(search_id) < 10:
        found = session.get(SavedSearch, int(search_id))
    if found is None or found.user_id != user.id:
        raise EditorialError(f"no saved search {search_id[:20]!r}", "no_search")
    session.delete(found)

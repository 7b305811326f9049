"""The thesaurus: synonym sets that administrators manage, with history and undo.

The registry owns every write: :func:`add_set`, :func:`remove_set`, :func:`import_sets`
and :func:`undo` validate first (:func:`validate_set`) and write one history entry
(who, when, what) in the caller's transaction, so a bad entry changes nothing and the
thesaurus in force stays as it was. Search applies the sets at query time
(``portal/search/synonyms.py``), so a change is live as soon as a portal process sees
the new history entry (:func:`revision`), without a rebuild of the index.

A set's ``kind`` is ``equivalent`` (every term finds the others) or ``broader`` (a
search for the broader term also finds its narrower terms, not the other way round).
Terms are stored lowercase in NFKC with single spaces; ``data/thesaurus.json`` is the
seed, and :func:`export_sets` writes the same shape.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import jsonlimits
from .errors import DomainError
from .models import SynonymSet, ThesaurusEvent
from .text import STOPWORDS, normalize, words

KINDS = ("equivalent", "broader")
MAX_TERM_LENGTH = 60
"""Longest term, in characters."""
MAX_TERMS = 20
"""Most terms in one set (the broader term included)."""
MAX_IMPORT_SETS = 5000
"""Most sets in one import."""
DEFAULT_THESAURUS_FILE = Path(__file__).resolve().parent.parent / "data" / "thesaurus.json"
SEED_ACTOR = "seed"


class ThesaurusError(DomainError, ValueError):
    """A thesaurus change that cannot be made.

    ``code`` is one of :attr:`codes`; ``message`` is technical English (the portal
    shows a translated message per code, :mod:`portal.errors`); ``where`` names the
    set (``set 3``) in an import.
    """

    codes = (
        "invalid_kind", "empty_term", "term_too_long", "no_words", "too_few_terms",
        "too_many_terms", "duplicate_term", "invalid_document", "not_found", "nothing_to_undo",
    )  # fmt: skip

    def __init__(self, code: str, message: str, where: str = ""):
        limit = {"term_too_long": MAX_TERM_LENGTH, "too_many_terms": MAX_TERMS}.get(code)
        super().__init__(f"{where}: {message}" if where else message, code, max=limit)
        self.message, self.where = message, where


@dataclass(frozen=True)
class SetSpec:
    """A validated synonym set: ``kind``, ``broader`` (or None) and ``terms``."""

    kind: str
    terms: tuple[str, ...]
    broader: str | None = None

    def as_dict(self) -> dict:
        """The set in the seed file's shape."""
        if self.kind == "broader":
            return {"kind": "broader", "term": self.broader, "narrower": list(self.terms)}
        return {"kind": "equivalent", "terms": list(self.terms)}


_SPACES = re.compile(r"\s+")


def clean_term(term: str) -> str:
    """``term`` as stored: NFKC, lowercase, trimmed, inner white space as one space.

    Raises:
        ThesaurusError: empty, longer than :data:`MAX_TERM_LENGTH`, or without a word
            that search would look for (only punctuation or stopwords).
    """
    if not isinstance(term, str):
        raise ThesaurusError("empty_term", "a term must be text")
    cleaned = _SPACES.sub(" ", normalize(term).lower()).strip()
    if not cleaned:
        raise ThesaurusError("empty_term", "a term is empty")
    if len(cleaned) > MAX_TERM_LENGTH:
        raise ThesaurusError(
            "term_too_long", f"{cleaned[:20]!r}…: at most {MAX_TERM_LENGTH} characters"
        )
    tokens = words(cleaned)
    if not tokens or all(token in STOPWORDS for token in tokens):
        raise ThesaurusError("no_words", f"{cleaned!r} has no word that search can look for")
    return cleaned


def validate_set(kind: str, terms, broader: str | None = None) -> SetSpec:
    """Check and clean one set.

    Args:
        kind: ``equivalent`` or ``broader``.
        terms: the terms (``equivalent``) or the narrower terms (``broader``).
        broader: the broader term (``broader`` sets only).
    Returns:
        the cleaned :class:`SetSpec`.
    Raises:
        ThesaurusError: see :class:`ThesaurusError` for the codes.
    """
    if kind not in KINDS:
        raise ThesaurusError("invalid_kind", f"kind must be one of {', '.join(KINDS)}")
    if not isinstance(terms, list | tuple):
        raise ThesaurusError("too_few_terms", "terms must be a list")
    head = clean_term(broader) if kind == "broader" else None
    seen = {tuple(words(head))} if head else set()
    cleaned = []
    for term in map(clean_term, terms):
        key = tuple(words(term))
        if key in seen:
            # spellings that search folds to the same words (taalcafé, taalcafe) add
            # nothing; the broader term among its own narrower terms is a mistake
            if head and key == tuple(words(head)):
                raise ThesaurusError("duplicate_term", f"{term!r} is also the broader term")
            continue
        seen.add(key)
        cleaned.append(term)
    keys = seen
    if kind == "equivalent" and len(cleaned) < 2:
        raise ThesaurusError("too_few_terms", "an equivalent set needs at least two terms")
    if kind == "broader" and not cleaned:
        raise ThesaurusError("too_few_terms", "a broader term needs at least one narrower term")
    if len(keys) > MAX_TERMS:
        raise ThesaurusError("too_many_terms", f"at most {MAX_TERMS} terms in a set")
    return SetSpec(kind, tuple(cleaned), head)


def spec_from_dict(item) -> SetSpec:
    """A :class:`SetSpec` from the seed file's shape (``{"kind", "terms"}`` or
    ``{"kind": "broader", "term", "narrower"}``). Raises ThesaurusError."""
    if not isinstance(item, dict):
        raise ThesaurusError("invalid_document", "a set must be an object")
    if item.get("kind") == "broader":
        return validate_set("broader", item.get("narrower"), item.get("term"))
    return validate_set(item.get("kind"), item.get("terms"))


def _row_dict(row: SynonymSet) -> dict:
    return {"id": row.id, "kind": row.kind, "broader": row.broader, "terms": list(row.terms)}


def _spec(row: SynonymSet) -> SetSpec:
    return SetSpec(row.kind, tuple(row.terms), row.broader)


def list_sets(session: Session) -> list[dict]:
    """Every set, oldest first: ``[{"id", "kind", "broader", "terms"}]``."""
    return [_row_dict(row) for row in session.scalars(select(SynonymSet).order_by(SynonymSet.id))]


def revision(session: Session) -> int:
    """The newest history entry's number (0 for an empty history): a portal process
    reloads its thesaurus when this changes."""
    return session.scalar(select(func.max(ThesaurusEvent.seq))) or 0


def _insert(session: Session, spec: SetSpec, actor: str, now: dt.datetime, set_id=None):
    row = SynonymSet(
        id=set_id, kind=spec.kind, broader=spec.broader, terms=list(spec.terms),
        created_at=now, created_by=actor,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row


def _record(session: Session, actor: str, op: str, added, removed, note: str) -> ThesaurusEvent:
    event = ThesaurusEvent(
        seq=revision(session) + 1, at=dt.datetime.now(dt.UTC), actor=actor, op=op,
        payload={"added": added, "removed": removed, "note": note},
    )  # fmt: skip
    session.add(event)
    session.flush()
    return event


def add_set(session: Session, spec: SetSpec, actor: str) -> dict:
    """Add one validated set; returns it as :func:`list_sets` shows it."""
    row = _insert(session, spec, actor, dt.datetime.now(dt.UTC))
    added = _row_dict(row)
    _record(session, actor, "add", [added], [], describe(added))
    return added


def remove_set(session: Session, set_id: int, actor: str) -> dict:
    """Remove set ``set_id``; returns it as it was.

    Raises:
        ThesaurusError: ``not_found``.
    """
    row = session.get(SynonymSet, set_id)
    if row is None:
        raise ThesaurusError("not_found", f"there is no set {set_id}")
    removed = _row_dict(row)
    session.delete(row)
    _record(session, actor, "remove", [], [removed], describe(removed))
    return removed


def parse_document(doc) -> list[SetSpec]:
    """Validate a whole thesaurus document (the seed file's shape).

    Raises:
        ThesaurusError: the first bad set, with ``where`` = ``set N`` (1-based).
    """
    if not isinstance(doc, dict) or not isinstance(doc.get("sets"), list):
        raise ThesaurusError("invalid_document", 'expected {"sets": [...]}')
    if len(doc["sets"]) > MAX_IMPORT_SETS:
        raise ThesaurusError("invalid_document", f"at most {MAX_IMPORT_SETS} sets")
    specs = []
    for number, item in enumerate(doc["sets"], 1):
        try:
            specs.append(spec_from_dict(item))
        except ThesaurusError as exc:
            raise ThesaurusError(exc.code, exc.message, f"set {number}") from None
    return specs


MAX_DOCUMENT_CHARS = 2_000_000
"""Longest thesaurus document accepted for an import (characters)."""
MAX_DOCUMENT_DEPTH = 4
"""``{"sets": [{"terms": [...]}]}`` is four levels deep; nothing deeper is read."""


def parse_text(text: str | bytes) -> list[SetSpec]:
    """Validate a thesaurus document given as JSON text (an upload, a file).

    Raises:
        ThesaurusError: ``invalid_document`` (not UTF-8, not JSON, too long, nested too
            deeply), or the first bad set as :func:`parse_document` reports it.
    """
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        doc = jsonlimits.loads(text, MAX_DOCUMENT_CHARS, MAX_DOCUMENT_DEPTH)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ThesaurusError("invalid_document", f"not a thesaurus document: {exc}") from None
    return parse_document(doc)


def import_sets(session: Session, specs: list[SetSpec], actor: str, replace: bool = False) -> int:
    """Add ``specs`` (all or nothing, in the caller's transaction); with ``replace`` the
    existing sets are removed first. Sets already present are skipped.

    Returns:
        the number of sets added.
    """
    now = dt.datetime.now(dt.UTC)
    removed = []
    if replace:
        for row in session.scalars(select(SynonymSet)):
            removed.append(_row_dict(row))
            session.delete(row)
        session.flush()
    present = {_spec(row) for row in session.scalars(select(SynonymSet))}
    added = []
    for spec in dict.fromkeys(specs):
        if spec not in present:
            added.append(_row_dict(_insert(session, spec, actor, now)))
    note = f"{len(added)} sets imported" + (f", {len(removed)} replaced" if replace else "")
    _record(session, actor, "import", added, removed, note)
    return len(added)


def export_sets(session: Session) -> dict:
    """The thesaurus in the seed file's shape (``{"about", "sets"}``)."""
    sets = [
        _spec(row).as_dict() for row in session.scalars(select(SynonymSet).order_by(SynonymSet.id))
    ]
    return {"about": "Innovatiebieb thesaurus export", "sets": sets}


def last_undoable(session: Session) -> ThesaurusEvent | None:
    """The newest change that can still be undone (not undone, not itself an undo)."""
    return session.scalar(
        select(ThesaurusEvent)
        .where(ThesaurusEvent.undone_by.is_(None), ThesaurusEvent.op != "undo")
        .order_by(ThesaurusEvent.seq.desc())
        .limit(1)
    )


def undo(session: Session, actor: str) -> ThesaurusEvent:
    """Reverse the newest undoable change: remove what it added, restore what it
    removed (with the same ids).

    Raises:
        ThesaurusError: ``nothing_to_undo``.
    """
    event = last_undoable(session)
    if event is None:
        raise ThesaurusError("nothing_to_undo", "there is no change to undo")
    now = dt.datetime.now(dt.UTC)
    for item in event.payload.get("added", []):
        row = session.get(SynonymSet, item["id"])
        if row is not None:
            session.delete(row)
    session.flush()
    for item in event.payload.get("removed", []):
        if session.get(SynonymSet, item["id"]) is None:
            spec = SetSpec(item["kind"], tuple(item["terms"]), item["broader"])
            _insert(session, spec, actor, now, set_id=item["id"])
    reversal = _record(
        session, actor, "undo", event.payload.get("removed", []),
        event.payload.get("added", []), f"undo of #{event.seq} ({event.op})",
    )  # fmt: skip
    event.undone_by = reversal.seq
    return reversal


def history(session: Session, limit: int = 50) -> list[ThesaurusEvent]:
    """The newest ``limit`` history entries, newest first."""
    query = select(ThesaurusEvent).order_by(ThesaurusEvent.seq.desc()).limit(limit)
    return list(session.scalars(query))


def describe(item: dict) -> str:
    """A one-line human form of a set: ``a = b = c`` or ``a → b, c``."""
    if item["kind"] == "broader":
        return f"{item['broader']} → {', '.join(item['terms'])}"
    return " = ".join(item["terms"])


def seed_thesaurus(session: Session, path: Path = DEFAULT_THESAURUS_FILE) -> int:
    """Import the seed file into an empty thesaurus (never over an existing history).

    Returns:
        the number of sets seeded (0 when the thesaurus has a history already).
    Raises:
        ThesaurusError: the seed file is invalid.
    """
    if revision(session) or not path.exists():
        return 0
    specs = parse_document(json.loads(path.read_text(encoding="utf-8")))
    return import_sets(session, specs, SEED_ACTOR)

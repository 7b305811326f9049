"""The controlled vocabularies and the community history.

:class:`Taxonomy` is a pure, read-only view built from the shape of
``data/taxonomy.json``; the registry stores the same content in ``taxonomy_terms``
and ``taxonomy_history`` (:func:`seed_taxonomy`, :func:`load_taxonomy`).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import DomainError
from .languages import LANGUAGES
from .models import TaxonomyEvent, TaxonomyTerm

VOCABULARIES = (
    "priorities",
    "communities",
    "phases",
    "innovation_types",
    "evidence_levels",
    "target_groups",
    "provinces",
)
"""The lists of ``taxonomy.json`` that hold terms with ``id`` and ``nl``/``en`` labels: the
one declaration of the vocabularies. The facets (``portal.search.facets.FACETS``) and the
record schema (:data:`registry.schemas.VOCABULARY_FIELDS`) name theirs from this list; a
facet naming another vocabulary fails when it is declared."""

DEFAULT_TAXONOMY_FILE = Path(__file__).resolve().parent.parent / "data" / "taxonomy.json"


@dataclass(frozen=True)
class Term:
    """One vocabulary value: stable ``id`` (a string, also for evidence levels)."""

    id: str
    position: int
    labels: dict[str, str]
    attributes: dict = field(default_factory=dict)

    def label(self, lang: str = "nl", short: bool = False) -> str:
        """Label in ``lang`` (``nl``/``en``); ``short`` prefers ``short_<lang>`` if given."""
        if short and self.attributes.get(f"short_{lang}"):
            return self.attributes[f"short_{lang}"]
        return self.labels.get(lang) or self.labels["nl"]


class UnknownTerm(DomainError, KeyError):
    """Raised when an id is not in the named vocabulary (``params``: ``vocabulary``,
    ``id``)."""

    codes = ("unknown_term",)


class Taxonomy:
    """Read-only vocabularies plus community resolution.

    Args:
        terms: ``{vocabulary: [Term, …]}`` in display order.
        history: the community history entries (dicts with ``seq``, ``op``, ``from``,
            ``to``, ``date``, ``note``), oldest first.
    """

    def __init__(self, terms: dict[str, list[Term]], history: list[dict] | None = None):
        self._terms = {vocab: list(values) for vocab, values in terms.items()}
        self._by_id = {
            vocab: {term.id: term for term in values} for vocab, values in self._terms.items()
        }
        self.history = list(history or [])

    @classmethod
    def from_document(cls, doc: dict) -> Taxonomy:
        """Build from a dict shaped like ``taxonomy.json``."""
        terms: dict[str, list[Term]] = {}
        for vocab in VOCABULARIES:
            values = []
            for position, raw in enumerate(doc.get(vocab, []), start=1):
                attrs = {k: v for k, v in raw.items() if k not in ("id", *LANGUAGES, "order")}
                values.append(
                    Term(
                        id=str(raw["id"]),
                        position=int(raw.get("order", position)),
                        labels={"nl": raw["nl"], "en": raw.get("en", raw["nl"])},
                        attributes=attrs,
                    )
                )
            terms[vocab] = sorted(values, key=lambda t: t.position)
        return cls(terms, doc.get("history", []))

    @classmethod
    def from_file(cls, path: Path = DEFAULT_TAXONOMY_FILE) -> Taxonomy:
        """Build from a ``taxonomy.json`` file (UTF-8)."""
        return cls.from_document(json.loads(Path(path).read_text(encoding="utf-8")))

    @property
    def revision(self) -> int:
        """The newest history ``seq`` (0 without history); grows with every operation."""
        return max((int(entry["seq"]) for entry in self.history), default=0)

    def terms(self, vocabulary: str) -> list[Term]:
        """All terms of ``vocabulary`` in display order (historical communities included)."""
        return list(self._terms.get(vocabulary, []))

    def get(self, vocabulary: str, term_id: str) -> Term:
        """The term ``term_id`` of ``vocabulary``; raises :class:`UnknownTerm`."""
        try:
            return self._by_id[vocabulary][str(term_id)]
        except KeyError:
            raise UnknownTerm(
                f"{vocabulary}: {term_id}", "unknown_term", vocabulary=vocabulary, id=term_id
            ) from None

    def has(self, vocabulary: str, term_id: str) -> bool:
        """Whether ``term_id`` is a value of ``vocabulary`` (current or historical)."""
        return str(term_id) in self._by_id.get(vocabulary, {})

    def label(self, vocabulary: str, term_id: str, lang: str = "nl", short: bool = False) -> str:
        """Label of a term, or the id itself when the term is unknown."""
        term = self._by_id.get(vocabulary, {}).get(str(term_id))
        return term.label(lang, short) if term else str(term_id)

    def active_communities(self) -> list[Term]:
        """Communities whose ``status`` is ``active``, in display order."""
        return [t for t in self._terms["communities"] if t.attributes.get("status") == "active"]

    def resolve_community(self, term_id: str, record_id: str | None = None) -> list[str]:
        """Current community ids for a (possibly historical) community id.

        Follows ``merged_into``/``renamed_to``/``split_into``/``retired_into`` links
        through chains such as rename-after-merge (see :mod:`registry.taxonomy_ops`). A
        split community sends ``record_id`` where the administrator assigned it
        (``assignments``), else to every part. A retired community without successor
        resolves to ``[]``; an unknown id raises :class:`UnknownTerm`.
        """
        seen: set[str] = set()
        result: list[str] = []
        pending = [str(term_id)]
        while pending:
            current = pending.pop(0)
            if current in seen:
                continue
            seen.add(current)
            attrs = self.get("communities", current).attributes
            status = attrs.get("status", "active")
            if status == "active":
                if current not in result:
                    result.append(current)
            elif status == "merged":
                pending.append(attrs["merged_into"])
            elif status == "renamed":
                pending.append(attrs["renamed_to"])
            elif status == "split":
                assigned = attrs.get("assignments", {}).get(record_id) if record_id else None
                pending.extend(assigned or attrs.get("split_into", []))
            elif status == "retired" and attrs.get("retired_into"):
                pending.append(attrs["retired_into"])
        return result

    def resolve_communities(self, term_ids: list[str], record_id: str | None = None) -> list[str]:
        """Current ids for a record's community list, order kept, duplicates dropped.

        Unknown ids are dropped here; the import schema rejects them earlier.
        """
        resolved: list[str] = []
        for term_id in term_ids:
            if not self.has("communities", term_id):
                continue
            for current in self.resolve_community(term_id, record_id):
                if current not in resolved:
                    resolved.append(current)
        return resolved

    def predecessors(self, term_id: str) -> list[str]:
        """Historical community ids that resolve to the active community ``term_id``."""
        return [
            t.id
            for t in self._terms["communities"]
            if t.id != term_id
            and t.attributes.get("status", "active") != "active"
            and term_id in self.resolve_community(t.id)
        ]

    def formerly(self, term_id: str, since: dt.date) -> list[str]:
        """Ids that were merged or renamed into ``term_id`` on or after ``since``.

        Read from the history (undone operations excluded); feeds the "(voorheen …)"
        facet label for ``COMMUNITY_FORMERLY_DAYS``.
        """
        out: list[str] = []
        for entry in self.history:
            if entry.get("op") not in ("merge", "rename") or entry.get("undone_by"):
                continue
            if entry.get("to") != term_id or dt.date.fromisoformat(entry["date"]) < since:
                continue
            sources = entry.get("from")
            for source in sources if isinstance(sources, list) else [sources]:
                if source and source not in out:
                    out.append(source)
        return out


def seed_taxonomy(session: Session, doc: dict) -> int:
    """Store the vocabularies and history of ``doc`` when the registry has none yet.

    Args:
        session: an open session inside a transaction.
        doc: a dict shaped like ``taxonomy.json``.
    Returns:
        the number of terms written (0 when the registry already held a taxonomy, so
        later taxonomy operations are never overwritten by the seed file).
    """
    if session.scalar(select(TaxonomyTerm.term_id).limit(1)) is not None:
        return 0
    taxonomy = Taxonomy.from_document(doc)
    count = 0
    for vocab in VOCABULARIES:
        for term in taxonomy.terms(vocab):
            session.add(
                TaxonomyTerm(
                    vocabulary=vocab,
                    term_id=term.id,
                    position=term.position,
                    label_nl=term.labels["nl"],
                    label_en=term.labels["en"],
                    attributes=term.attributes,
                )
            )
            count += 1
    for entry in doc.get("history", []):
        payload = {k: v for k, v in entry.items() if k not in ("seq", "date", "op")}
        session.add(
            TaxonomyEvent(
                seq=entry["seq"],
                date=dt.date.fromisoformat(entry["date"]),
                op=entry["op"],
                payload=payload,
                actor="seed",
            )
        )
    return count


def load_taxonomy(session: Session) -> Taxonomy:
    """Read the current taxonomy from the registry (empty vocabularies if not seeded)."""
    terms: dict[str, list[Term]] = {vocab: [] for vocab in VOCABULARIES}
    rows = session.scalars(
        select(TaxonomyTerm).order_by(TaxonomyTerm.vocabulary, TaxonomyTerm.position)
    )
    for row in rows:
        terms.setdefault(row.vocabulary, []).append(
            Term(
                id=row.term_id,
                position=row.position,
                labels={"nl": row.label_nl, "en": row.label_en},
                attributes=dict(row.attributes or {}),
            )
        )
    history = [
        {
            "seq": ev.seq,
            "date": ev.date.isoformat(),
            "op": ev.op,
            "undone_by": ev.undone_by,
            **ev.payload,
        }
        for ev in session.scalars(select(TaxonomyEvent).order_by(TaxonomyEvent.seq))
    ]
    return Taxonomy(terms, history)

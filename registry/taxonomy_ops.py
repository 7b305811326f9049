"""Taxonomy operations on communities: create, rename, merge, split, retire, undo.

Source records keep the community ids they were entered with; an operation only
changes the terms (status and successor links) and the taxonomy resolves records
to the current communities (:meth:`Taxonomy.resolve_community`). Each operation is
previewed first (:func:`preview`: which innovations change, counts before and
after), then applied (:func:`apply`) in one transaction that writes the terms, a
history entry with the terms as they were (for :func:`undo`), and a change-feed row
for every affected innovation, so the indexer re-indexes just those.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import Session

from .errors import DomainError
from .models import Innovation, TaxonomyEvent, TaxonomyTerm
from .records import append_change
from .taxonomy import VOCABULARIES, Taxonomy, Term, load_taxonomy

OPERATIONS = ("create", "rename", "merge", "split", "retire")
MAX_ID_CHARS = 120
"""Longest community id."""
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class TaxonomyError(DomainError, ValueError):
    """An operation that cannot be done as asked; ``code`` says why (``params``: the
    ids concerned)."""

    codes = (
        "invalid_operation", "dutch_label_needed", "unknown_operation", "id_twice",
        "result_is_source", "part_is_source", "id_too_long", "unknown_group",
        "unknown_community", "inactive_community", "invalid_id", "former_community",
        "community_exists", "merge_needs_sources", "split_needs_parts", "one_community",
        "create_needs_id", "nothing_to_undo",
    )  # fmt: skip


@dataclass
class Operation:
    """One requested change to the communities.

    Attributes:
        op: one of :data:`OPERATIONS`.
        sources: ids the operation acts on (rename/retire/split: one; merge: 2+).
        target: the resulting id (create, rename, merge, retire ``--into``), if any.
        parts: the new ids of a split (2+).
        labels: ``{"nl": …, "en": …}`` for a new or renamed term (per target id for a
            split: ``{"b": {"nl": …, "en": …}}``).
        assignments: split only: ``{record_id: [part ids]}``; unassigned records go
            to every part.
        group: community group of a created term (default: the sources' group).
    """

    op: str
    sources: list[str] = field(default_factory=list)
    target: str | None = None
    parts: list[str] = field(default_factory=list)
    labels: dict = field(default_factory=dict)
    assignments: dict[str, list[str]] = field(default_factory=dict)
    group: str | None = None

    @classmethod
    def from_dict(cls, raw) -> Operation:
        """An operation from untrusted JSON (the admin preview form), type-checked.

        Raises:
            TaxonomyError: a field of the wrong type or shape.
        """
        if not isinstance(raw, dict) or not isinstance(raw.get("op"), str):
            raise TaxonomyError("not an operation", "invalid_operation")

        def strings(value, name):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise TaxonomyError(f"{name} must be a list of ids", "invalid_operation")
            return list(value)

        def label_dict(value, name):
            if not isinstance(value, dict) or not all(
                isinstance(v, str | None) for v in value.values()
            ):
                raise TaxonomyError(f"{name} must map a language to a name", "invalid_operation")
            return dict(value)

        labels = raw.get("labels") or {}
        if raw["op"] == "split":
            if not isinstance(labels, dict):
                raise TaxonomyError("labels must map a part id to its names", "invalid_operation")
            labels = {k: label_dict(v, "labels") for k, v in labels.items()}
        else:
            labels = label_dict(labels, "labels")
        target, group = raw.get("target"), raw.get("group")
        if target is not None and not isinstance(target, str):
            raise TaxonomyError("target must be an id", "invalid_operation")
        if group is not None and not isinstance(group, str):
            raise TaxonomyError("group must be a group id", "invalid_operation")
        assignments = raw.get("assignments") or {}
        if not isinstance(assignments, dict):
            raise TaxonomyError("assignments must map innovations to parts", "invalid_operation")
        return cls(
            op=raw["op"],
            sources=strings(raw.get("sources", []), "sources"),
            target=target,
            parts=strings(raw.get("parts", []), "parts"),
            labels=labels,
            assignments={k: strings(v, "assignments") for k, v in assignments.items()},
            group=group,
        )

    def describe(self) -> str:
        """A one-line human description, e.g. ``merge a, b -> c``."""
        into = self.target or ", ".join(self.parts) or "-"
        return f"{self.op} {', '.join(self.sources) or '-'} -> {into}"


@dataclass
class Preview:
    """What an operation would change.

    ``affected`` lists ``(record_id, title, communities_before, communities_after)``
    for every innovation whose resolved communities change; ``counts_before`` and
    ``counts_after`` are ``{community id: published innovations}``.
    """

    operation: Operation
    affected: list[tuple[str, str, list[str], list[str]]]
    counts_before: dict[str, int]
    counts_after: dict[str, int]


def _new_term(term_id: str, position: int, labels: dict, attributes: dict) -> Term:
    if not labels.get("nl"):
        raise TaxonomyError(
            f"a Dutch label is needed for the new community {term_id}",
            "dutch_label_needed",
            id=term_id,
        )
    return Term(term_id, position, {"nl": labels["nl"], "en": labels.get("en") or labels["nl"]},
                attributes)  # fmt: skip


def planned_terms(taxonomy: Taxonomy, op: Operation) -> dict[str, Term]:
    """The community terms an operation writes, ``{id: new term}`` (pure, validated).

    Raises:
        TaxonomyError: unknown or inactive sources, an id that exists already, a
            split with fewer than two parts, assignments to ids outside the split.
    """
    if op.op not in OPERATIONS:
        raise TaxonomyError(f"unknown operation {op.op!r}", "unknown_operation", op=op.op)
    terms = {t.id: t for t in taxonomy.terms("communities")}
    if len(set(op.sources)) != len(op.sources) or len(set(op.parts)) != len(op.parts):
        raise TaxonomyError("an id is named twice", "id_twice")
    if op.target and op.target in op.sources:
        raise TaxonomyError(
            "the result must differ from the communities it replaces", "result_is_source"
        )
    if set(op.parts) & set(op.sources):
        raise TaxonomyError(
            "a split part must differ from the community that is split", "part_is_source"
        )
    for new_id in [op.target or "", *op.parts]:
        if len(new_id) > MAX_ID_CHARS:
            raise TaxonomyError(
                f"an id has at most {MAX_ID_CHARS} characters", "id_too_long", max=MAX_ID_CHARS
            )
    known_groups = {t.attributes.get("group") for t in terms.values()} - {None}
    if op.group is not None and op.group not in known_groups:
        raise TaxonomyError(f"unknown group {op.group!r}", "unknown_group", id=op.group)
    for source in op.sources:
        if source not in terms:
            raise TaxonomyError(f"unknown community {source!r}", "unknown_community", id=source)
        if terms[source].attributes.get("status", "active") != "active":
            raise TaxonomyError(
                f"community {source!r} is not active "
                f"(it is {terms[source].attributes.get('status')})",
                "inactive_community",
                id=source,
            )
    new_ids = [i for i in ([op.target] if op.target else []) + op.parts if i not in terms]
    for new_id in new_ids:
        if not SLUG.match(new_id):
            raise TaxonomyError(
                f"{new_id!r} is not a valid id (lowercase, digits, hyphens)",
                "invalid_id",
                id=new_id,
            )
    next_position = max((t.position for t in terms.values()), default=0) + 1
    source = terms[op.sources[0]] if op.sources else None
    base = dict(source.attributes) if source else {}
    group = op.group or base.get("group")
    out: dict[str, Term] = {}

    def successor(term_id: str, labels: dict) -> None:
        nonlocal next_position
        if term_id in terms:
            if terms[term_id].attributes.get("status", "active") != "active":
                raise TaxonomyError(
                    f"community {term_id!r} exists but is not active",
                    "former_community",
                    id=term_id,
                )
            return
        attrs = {"status": "active", "group": group, "number": base.get("number", "")}
        out[term_id] = _new_term(term_id, next_position, labels, attrs)
        next_position += 1

    def retire_as(term_id: str, **links) -> None:
        old = terms[term_id]
        out[term_id] = Term(old.id, old.position, dict(old.labels), {**old.attributes, **links})

    if op.op == "create":
        if not op.target or op.sources:
            raise TaxonomyError("create needs exactly one new id", "create_needs_id")
        if op.target in terms:
            raise TaxonomyError(
                f"community {op.target!r} exists already", "community_exists", id=op.target
            )
        successor(op.target, op.labels)
    elif op.op == "rename":
        if len(op.sources) != 1:
            raise TaxonomyError("rename takes one community", "one_community")
        if op.target is None:
            old = terms[op.sources[0]]
            labels = {**old.labels, **{k: v for k, v in op.labels.items() if v}}
            out[old.id] = Term(old.id, old.position, labels, dict(old.attributes))
        else:
            if op.target in terms:
                raise TaxonomyError(
                    f"community {op.target!r} exists already", "community_exists", id=op.target
                )
            labels = {**terms[op.sources[0]].labels, **{k: v for k, v in op.labels.items() if v}}
            successor(op.target, labels)
            retire_as(op.sources[0], status="renamed", renamed_to=op.target)
    elif op.op == "merge":
        if len(op.sources) < 2 or not op.target:
            raise TaxonomyError(
                "merge takes two or more communities and a target", "merge_needs_sources"
            )
        successor(op.target, op.labels)
        for src in op.sources:
            retire_as(src, status="merged", merged_into=op.target)
    elif op.op == "split":
        if len(op.sources) != 1 or len(op.parts) < 2:
            raise TaxonomyError(
                "split takes one community and two or more parts", "split_needs_parts"
            )
        for part in op.parts:
            successor(part, op.labels.get(part, {}))
        bad = {p for ids in op.assignments.values() for p in ids} - set(op.parts)
        if bad:
            raise TaxonomyError(
                f"assignments name ids outside the split: {sorted(bad)}",
                "invalid_operation",
            )
        assignments = {rid: list(ids) for rid, ids in op.assignments.items() if ids}
        retire_as(op.sources[0], status="split", split_into=list(op.parts),
                  assignments=assignments)  # fmt: skip
    elif op.op == "retire":
        if len(op.sources) != 1:
            raise TaxonomyError("retire takes one community", "one_community")
        if op.target:
            successor(op.target, op.labels)
            retire_as(op.sources[0], status="retired", retired_into=op.target)
        else:
            retire_as(op.sources[0], status="retired")
    return out


def _with_terms(taxonomy: Taxonomy, changed: dict[str, Term | None]) -> Taxonomy:
    terms = {vocab: taxonomy.terms(vocab) for vocab in VOCABULARIES}
    communities = {t.id: t for t in terms["communities"]}
    for term_id, term in changed.items():
        if term is None:
            communities.pop(term_id, None)
        else:
            communities[term_id] = term
    terms["communities"] = sorted(communities.values(), key=lambda t: t.position)
    return Taxonomy(terms, taxonomy.history)


def _candidates(session: Session, ids: set[str]):
    """Records whose entered communities mention one of ``ids`` (JSON text match)."""
    if not ids:
        return []
    text = cast(Innovation.communities, String)
    clause = or_(*[text.like(f'%"{term_id}"%') for term_id in sorted(ids)])
    return session.execute(
        select(Innovation.id, Innovation.title, Innovation.communities, Innovation.status)
        .where(clause)
        .order_by(Innovation.id)
    ).all()


def published_counts(session: Session, taxonomy: Taxonomy | None = None) -> Counter:
    """Published innovations per current community, recounted from the registry."""
    taxonomy = taxonomy or load_taxonomy(session)
    counts: Counter = Counter()
    rows = session.execute(
        select(Innovation.id, Innovation.communities).where(Innovation.status == "published")
    )
    for record_id, communities in rows:
        counts.update(taxonomy.resolve_communities(communities, record_id))
    return counts


def _affected(session: Session, before: Taxonomy, after: Taxonomy, changed: set[str]):
    # every historical id whose resolution can change: the changed terms and their
    # predecessors (a record entered with an old id follows the chain)
    ids = set(changed)
    for term in before.terms("communities"):
        if any(c in before.resolve_community(term.id) for c in changed):
            ids.add(term.id)
    out = []
    for record_id, title, communities, status in _candidates(session, ids):
        old = before.resolve_communities(communities, record_id)
        new = after.resolve_communities(communities, record_id)
        if old != new:
            out.append((record_id, title, old, new, status))
    return out


def _relabelled(session: Session, before: Taxonomy, after: Taxonomy, changed: set[str], affected):
    """Records whose communities stay but whose community labels change.

    Index documents carry the labels as searchable text, so such records are re-fed
    too; they are not "affected" in a preview (their communities do not change).
    """
    relabelled = {
        term_id
        for term_id in changed
        if before.has("communities", term_id)
        and after.has("communities", term_id)
        and before.get("communities", term_id).labels != after.get("communities", term_id).labels
    }
    if not relabelled:
        return []
    seen = {row[0] for row in affected}
    ids = set(relabelled)
    for term in before.terms("communities"):
        if relabelled.intersection(before.resolve_community(term.id)):
            ids.add(term.id)
    return [
        (record_id,)
        for record_id, _title, communities, _status in _candidates(session, ids)
        if record_id not in seen
        and relabelled.intersection(after.resolve_communities(communities, record_id))
    ]


def preview(session: Session, op: Operation) -> Preview:
    """What ``op`` would change, without changing anything.

    Raises:
        TaxonomyError: the operation is not valid (see :func:`planned_terms`).
    """
    before = load_taxonomy(session)
    changed = planned_terms(before, op)
    after = _with_terms(before, changed)
    affected = _affected(session, before, after, set(changed))
    counts_before = published_counts(session, before)
    counts_after = counts_before.copy()
    for _rid, _title, old, new, status in affected:
        if status == "published":
            counts_after.subtract(old)
            counts_after.update(new)
    return Preview(
        operation=op,
        affected=[(rid, title, old, new) for rid, title, old, new, _ in affected],
        counts_before=dict(counts_before),
        counts_after={k: v for k, v in counts_after.items() if v},
    )


def _write_terms(session: Session, changed: dict[str, Term | None]) -> dict[str, dict | None]:
    """Write ``changed`` community terms; returns the rows as they were (for undo)."""
    before: dict[str, dict | None] = {}
    for term_id, term in changed.items():
        row = session.get(TaxonomyTerm, ("communities", term_id))
        before[term_id] = (
            None if row is None else {"position": row.position, "labels": {"nl": row.label_nl,
                                      "en": row.label_en}, "attributes": dict(row.attributes)}
        )  # fmt: skip
        if term is None:
            if row is not None:
                session.delete(row)
            continue
        if row is None:
            row = TaxonomyTerm(vocabulary="communities", term_id=term_id)
            session.add(row)
        row.position = term.position
        row.label_nl = term.labels["nl"]
        row.label_en = term.labels["en"]
        row.attributes = dict(term.attributes)
    return before


def _feed(session: Session, affected) -> None:
    for record_id, *_ in affected:
        version = session.scalar(select(Innovation.version).where(Innovation.id == record_id))
        append_change(session, record_id, version, "taxonomy")


def _next_seq(session: Session) -> int:
    return (session.scalar(select(func.max(TaxonomyEvent.seq))) or 0) + 1


def apply(session: Session, op: Operation, actor: str) -> TaxonomyEvent:
    """Apply ``op`` inside the caller's transaction; returns the history entry.

    Writes the terms, one history entry (who, when, what, and the terms before),
    and a change-feed row per affected innovation.

    Raises:
        TaxonomyError: the operation is not valid.
    """
    before = load_taxonomy(session)
    changed = planned_terms(before, op)
    after = _with_terms(before, changed)
    affected = _affected(session, before, after, set(changed))
    relabelled = _relabelled(session, before, after, set(changed), affected)
    snapshot = _write_terms(session, changed)
    now = dt.datetime.now(dt.UTC)
    event = TaxonomyEvent(
        seq=_next_seq(session),
        date=now.date(),
        at=now,
        op=op.op,
        payload={
            "from": op.sources if op.op == "merge" else (op.sources[0] if op.sources else None),
            "to": op.parts if op.op == "split" else op.target,
            "labels": op.labels,
            "assignments": op.assignments,
            "affected": len(affected),
            "note": op.describe(),
        },
        actor=actor,
        before=snapshot,
    )
    session.add(event)
    _feed(session, affected + relabelled)
    return event


def last_undoable(session: Session) -> TaxonomyEvent | None:
    """The newest operation that can still be undone (not seeded, not undone, not an undo)."""
    return session.scalar(
        select(TaxonomyEvent)
        .where(TaxonomyEvent.before.is_not(None), TaxonomyEvent.undone_by.is_(None),
               TaxonomyEvent.op != "undo")
        .order_by(TaxonomyEvent.seq.desc())
        .limit(1)
    )  # fmt: skip


def undo(session: Session, actor: str) -> TaxonomyEvent:
    """Reverse the last operation: restore its terms, re-feed the affected records.

    Raises:
        TaxonomyError: there is nothing to undo.
    """
    event = last_undoable(session)
    if event is None:
        raise TaxonomyError("there is no operation to undo", "nothing_to_undo")
    before = load_taxonomy(session)
    restore: dict[str, Term | None] = {
        term_id: None if old is None else Term(term_id, old["position"], old["labels"],
                                               old["attributes"])
        for term_id, old in event.before.items()
    }  # fmt: skip
    after = _with_terms(before, restore)
    affected = _affected(session, before, after, set(restore))
    relabelled = _relabelled(session, before, after, set(restore), affected)
    _write_terms(session, restore)
    now = dt.datetime.now(dt.UTC)
    reversal = TaxonomyEvent(
        seq=_next_seq(session),
        date=now.date(),
        at=now,
        op="undo",
        payload={
            "reverses": event.seq,
            "note": f"undo of #{event.seq} ({event.op})",
            "affected": len(affected),
        },  # fmt: skip
        actor=actor,
        before=None,
    )
    session.add(reversal)
    event.undone_by = reversal.seq
    _feed(session, affected + relabelled)
    return reversal


def suggest_parts(text: str, parts: dict[str, str]) -> list[str]:
    """Which split parts fit an innovation's text best (a helper for the admin).

    Args:
        text: the innovation's title, summary, description and keywords.
        parts: ``{part id: label}``.
    Returns:
        the part ids whose label words occur most often in ``text`` (all tied best);
        empty when no label word occurs.
    """
    words = Counter(re.findall(r"\w{4,}", text.casefold()))
    scores = {}
    for part_id, label in parts.items():
        label_words = set(re.findall(r"\w{4,}", label.casefold()))
        scores[part_id] = sum(words[w] for w in label_words)
    best = max(scores.values(), default=0)
    return [p for p, score in scores.items() if score == best and best > 0]

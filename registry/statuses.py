"""The statuses of a record and who sees a record in each: the one declaration of them.

The record schema's valid values (:mod:`registry.schemas`), the editorial workflow
(:mod:`registry.editorial`), what the indexer writes to each audience's index
(:mod:`indexer.documents`), what OAI-PMH lists (:mod:`portal.oai.repository`) and the
translated labels of the UI all read :data:`STATUS_TABLE`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .labels import N_

AUDIENCES = ("public", "members")
"""The audiences of search, each with an index of its own (``indexer.client.IndexNames``)."""


class Status(StrEnum):
    """A record's ``status``; compares equal to its name (``Status.DRAFT == "draft"``)."""

    DRAFT = "draft"
    IN_REVIEW = "in_review"
    PUBLISHED = "published"
    ARCHIVED = "archived"


@dataclass(frozen=True)
class StatusDeclaration:
    """One status: its ``label`` (English, translated by the portal) and the
    ``audiences`` whose search index and pages hold records in it."""

    status: Status
    label: str
    audiences: tuple[str, ...]


STATUS_TABLE = (
    StatusDeclaration(Status.DRAFT, N_("Draft"), ()),
    StatusDeclaration(Status.IN_REVIEW, N_("In review"), ()),
    StatusDeclaration(Status.PUBLISHED, N_("Published"), ("public", "members")),
    StatusDeclaration(Status.ARCHIVED, N_("Archived"), ("members",)),
)
"""Every status in the order of the workflow: draft → in review → published → archived.
Members see archived innovations, the public only published ones; drafts and records
in review are seen by their owner and the editors only, in no index."""

RECORD_STATUSES = tuple(entry.status.value for entry in STATUS_TABLE)
"""The valid values of ``status``."""

STATUS_LABELS = {entry.status.value: entry.label for entry in STATUS_TABLE}
"""Status → English label (translate with gettext when shown)."""

EDITED_BY_OWNER = (Status.DRAFT, Status.IN_REVIEW)
"""Statuses in which a record is still its owner's work, hidden from other members."""


def visible_statuses(audience: str) -> tuple[str, ...]:
    """The statuses whose records ``audience`` (``public`` or ``members``) sees.

    Raises ValueError for an unknown audience.
    """
    if audience not in AUDIENCES:
        raise ValueError(f"unknown audience {audience!r}; one of {', '.join(AUDIENCES)}")
    return tuple(e.status.value for e in STATUS_TABLE if audience in e.audiences)


def ever_visible_statuses() -> tuple[str, ...]:
    """The statuses whose records some audience sees (what a harvester may know of)."""
    return tuple(e.status.value for e in STATUS_TABLE if e.audiences)

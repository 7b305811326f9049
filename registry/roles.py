"""The roles of the portal and what each may do: the one declaration of them.

The command line's choices (``flask --app portal users create … --role``), the
registry's checks (:mod:`registry.users`, :mod:`registry.editorial`), the portal's
rights checks (``portal.auth.requires``, ``current_user.may``) and the translated
labels all read :data:`ROLE_TABLE`. The rights follow the roles table of the design:
an editor and an analyst may do what a member may, an administrator what all may.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .labels import N_


class Role(StrEnum):
    """A role stored in ``users.role``; compares equal to its name (``Role.EDITOR == "editor"``)."""

    MEMBER = "member"
    EDITOR = "editor"
    ANALYST = "analyst"
    ADMIN = "admin"


@dataclass(frozen=True)
class RoleDeclaration:
    """One role: its ``label`` (English, translated by the portal) and the roles
    whose rights it ``includes`` besides its own."""

    role: Role
    label: str
    includes: tuple[Role, ...]


ROLE_TABLE = (
    RoleDeclaration(Role.MEMBER, N_("Member"), ()),
    RoleDeclaration(Role.EDITOR, N_("Editor"), (Role.MEMBER,)),
    RoleDeclaration(Role.ANALYST, N_("Analyst"), (Role.MEMBER,)),
    RoleDeclaration(Role.ADMIN, N_("Administrator"), (Role.EDITOR, Role.ANALYST)),
)
"""Every role, from least to most rights (anonymous visitors have no role).

member: member fields, archived innovations, submitting and editing own innovations;
editor: the review queue, editing any record, publishing and archiving, verification
reminders, internal notes; analyst: the statistics and their exports; admin: taxonomy
operations, the thesaurus and users, besides everything the others may."""

ROLES = tuple(entry.role.value for entry in ROLE_TABLE)
"""The role names, from least to most rights: the CLI's choices and the valid values."""

ROLE_LABELS = {entry.role.value: entry.label for entry in ROLE_TABLE}
"""Role name → English label (translate with gettext when shown)."""

_BY_ROLE = {entry.role: entry for entry in ROLE_TABLE}


def rights(role: str | None) -> frozenset[Role]:
    """The roles whose rights ``role`` has: itself and, transitively, what it includes.

    Args:
        role: a role name, or None for an anonymous visitor.
    Returns:
        a set of :class:`Role`; empty for None or an unknown name.
    """
    if role not in ROLES:
        return frozenset()
    found: set[Role] = set()
    pending = [Role(role)]
    while pending:
        current = pending.pop()
        if current not in found:
            found.add(current)
            pending.extend(_BY_ROLE[current].includes)
    return frozenset(found)


def may(role: str | None, right: str) -> bool:
    """Whether ``role`` has the rights of the role ``right`` (admins have every right).

    Raises ValueError when ``right`` names no role, so a misspelt check fails loudly.
    """
    return Role(right) in rights(role)

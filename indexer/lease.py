"""A lease in the registry so only one indexer writes at a time.

The lease lives on the checkpoint row (``owner``, ``lease_until``). An indexer takes
it when it is free, expired, or held by a process on this host that no longer
exists (a ``kill -9`` leaves the lease behind; waiting out its expiry is not
needed then), and renews it while it works. A second indexer is refused with the
holder's name instead of corrupting the checkpoint.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from contextlib import contextmanager

from sqlalchemy import or_, update
from sqlalchemy.orm import Session, sessionmaker

from registry.db import transaction
from registry.models import Checkpoint

from .sync import CHECKPOINT

LEASE_SECONDS = 30
"""How long a lease lasts without renewal (s)."""


class LeaseHeld(RuntimeError):
    """Another live indexer holds the lease."""


def this_owner() -> str:
    """``<host>:<pid>`` of this process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _owner_is_dead(owner: str | None) -> bool:
    if not owner:
        return True
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def acquire(factory: sessionmaker[Session], owner: str | None = None) -> None:
    """Take or renew the lease for ``owner`` (default :func:`this_owner`).

    Raises:
        LeaseHeld: a live indexer holds an unexpired lease.
    """
    owner = owner or this_owner()
    now = dt.datetime.now(dt.UTC)
    until = now + dt.timedelta(seconds=LEASE_SECONDS)
    with transaction(factory) as session:
        row = session.get(Checkpoint, CHECKPOINT)
        if row is None:
            session.add(Checkpoint(name=CHECKPOINT, seq=0, owner=owner, lease_until=until))
            return
        holder = row.owner
        dead = holder != owner and _owner_is_dead(holder)
        # one conditional UPDATE: of two racing indexers only one matches
        result = session.execute(
            update(Checkpoint)
            .where(Checkpoint.name == CHECKPOINT)
            .where(
                or_(
                    Checkpoint.owner.is_(None),
                    Checkpoint.owner == owner,
                    Checkpoint.lease_until < now,
                    Checkpoint.owner == (holder if dead else owner),
                )
            )
            .values(owner=owner, lease_until=until)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            raise LeaseHeld(f"another indexer ({holder}) is running; its lease runs until "
                            f"{row.lease_until:%H:%M:%S} UTC")  # fmt: skip


def release(factory: sessionmaker[Session], owner: str | None = None) -> None:
    """Give the lease up if ``owner`` holds it."""
    owner = owner or this_owner()
    with transaction(factory) as session:
        session.execute(
            update(Checkpoint)
            .where(Checkpoint.name == CHECKPOINT, Checkpoint.owner == owner)
            .values(owner=None, lease_until=None)
            .execution_options(synchronize_session=False)
        )


@contextmanager
def leased(factory: sessionmaker[Session]):
    """Hold the lease for the duration of a ``with`` block (one-shot commands)."""
    acquire(factory)
    try:
        yield
    finally:
        release(factory)

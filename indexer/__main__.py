"""Command line of the indexer: ``python -m indexer sync|run|rebuild|rollback|verify|status|retry``.

Configuration by environment: ``OPENSEARCH_URL``, ``DATABASE_URL``, ``INDEX_PREFIX``,
``INDEXER_POLL_SECONDS`` (``run`` loop interval, default 0.5; on PostgreSQL ``run``
also wakes at once on a ``NOTIFY`` from a committed change). Exit codes: 0 success,
1 failure or drift, 2 usage.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import time

from opensearchpy.exceptions import ConnectionError as OSConnectionError
from opensearchpy.exceptions import OpenSearchException
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from urllib3.exceptions import LocationParseError

from registry.db import error_line, make_engine, make_session_factory, unreachable
from registry.records import CHANGES_CHANNEL

from .client import AUDIENCES, IndexNames, index_shape, make_client, opensearch_url
from .inspect import status, verify
from .lease import LeaseHeld, acquire, leased, release, this_owner
from .rebuild import RebuildError, current_indices, rebuild, rollback
from .sync import ClusterTrouble, retry_parked, sync_all, sync_once

log = logging.getLogger("indexer")


class NoIndex(RuntimeError):
    """The aliases do not exist yet: a rebuild must come first."""


def _require_aliases(client, names: IndexNames) -> None:
    # writing to a missing alias would auto-create a concrete index without our mapping
    missing = [a for a, idx in current_indices(client, names).items() if not idx]
    if missing:
        raise NoIndex(
            f"no index behind {', '.join(names.alias(a) for a in missing)}: "
            "run `python -m indexer rebuild` first"
        )


def cmd_sync(client, factory, names, _args) -> int:
    _require_aliases(client, names)
    with leased(factory):
        result = sync_all(client, factory, names, heartbeat=lambda: acquire(factory))
    print(
        f"sync: {result.changes} change(s), {result.written} written, "
        f"{result.deleted} deleted, checkpoint {result.checkpoint}"
    )
    for record_id, reason in result.failed:
        print(f"  parked {record_id}: {reason}", file=sys.stderr)
    return 1 if result.failed else 0


def cmd_run(client, factory, names, _args) -> int:
    poll = float(os.environ.get("INDEXER_POLL_SECONDS", "0.5"))
    stopping = False

    def stop(signum, _frame):
        nonlocal stopping
        stopping = True
        log.info(json.dumps({"event": "stopping", "signal": signal.Signals(signum).name}))

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if not _wait_for_cluster(client, lambda: stopping):
        return 0
    acquire(factory)
    try:
        return _run_loop(client, factory, names, poll, lambda: stopping)
    finally:
        release(factory)
        log.info(json.dumps({"event": "stopped"}))


WAIT_FIRST_S = 1.0
WAIT_MAX_S = 30.0
"""Back-off of ``run`` while OpenSearch is unreachable at start: 1, 2, 4 … 30 s."""


def _wait_for_cluster(client, stopping) -> bool:
    """Block until OpenSearch answers, logging each wait; False if stopped meanwhile.

    A ``run`` loop started before the cluster (at boot, or by a supervisor after a
    crash) waits instead of exiting.
    """
    wait = WAIT_FIRST_S
    while not stopping():
        try:
            client.info()
            return True
        except OSConnectionError as exc:
            log.warning(json.dumps({
                "event": "waiting_for_opensearch",
                "message": f"OpenSearch is not reachable at {opensearch_url()}; "
                           f"retrying in {wait:g} s",
                "error": type(exc).__name__,
            }))  # fmt: skip
        deadline = time.monotonic() + wait
        while not stopping() and time.monotonic() < deadline:
            time.sleep(0.1)
        wait = min(WAIT_MAX_S, wait * 2)
    return False


class ChangeWaiter:
    """Waits between polls; on PostgreSQL wakes early on a ``NOTIFY`` of the change feed.

    Writers send the notification in their transaction (:func:`registry.records.
    append_change`), so it arrives at their commit. Polling stays as the fallback:
    a lost listening connection is reopened at the next wait, and a notification
    for a change still behind an older open transaction is picked up by a later poll.
    """

    def __init__(self, engine):
        self.url = engine.url if engine.dialect.name == "postgresql" else None
        self.connection = None

    def wait(self, seconds: float) -> None:
        """Return after ``seconds``, or sooner when a change was committed."""
        if self.url is None:
            time.sleep(seconds)
            return
        import psycopg

        try:
            if self.connection is None or self.connection.closed:
                u = self.url
                self.connection = psycopg.connect(
                    host=u.host, port=u.port, user=u.username, password=u.password,
                    dbname=u.database, autocommit=True, connect_timeout=5, **dict(u.query),
                )  # fmt: skip
                self.connection.execute(f"LISTEN {CHANGES_CHANNEL}")
            for _ in self.connection.notifies(timeout=seconds, stop_after=1):
                pass
        except psycopg.Error:
            self.close()
            time.sleep(seconds)

    def close(self) -> None:
        """Close the listening connection, if any."""
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def _run_loop(client, factory, names, poll: float, stopping) -> int:
    try:
        _require_aliases(client, names)
    except NoIndex:
        log.info(json.dumps({"event": "rebuild", "reason": "no index yet"}))
        rebuild(client, factory, names, heartbeat=lambda: acquire(factory))
    log.info(json.dumps({"event": "started", "poll_seconds": poll, "url": opensearch_url(),
                         "owner": this_owner()}))  # fmt: skip
    waiter = ChangeWaiter(factory.kw["bind"])
    try:
        return _follow(client, factory, names, poll, stopping, waiter)
    finally:
        waiter.close()


def _follow(client, factory, names, poll: float, stopping, waiter: ChangeWaiter) -> int:
    while not stopping():
        try:
            acquire(factory)
            result = sync_once(client, factory, names)
        except (OSConnectionError, OperationalError, ClusterTrouble) as exc:
            log.warning(json.dumps({"event": "unavailable", "error": type(exc).__name__}))
            time.sleep(min(5.0, poll * 10))
            continue
        if result.changes:
            log.info(
                json.dumps(
                    {
                        "event": "synced",
                        "changes": result.changes,
                        "written": result.written,
                        "deleted": result.deleted,
                        "parked": len(result.failed),
                        "checkpoint": result.checkpoint,
                    }
                )
            )
            continue
        waiter.wait(poll)
    return 0


def cmd_rebuild(client, factory, names, _args) -> int:
    print(f"rebuild: building fresh indices on {opensearch_url()} …", file=sys.stderr)
    with leased(factory):
        result = rebuild(client, factory, names, heartbeat=lambda: acquire(factory))
    for audience in AUDIENCES:
        print(
            f"rebuild: {names.alias(audience)} -> {result.indices[audience]} "
            f"({result.counts[audience]} docs)"
        )
    if result.replayed:
        print(f"rebuild: replayed {result.replayed} change(s) that arrived meanwhile")
    return 0


def cmd_rollback(client, factory, names, _args) -> int:
    with leased(factory):
        targets = rollback(client, factory, names)
    for audience, index in targets.items():
        print(f"rollback: {names.alias(audience)} -> {index}")
    return 0


def cmd_verify(client, factory, names, _args) -> int:
    _require_aliases(client, names)
    report = verify(client, factory, names)
    clean = True
    for audience, drift in report.items():
        alias = names.alias(audience)
        if drift.clean:
            print(f"verify: {alias}: no drift")
            continue
        clean = False
        for kind in ("missing", "extra", "stale"):
            ids = getattr(drift, kind)
            if ids:
                print(f"verify: {alias}: {len(ids)} {kind}: {', '.join(ids)}")
    return 0 if clean else 1


def cmd_status(client, factory, names, args) -> int:
    info = status(client, factory, names)
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    print(
        f"checkpoint: {info['checkpoint']} of {info['latest']} (lag {info['lag_events']} "
        f"event(s), {info['lag_seconds']} s)"
    )
    for alias, data in info["aliases"].items():
        print(f"{alias}: {data['docs']} docs in {', '.join(data['indices']) or '(none)'}")
    print(f"parked: {len(info['parked'])}")
    for record_id, reason in info["parked"]:
        print(f"  {record_id}: {reason}")
    return 0


def cmd_retry(client, factory, names, _args) -> int:
    _require_aliases(client, names)
    with leased(factory):
        fixed, failing = retry_parked(client, factory, names)
    print(f"retry: {fixed} fixed, {len(failing)} still failing")
    for record_id, reason in failing:
        print(f"  {record_id}: {reason}", file=sys.stderr)
    return 1 if failing else 0


COMMANDS = {
    "sync": (cmd_sync, "apply changes from the checkpoint to both aliases, then exit"),
    "run": (cmd_run, "keep syncing until SIGTERM/SIGINT"),
    "rebuild": (cmd_rebuild, "build fresh indices from the registry and swap the aliases"),
    "rollback": (cmd_rollback, "point the aliases back at the previous indices"),
    "verify": (cmd_verify, "compare registry and indices by id and content hash"),
    "status": (cmd_status, "show checkpoint, lag, parked changes and document counts"),
    "retry": (cmd_retry, "apply parked (dead-letter) changes again"),
}


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run one command; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m indexer", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (_, help_text) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text)
        if name == "status":
            command.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s indexer %(message)s", stream=sys.stderr
    )
    # the client logs every failed request with a traceback; our messages say it once
    logging.getLogger("opensearch").setLevel(logging.ERROR)
    try:
        names = IndexNames.from_env()
        factory = make_session_factory(make_engine())
        client = make_client(timeout_s=60, retries=3)
        client.transport.get_connection()
        index_shape()  # INDEX_SHARDS, INDEX_REPLICAS: a bad value stops here, not mid-rebuild
    except (ValueError, ArgumentError, LocationParseError, NoSuchModuleError) as exc:
        print(
            f"indexer: configuration error (OPENSEARCH_URL or DATABASE_URL): {exc}", file=sys.stderr
        )
        return 2
    try:
        return COMMANDS[args.command][0](client, factory, names, args)
    except (NoIndex, RebuildError, LeaseHeld) as exc:
        print(f"indexer: {exc}", file=sys.stderr)
        return 1
    except OSConnectionError:
        print(
            f"indexer: OpenSearch is not reachable at {opensearch_url()} "
            "(start it with `make opensearch` or set OPENSEARCH_URL)",
            file=sys.stderr,
        )
        return 1
    except OperationalError as exc:
        if unreachable(exc):
            print(
                f"indexer: cannot reach the registry database: {error_line(exc)}", file=sys.stderr
            )
        else:
            print(
                f"indexer: registry database error: {error_line(exc)}. "
                "Has it been migrated (`flask --app portal registry migrate`)?",
                file=sys.stderr,
            )
        return 1
    except OpenSearchException as exc:
        print(f"indexer: OpenSearch error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

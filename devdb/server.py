"""Initialise, start, watch and stop a local PostgreSQL server from Debian's packages.

The cluster lives in the project's cache folder (``devnode.config.cache_dir()``),
``postgres-<port>/``: ``data/`` (the cluster), ``run/`` (its Unix socket), ``password``
(the generated superuser password, readable by the owner only) and ``postgres.pid``.
It listens on 127.0.0.1 only and requires that password (scram-sha-256). Run as
root, the server runs as the unprivileged system user :data:`DB_USER` (PostgreSQL
refuses root).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from devnode.config import cache_dir
from devserver import process
from devserver.process import Readiness, ServerProcess

DB_USER = "innovatiebieb-pg"
SUPERUSER = "innovatiebieb"
STARTUP_TIMEOUT = 60  # seconds
STOP_TIMEOUT = 30  # seconds
PG_ROOT = Path("/usr/lib/postgresql")


class DbError(Exception):
    """A failure whose message is meant for a person; the CLI prints it without a traceback."""


def resolve_port(port: int | None) -> int:
    """Return ``port``, else ``$DEVDB_PORT``, else 5433. Raises DbError for an invalid port."""
    return process.resolve_port(port, "devdb_port", DbError)


def server_dir(port: int) -> Path:
    """The state directory of the server on ``port`` (it may not exist yet)."""
    return cache_dir() / f"postgres-{port}"


def server_process(port: int) -> ServerProcess:
    """The PostgreSQL process devdb runs on ``port``.

    Recognised by ``DEVDB_DIR`` in its environment, which devdb sets at spawn: a
    recycled pid lacks it.
    """
    base = server_dir(port)
    return ServerProcess(
        "PostgreSQL", base, "postgres.pid", process.environ_marker("DEVDB_DIR", str(base))
    )


def server_url(port: int | None = None, database: str = "postgres") -> str:
    """The SQLAlchemy URL of ``database`` on the local server (superuser, with password).

    Raises DbError when the cluster was never initialised.
    """
    port = resolve_port(port)
    try:
        password = (server_dir(port) / "password").read_text().strip()
    except OSError:
        raise DbError(
            f"no local PostgreSQL cluster in {server_dir(port)}; run `python -m devdb start`"
        ) from None
    return f"postgresql+psycopg://{SUPERUSER}:{password}@127.0.0.1:{port}/{database}"


def find_bindir() -> Path:
    """The newest ``/usr/lib/postgresql/<version>/bin`` with ``initdb`` and ``postgres``.

    Raises DbError naming the Debian package when none is installed.
    """
    candidates = []
    for path in PG_ROOT.glob("*/bin"):
        if (path / "initdb").exists() and (path / "postgres").exists():
            match = re.fullmatch(r"\d+", path.parent.name)
            candidates.append((int(match[0]) if match else 0, path))
    if not candidates:
        raise DbError(
            f"PostgreSQL server binaries are not installed in {PG_ROOT}; "
            "install Debian's package: `apt-get install postgresql`"
        )
    return max(candidates)[1]


def ensure_server(port: int | None = None) -> tuple[str, bool]:
    """Make sure the local PostgreSQL answers on 127.0.0.1:``port``.

    Initialises the cluster on first use, reuses a server this module started
    earlier, otherwise starts one and waits up to 60 s.

    Returns:
        ``(url of the "postgres" database, started_by_this_call)``.
    Raises:
        DbError: binaries missing, port taken by something else, or the server fails.
    """
    port = resolve_port(port)
    pid = server_process(port).pid()
    started = False
    if pid is None:
        if process.port_in_use(port):
            raise DbError(
                f"port {port} is in use by a server devdb did not start; choose another with "
                "--port N or DEVDB_PORT=N, or point DATABASE_URL at that server"
            )
        pid, started = _start(port), True
    _wait_ready(port, pid)
    return server_url(port), started


def stop_server(port: int | None = None) -> None:
    """Stop the server devdb started on ``port``: SIGINT (fast shutdown), then SIGKILL.

    Only signals the pid recorded in ``postgres.pid``, and only while that process
    still is our server; otherwise just says so.
    """
    port = resolve_port(port)
    process.stop(server_process(port), signal.SIGINT, STOP_TIMEOUT, 0.1, "devdb", port)


def status(port: int | None = None) -> bool:
    """Print whether our server runs on ``port``; return True if one does."""
    port = resolve_port(port)
    pid = server_process(port).pid()
    if pid:
        print(f"devdb's PostgreSQL runs on 127.0.0.1:{port} (pid {pid})")
    else:
        print(f"no devdb-started PostgreSQL on port {port}")
    return pid is not None


def _start(port: int) -> int:
    bindir = find_bindir()
    base = server_dir(port)
    data, run = base / "data", base / "run"
    base.mkdir(parents=True, exist_ok=True)
    run.mkdir(exist_ok=True)
    as_user = process.as_user(DB_USER, "PostgreSQL", DbError, base, own=(base, run))
    if not (data / "PG_VERSION").exists():
        _initdb(bindir, base, data, as_user)
    command = [
        *as_user, str(bindir / "postgres"), "-D", str(data),
        "-c", "listen_addresses=127.0.0.1", "-c", f"port={port}",
        "-c", f"unix_socket_directories={run}", "-c", "max_connections=300",
    ]  # fmt: skip
    env = dict(os.environ, HOME=str(base), DEVDB_DIR=str(base))
    pid = process.spawn(
        server_process(port), command, env=env, log=base / "server.log", append_log=True
    )
    print(f"started PostgreSQL (pid {pid}) on 127.0.0.1:{port}, state in {base}", file=sys.stderr)
    return pid


def _initdb(bindir: Path, base: Path, data: Path, as_user: list[str]) -> None:
    password = secrets.token_urlsafe(24)
    pwfile = base / "password"
    pwfile.write_text(password + "\n")
    pwfile.chmod(0o600)
    if as_user:
        os.chown(pwfile, *process.system_user(DB_USER, DbError))
    command = [
        *as_user, str(bindir / "initdb"), "-D", str(data), "-U", SUPERUSER,
        "--pwfile", str(pwfile), "--auth", "scram-sha-256", "-E", "UTF8", "--locale", "C.UTF-8",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, cwd=base, check=False)
    if result.returncode != 0:
        shutil.rmtree(data, ignore_errors=True)
        raise DbError(f"initdb failed: {result.stderr.strip() or result.stdout.strip()}")


def _wait_ready(port: int, pid: int) -> None:
    ready = process.wait_ready(
        lambda: process.port_in_use(port) and _accepts(port), pid, STARTUP_TIMEOUT, 0.2
    )
    if ready is Readiness.READY:
        return
    if ready is Readiness.EXITED:
        server_process(port).forget()
        raise DbError(f"PostgreSQL exited during startup; its last output:\n{_log_tail(port)}")
    if process.started_by_us(pid):
        stop_server(port)
    raise DbError(
        f"PostgreSQL on port {port} was not ready after {STARTUP_TIMEOUT} s:\n{_log_tail(port)}"
    )


def _accepts(port: int) -> bool:
    """True once the server accepts a login (not only the TCP connection)."""
    import psycopg

    try:
        password = (server_dir(port) / "password").read_text().strip()
        with psycopg.connect(
            host="127.0.0.1", port=port, user=SUPERUSER, password=password, dbname="postgres",
            connect_timeout=2,
        ):  # fmt: skip
            return True
    except (psycopg.OperationalError, OSError):
        return False


def _log_tail(port: int) -> str:
    return process.log_tail(server_dir(port) / "server.log")

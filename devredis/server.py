"""Start, watch and stop a local Redis server from Debian's ``redis-server`` package.

State lives in the project's cache folder (``devnode.config.cache_dir()``),
``redis-<port>/``: ``redis.conf``, ``redis.pid`` and ``redis.log``. The server binds
127.0.0.1 only, keeps nothing on disk (rate-limit counters and cache versions are
short-lived) and, when started by root, runs as the unprivileged system user
:data:`REDIS_USER`.

Stopping a server removes its folder, except for the default port (``$DEVREDIS_PORT``
or 6390): the folder holds no data (nothing is saved), so the only thing worth keeping
is the log of the server ``make run`` uses; servers on other ports are the throw-away
servers of tests, whose folders would otherwise pile up in the cache.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sys
from pathlib import Path

from devnode.config import cache_dir
from devserver import process
from devserver.process import Readiness, ServerProcess

DEFAULT_PORT = 6390
REDIS_USER = "innovatiebieb-redis"
STARTUP_TIMEOUT = 20  # seconds
STOP_TIMEOUT = 10  # seconds


class RedisError(Exception):
    """A failure whose message is meant for a person; the CLI prints it without a traceback."""


def resolve_port(port: int | None) -> int:
    """``port``, else ``$DEVREDIS_PORT``, else 6390. Raises RedisError for an invalid port."""
    return process.resolve_port(port, "devredis_port", RedisError)


def server_dir(port: int) -> Path:
    """The state directory of the server on ``port`` (it may not exist yet)."""
    return cache_dir() / f"redis-{port}"


def server_process(port: int) -> ServerProcess:
    """The Redis process devredis runs on ``port``.

    Recognised by its command line: ``setpriv`` execs ``redis-server`` in place, which
    then names itself ``redis-server <addr>``.
    """
    return ServerProcess(
        "Redis", server_dir(port), "redis.pid", process.cmdline_contains(b"redis-server")
    )


def server_url(port: int | None = None) -> str:
    """``redis://127.0.0.1:<port>/0``, the value for ``RATELIMIT_STORAGE_URI``."""
    return f"redis://127.0.0.1:{resolve_port(port)}/0"


def ensure_server(port: int | None = None) -> tuple[str, bool]:
    """Make sure a Redis server answers ``PING`` on 127.0.0.1:``port``.

    Reuses a server this module started earlier; otherwise starts one and waits up
    to 20 s.

    Returns:
        ``(url, started_by_this_call)``.
    Raises:
        RedisError: ``redis-server`` is missing, the port is taken by something else,
        or the server does not come up.
    """
    port = resolve_port(port)
    pid = server_process(port).pid()
    started = False
    if pid is None:
        if _ping(port):
            print(f"reusing a Redis on 127.0.0.1:{port}, not started by devredis", file=sys.stderr)
            return server_url(port), False
        if process.port_in_use(port):
            raise RedisError(
                f"port {port} is in use by something that is not Redis; choose another with "
                "--port N or DEVREDIS_PORT=N"
            )
        pid, started = _start(port), True
    ready = process.wait_ready(lambda: _ping(port), pid, STARTUP_TIMEOUT, 0.1)
    if ready is Readiness.EXITED:
        server_process(port).forget()
        raise RedisError(f"redis-server exited during startup; see {_log(port)}")
    if ready is Readiness.TIMEOUT:
        raise RedisError(f"redis-server did not answer within {STARTUP_TIMEOUT} s")
    return server_url(port), started


def stop_server(port: int | None = None) -> None:
    """Stop the server devredis started on ``port``: SIGTERM, then SIGKILL.

    Only signals the pid recorded in ``redis.pid``, and only while that process
    still is our server; otherwise just says so. Then removes the server's folder
    unless ``port`` is the default port (see the module's docstring).
    """
    port = resolve_port(port)
    stopped = process.stop(
        server_process(port), signal.SIGTERM, STOP_TIMEOUT, 0.05, "devredis", port, announce=False
    )
    if stopped is not None and port != resolve_port(None):
        shutil.rmtree(server_dir(port), ignore_errors=True)


def status(port: int | None = None) -> bool:
    """Print whether a Redis answers on ``port``; return True if one does."""
    port = resolve_port(port)
    pid = server_process(port).pid()
    if pid:
        print(f"devredis's Redis runs on 127.0.0.1:{port} (pid {pid})")
    elif _ping(port):
        print(f"a Redis not started by devredis answers on 127.0.0.1:{port}")
    else:
        print(f"no Redis on 127.0.0.1:{port}")
    return pid is not None or _ping(port)


def _log(port: int) -> Path:
    return server_dir(port) / "redis.log"


def _start(port: int) -> int:
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not os.path.exists(binary):
        raise RedisError(
            "redis-server is not installed; install Debian's package: `apt-get install "
            "redis-server` (make test does so when run as root)"
        )
    folder = server_dir(port)
    folder.mkdir(parents=True, exist_ok=True)
    conf = folder / "redis.conf"
    conf.write_text(
        f"bind 127.0.0.1\nport {port}\nprotected-mode yes\ndaemonize no\n"
        f'dir "{folder}"\nlogfile "{_log(port)}"\nsave ""\nappendonly no\n'
    )
    own = (folder, *folder.iterdir())
    command = [*process.as_user(REDIS_USER, "Redis", RedisError, folder, own), binary, str(conf)]
    pid = process.spawn(server_process(port), command)
    print(f"started Redis (pid {pid}) on 127.0.0.1:{port}", file=sys.stderr)
    return pid


def _ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False

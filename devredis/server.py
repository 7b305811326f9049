"""Start, watch and stop a local Redis server from Debian's ``redis-server`` package.

State lives in the project's cache folder (``devnode.config.cache_dir()``),
``redis-<port>/``: ``redis.conf``, ``redis.pid`` and ``redis.log``. The server binds
127.0.0.1 only, keeps nothing on disk (rate-limit counters and cache versions are
short-lived) and, when started by root, runs as the unprivileged system user
:data:`REDIS_USER`.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from devnode.config import cache_dir
from settings import Settings, SettingsError

DEFAULT_PORT = 6390
REDIS_USER = "innovatiebieb-redis"
STARTUP_TIMEOUT = 20  # seconds
STOP_TIMEOUT = 10  # seconds

# Processes this interpreter started, so they are reaped instead of lingering as zombies.
_children: dict[int, subprocess.Popen] = {}


class RedisError(Exception):
    """A failure whose message is meant for a person; the CLI prints it without a traceback."""


def resolve_port(port: int | None) -> int:
    """``port``, else ``$DEVREDIS_PORT``, else 6390. Raises RedisError for an invalid port."""
    if port is None:
        try:
            port = Settings.from_env().devredis_port
        except SettingsError as exc:
            raise RedisError(exc.message) from None
    if not 1 <= port <= 65535:
        raise RedisError(f"port {port} is outside 1-65535")
    return port


def server_dir(port: int) -> Path:
    """The state directory of the server on ``port`` (it may not exist yet)."""
    return cache_dir() / f"redis-{port}"


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
    pid = _our_pid(port)
    started = False
    if pid is None:
        if _ping(port):
            print(f"reusing a Redis on 127.0.0.1:{port}, not started by devredis", file=sys.stderr)
            return server_url(port), False
        if _port_in_use(port):
            raise RedisError(
                f"port {port} is in use by something that is not Redis; choose another with "
                "--port N or DEVREDIS_PORT=N"
            )
        pid, started = _start(port), True
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not _ping(port):
        if not _alive(pid):
            (server_dir(port) / "redis.pid").unlink(missing_ok=True)
            raise RedisError(f"redis-server exited during startup; see {_log(port)}")
        if time.monotonic() > deadline:
            raise RedisError(f"redis-server did not answer within {STARTUP_TIMEOUT} s")
        time.sleep(0.1)
    return server_url(port), started


def stop_server(port: int | None = None) -> None:
    """Stop the server devredis started on ``port``: SIGTERM, then SIGKILL.

    Only signals the pid recorded in ``redis.pid``, and only while that process
    still is our server; otherwise just says so.
    """
    port = resolve_port(port)
    pid = _our_pid(port)
    if pid is None:
        print(f"no devredis-started Redis is running on port {port}", file=sys.stderr)
        return
    for sig, wait in ((signal.SIGTERM, STOP_TIMEOUT), (signal.SIGKILL, 5)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if not _alive(pid):
            break
    (server_dir(port) / "redis.pid").unlink(missing_ok=True)


def status(port: int | None = None) -> bool:
    """Print whether a Redis answers on ``port``; return True if one does."""
    port = resolve_port(port)
    pid = _our_pid(port)
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
    command = [binary, str(conf)]
    if os.geteuid() == 0:
        uid, gid = _redis_user()
        for path in (folder, *folder.iterdir()):
            os.lchown(path, uid, gid)
        command = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--init-groups", "--", *command]
    proc = subprocess.Popen(
        command,
        cwd=folder,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    _children[proc.pid] = proc
    (folder / "redis.pid").write_text(f"{proc.pid}\n")
    print(f"started Redis (pid {proc.pid}) on 127.0.0.1:{port}", file=sys.stderr)
    return proc.pid


def _redis_user() -> tuple[int, int]:
    try:
        entry = pwd.getpwnam(REDIS_USER)
    except KeyError:
        command = ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin"]
        result = subprocess.run([*command, REDIS_USER], check=False, capture_output=True, text=True)
        try:  # a concurrent useradd may have failed this one yet created the user
            entry = pwd.getpwnam(REDIS_USER)
        except KeyError:
            raise RedisError(f"cannot create user {REDIS_USER}: {result.stderr.strip()}") from None
    return entry.pw_uid, entry.pw_gid


def _our_pid(port: int) -> int | None:
    """The pid from the pid file if that process is alive and is a redis-server."""
    try:
        pid = int((server_dir(port) / "redis.pid").read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    # setpriv execs redis-server in place, which then names itself "redis-server <addr>"
    return pid if b"redis-server" in cmdline and _alive(pid) else None


def _alive(pid: int) -> bool:
    if pid in _children:
        return _children[pid].poll() is None
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0

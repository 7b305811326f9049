"""One local server process: spawn, pid file, readiness, stop, status.

A :class:`ServerProcess` describes the process of one tool on one port: its state
folder, the name of its pid file, and how to recognise it among the machine's
processes (a recycled pid must never be signalled). The functions below hold the
rules all three tools follow:

- as root, the server runs as an unprivileged system user (OpenSearch and PostgreSQL
  refuse root; Redis should not need it) through ``setpriv``;
- the pid of a spawned server is written to the pid file and the ``Popen`` object is
  kept, so this interpreter reaps its own children instead of leaving zombies;
- stopping signals only the recorded pid, and only while it still is our server.
"""

from __future__ import annotations

import enum
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from settings import Settings, SettingsError

# Processes this interpreter started, so they are reaped instead of lingering as zombies.
_children: dict[int, subprocess.Popen] = {}


@dataclass(frozen=True)
class ServerProcess:
    """The process of one local server, as recorded in its state folder.

    Attributes:
        label: what the server is, for messages (``"PostgreSQL"``).
        folder: its state folder (``<cache>/postgres-5433``).
        pid_name: the pid file's name inside ``folder`` (``"postgres.pid"``).
        is_ours: tells from a live pid whether that process is our server (see
            :func:`environ_marker` and :func:`cmdline_contains`).
    """

    label: str
    folder: Path
    pid_name: str
    is_ours: Callable[[int], bool]

    @property
    def pid_file(self) -> Path:
        """The pid file's path."""
        return self.folder / self.pid_name

    def pid(self) -> int | None:
        """The recorded pid if that process is alive and is our server, else None."""
        try:
            pid = int(self.pid_file.read_text())
        except (OSError, ValueError):
            return None
        return pid if alive(pid) and self.is_ours(pid) else None

    def forget(self) -> None:
        """Remove the pid file (the server is gone)."""
        self.pid_file.unlink(missing_ok=True)


class Readiness(enum.Enum):
    """How :func:`wait_ready` ended."""

    READY = "ready"
    EXITED = "exited"
    TIMEOUT = "timeout"


def environ_marker(name: str, value: str) -> Callable[[int], bool]:
    """A test for :attr:`ServerProcess.is_ours`: the process's environment has ``name=value``.

    The environment is fixed at spawn, unlike a command line that a launcher may
    rewrite, so a variable naming the state folder tells our process from a recycled pid.
    """
    marker = f"\0{name}={value}\0".encode()

    def is_ours(pid: int) -> bool:
        try:
            return marker in b"\0" + Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            return False

    return is_ours


def cmdline_contains(word: bytes) -> Callable[[int], bool]:
    """A test for :attr:`ServerProcess.is_ours`: the process's command line holds ``word``."""

    def is_ours(pid: int) -> bool:
        try:
            return word in Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return False

    return is_ours


def alive(pid: int) -> bool:
    """True while ``pid`` runs; a zombie ("Z") counts as stopped even before it is reaped."""
    if pid in _children:
        return _children[pid].poll() is None
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def port_in_use(port: int) -> bool:
    """True when something accepts TCP connections on 127.0.0.1:``port``."""
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def system_user(name: str, error: type[Exception]) -> tuple[int, int]:
    """``(uid, gid)`` of the system user ``name``, created (no home, no login) if missing.

    Raises ``error`` when ``useradd`` cannot create it. A concurrent ``useradd`` may
    fail this one yet create the user, so the user is looked up again afterwards.
    """
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        command = ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name]
        try:
            result = subprocess.run(command, check=False, capture_output=True, text=True)
            reason = result.stderr.strip()
        except OSError as exc:
            reason = str(exc)
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            raise error(f"cannot create user {name}: {reason}") from None
    return entry.pw_uid, entry.pw_gid


def check_traversable(path: Path, user: str, error: type[Exception]) -> None:
    """Raise ``error`` when a parent of ``path`` is closed to other users, so ``user``
    cannot reach ``path``."""
    for parent in path.parents:
        if not os.stat(parent).st_mode & 0o001:
            raise error(
                f"{user} cannot reach {path} because {parent} is closed to other users; "
                "point INNOVATIEBIEB_CACHE elsewhere, e.g. /var/cache/innovatiebieb"
            )


def as_user(
    user: str, label: str, error: type[Exception], folder: Path, own: Iterable[Path] = ()
) -> list[str]:
    """The command prefix that runs a server as ``user`` when we are root, else ``[]``.

    As root: creates the system user if needed, checks that ``user`` can reach the
    state ``folder``, hands every path of ``own`` to the user (each path itself, not
    recursively), and returns the ``setpriv`` prefix. Raises ``error`` when the folder
    is unreachable or ``setpriv`` (util-linux) is missing.
    """
    if os.geteuid() != 0:
        return []
    uid, gid = system_user(user, error)
    check_traversable(folder, user, error)
    for path in own:
        os.lchown(path, uid, gid)
    if not shutil.which("setpriv"):
        raise error(f"setpriv (util-linux) is needed to run {label} as {user}")
    return ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--init-groups", "--"]


def spawn(
    server: ServerProcess,
    command: list[str],
    *,
    env: Mapping[str, str] | None = None,
    log: Path | None = None,
    append_log: bool = False,
) -> int:
    """Start ``command`` in a session of its own in ``server.folder``; record and return its pid.

    Output goes to ``log`` (truncated, or appended with ``append_log``), else nowhere.
    """
    if log is None:
        out = subprocess.DEVNULL
        proc = _popen(command, server.folder, env, out)
    else:
        with open(log, "ab" if append_log else "wb") as out:
            proc = _popen(command, server.folder, env, out)
    _children[proc.pid] = proc
    server.pid_file.write_text(f"{proc.pid}\n")
    return proc.pid


def _popen(command, cwd, env, out) -> subprocess.Popen:
    return subprocess.Popen(
        command, cwd=cwd, env=None if env is None else dict(env), stdin=subprocess.DEVNULL,
        stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip


def started_by_us(pid: int | None) -> bool:
    """True when this interpreter spawned ``pid`` (so it may stop a hung start)."""
    return pid in _children


def wait_ready(
    ready: Callable[[], bool],
    pid: int | None,
    timeout: float,
    interval: float,
    tick: Callable[[], None] | None = None,
) -> Readiness:
    """Poll ``ready()`` every ``interval`` seconds for at most ``timeout`` seconds.

    Ends early with :attr:`Readiness.EXITED` when ``pid`` (if given) is no longer
    alive; ``tick`` is called before each wait (e.g. to print progress).
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return Readiness.READY
        if pid is not None and not alive(pid):
            return Readiness.EXITED
        if tick:
            tick()
        time.sleep(interval)
    return Readiness.TIMEOUT


def stop(
    server: ServerProcess,
    first: signal.Signals,
    wait: float,
    interval: float,
    tool: str,
    port: int,
    announce: bool = True,
) -> int | None:
    """Stop ``server`` if it runs: ``first`` signal, up to ``wait`` s, then SIGKILL (5 s).

    Only the recorded pid is signalled, and only while it still is our server;
    otherwise prints ``no <tool>-started <label> is running on port <port>``. The pid
    file is removed afterwards. With ``announce``, says which pid it stops. Returns the
    pid that was stopped, or None.
    """
    pid = server.pid()
    if pid is None:
        print(f"no {tool}-started {server.label} is running on port {port}", file=sys.stderr)
        return None
    if announce:
        print(f"stopping {server.label} (pid {pid}) on port {port}…", file=sys.stderr)
    for sig, limit in ((first, wait), (signal.SIGKILL, 5)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + limit
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(interval)
        if not alive(pid):
            break
    server.forget()
    return pid


def log_tail(path: Path, count: int = 30) -> str:
    """The last ``count`` lines of the log at ``path``, or ``(no output recorded)``."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no output recorded)"
    return "\n".join(text.splitlines()[-count:])


def check_port(port: int, error: type[Exception]) -> int:
    """Return ``port``; raise ``error`` when it is outside 1-65535."""
    if not 1 <= port <= 65535:
        raise error(f"port {port} is outside 1-65535")
    return port


def resolve_port(port: int | None, setting: str, error: type[Exception]) -> int:
    """``port``, else the field ``setting`` of :meth:`settings.Settings.from_env` (e.g.
    ``"devdb_port"``: ``$DEVDB_PORT`` or its default).

    Raises ``error`` with the settings' message for an invalid environment value, or
    for a port outside 1-65535.
    """
    if port is None:
        try:
            port = getattr(Settings.from_env(), setting)
        except SettingsError as exc:
            raise error(exc.message) from None
    return check_port(port, error)

"""Child processes of the benchmark: timed runs with peak memory, and services.

Only processes started here are ever signalled, by their pid.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STOP_TIMEOUT_S = 20
"""Seconds a service gets to stop after SIGTERM before SIGKILL."""

_local = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class Measured:
    """A finished child: wall time (s), exit code and peak resident memory (MiB).

    ``peak_rss_mib`` is the child's own peak (see :func:`run_measured`); 0.0 when the
    child was killed on time-out before it could be reported.
    """

    seconds: float
    exit_code: int
    peak_rss_mib: float


_LAUNCHER = """
import os, sys
pid = os.posix_spawnp(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as report:
    report.write(f"{usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}")
"""
"""Runs a command and writes ``"<ru_maxrss KiB> <exit code>"`` of it to a file.

Linux carries a process's memory high-water mark across ``exec`` into the new
program's ``ru_maxrss`` (the kernel saves the old address space's peak when exec
replaces it, and a child forked or vforked from a large parent starts with the
parent's). A child started straight from the benchmark, which holds generated
records and bulk files, would report the benchmark's peak, not its own; started from
this small launcher it reports at most the launcher's few MiB besides its own.
"""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (e.g. the workers of a gunicorn master), from
    ``/proc/<pid>/task/*/children``; empty when ``pid`` is gone."""
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue  # the thread ended meanwhile
    return out


def run_measured(command: list[str], env: dict, log: Path, timeout_s: float) -> Measured:
    """Run ``command`` to the end; returns its wall time, exit code and peak RSS.

    Output goes to ``log``. The command runs under :data:`_LAUNCHER`, so the peak RSS
    (``ru_maxrss`` from ``wait4``, KiB on Linux) is the command's own and not this
    process's. After ``timeout_s`` seconds the launcher's process group is killed
    (exit code then negative, peak 0.0).
    """
    with tempfile.TemporaryDirectory(prefix="measured-") as tmp, open(log, "wb") as out:
        report = Path(tmp) / "report"
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-S", "-c", _LAUNCHER, str(report), *command],
            env=env,
            cwd=PROJECT_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        timer = threading.Timer(timeout_s, os.killpg, (proc.pid, signal.SIGKILL))
        timer.start()
        try:
            _pid, status, _usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        seconds = time.perf_counter() - started
        fields = report.read_text().split() if report.exists() else []
    if len(fields) == 2:
        return Measured(seconds, int(fields[1]), int(fields[0]) / 1024)
    return Measured(seconds, os.waitstatus_to_exitcode(status), 0.0)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


@contextmanager
def service(command: list[str], env: dict, log: Path) -> Iterator[subprocess.Popen]:
    """Run ``command`` in the background for a ``with`` block, then stop it (SIGTERM)."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            command,
            env=env,
            cwd=PROJECT_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            yield proc
        finally:
            _stop(proc)


def wait_http(url: str, proc: subprocess.Popen, log: Path, timeout_s: float = 60) -> None:
    """Wait until ``url`` answers 200.

    Raises:
        RuntimeError: ``proc`` exited or ``url`` did not answer within ``timeout_s`` s
            (the message holds the end of ``log``).
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            with _local.open(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
    raise RuntimeError(f"{url} did not come up:\n{tail}")


@contextmanager
def gunicorn(env: dict, log: Path, workers: int = 2) -> Iterator[str]:
    """The portal under gunicorn on a free loopback port; yields its base URL."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--no-control-socket",
        "portal:create_app()",
    ]
    with service(command, env, log) as proc:
        base = f"http://127.0.0.1:{port}"
        wait_http(f"{base}/healthz", proc, log)
        yield base

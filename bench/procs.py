"""Child processes of the benchmark: timed runs with peak memory, and services.

Only processes started here are ever signalled, by their pid.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
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

    ``peak_rss_mib`` is the child's own ``ru_maxrss`` from ``wait4`` (Linux reports
    KiB), so it is exact for that process and no other.
    """

    seconds: float
    exit_code: int
    peak_rss_mib: float


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_measured(command: list[str], env: dict, log: Path, timeout_s: float) -> Measured:
    """Run ``command`` to the end; returns its wall time, exit code and peak RSS.

    Output goes to ``log``. After ``timeout_s`` seconds the child is killed (exit code
    then negative).
    """
    with open(log, "wb") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(
            command,
            env=env,
            cwd=PROJECT_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        timer = threading.Timer(timeout_s, proc.kill)
        timer.start()
        try:
            _pid, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Measured(seconds, proc.returncode, usage.ru_maxrss / 1024)


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

"""Supervision with real processes: ``scripts/run.py`` (what ``make run`` runs) keeps
the portal up when the indexer is killed, and ``python -m indexer run`` waits for
an OpenSearch that is not there yet."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from tests.conftest import ROOT, RUN_ID, free_port, make_registry


class Output:
    """Lines of a child's stream, collected by a thread, waitable."""

    def __init__(self, stream):
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream):
        for line in iter(stream.readline, ""):
            self.lines.append(line)

    def wait_for(self, text: str, timeout: float, after: int = 0) -> str:
        """The first line from index ``after`` on that contains ``text``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines[after:]:
                if text in line:
                    return line
            time.sleep(0.1)
        raise AssertionError(f"no line with {text!r} in:\n{''.join(self.lines[-40:])}")


def processes() -> list[tuple[int, int, str]]:
    """(pid, parent pid, command line) of every process that can be read."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        out.append((int(entry.name), int(stat.rsplit(")", 1)[1].split()[1]), cmdline))
    return out


def children(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of the direct children of ``pid``."""
    return [(child, cmdline) for child, parent, cmdline in processes() if parent == pid]


def processes_with(text: str) -> list[int]:
    """Pids of the processes whose command line contains ``text``."""
    return [pid for pid, _, cmdline in processes() if text in cmdline]


def indexer_child(pid: int) -> int | None:
    found = [p for p, cmd in children(pid) if "-m indexer run" in cmd]
    return found[0] if found else None


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@contextlib.contextmanager
def started_run(tmp_path, opensearch_url, client, label: str, **popen):
    """``scripts/run.py`` on a free port with its own registry and index prefix, up and
    healthy; yields ``(process, output, base URL)``; the run is asked to stop (SIGTERM)
    if it still runs at the end, and its indices are deleted."""
    port = free_port()
    prefix = f"t{RUN_ID}-{label}-"
    env = {
        **os.environ,
        "OPENSEARCH_URL": opensearch_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}",
        "INDEX_PREFIX": prefix,
        "PORT": str(port),
        "SECRET_KEY": "supervision-test",
        "PYTHONUNBUFFERED": "1",
    }
    run = subprocess.Popen(
        [sys.executable, "scripts/run.py"], cwd=ROOT, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **popen,
    )  # fmt: skip
    out = Output(run.stdout)
    url = f"http://127.0.0.1:{port}"
    try:
        out.wait_for("portal: http://", timeout=180)
        deadline = time.monotonic() + 60
        while not healthy(url) and time.monotonic() < deadline:
            time.sleep(0.2)
        yield run, out, url
    finally:
        if run.poll() is None:
            run.send_signal(signal.SIGTERM)
            run.wait(timeout=60)
        client.indices.delete(index=f"{prefix}*", ignore_unavailable=True)


def test_killed_indexer_is_restarted_and_the_portal_keeps_serving(tmp_path, opensearch_url, client):
    with started_run(tmp_path, opensearch_url, client, "run") as (run, out, url):
        deadline = time.monotonic() + 60
        first = None
        while first is None and time.monotonic() < deadline:
            first = indexer_child(run.pid)
            time.sleep(0.1)
        assert first is not None
        mark = len(out.lines)
        os.kill(first, signal.SIGKILL)
        checks = []
        for _ in range(10):  # three seconds of the portal after the kill
            time.sleep(0.3)
            checks.append(healthy(url))
        assert all(checks), checks
        assert run.poll() is None
        out.wait_for("indexer: exited (killed by SIGKILL); restarting in 1 s", 10, mark)
        out.wait_for("indexer: restarting (restart 1)", 10, mark)
        second = None
        deadline = time.monotonic() + 10
        while second in (None, first) and time.monotonic() < deadline:
            second = indexer_child(run.pid)
            time.sleep(0.1)
        assert second not in (None, first)
        assert healthy(url)
        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=60) == 0


def test_ctrl_c_stops_the_portal_and_its_workers_after_searches(tmp_path, opensearch_url, client):
    # Ctrl-C in a terminal signals the whole foreground process group; gunicorn's threaded
    # workers that had served requests used to hang in their quit handler when they got
    # that signal and their master's at once, and outlived the run
    with started_run(tmp_path, opensearch_url, client, "ctrlc", start_new_session=True) as started:
        run, _, url = started
        bind = url.removeprefix("http://")
        try:
            for word in ("lezen", "jeugd", "taal", "digitaal", "makerspace", "leesclub"):
                with urllib.request.urlopen(f"{url}/api/v1/search?q={word}", timeout=30) as answer:
                    assert answer.status == 200
            assert len(processes_with(bind)) >= 2  # the master and its workers
            os.killpg(run.pid, signal.SIGINT)
            code = run.wait(timeout=60)
            deadline = time.monotonic() + 30
            while processes_with(bind) and time.monotonic() < deadline:
                time.sleep(0.2)
            left = processes_with(bind)
        finally:
            for pid in processes_with(bind):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
    assert code == 0
    assert left == [], f"gunicorn processes left after Ctrl-C: {left}"


def forward(port: int, target: tuple[str, int], stop: threading.Event) -> None:
    """Relay TCP connections from ``127.0.0.1:port`` to ``target`` until ``stop``."""
    server = socket.create_server(("127.0.0.1", port), reuse_port=False)
    server.settimeout(0.2)

    def pump(src, dst):
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    while not stop.is_set():
        try:
            conn = server.accept()[0]
        except TimeoutError:
            continue
        upstream = socket.create_connection(target)
        for a, b in ((conn, upstream), (upstream, conn)):
            threading.Thread(target=pump, args=(a, b), daemon=True).start()
    server.close()


def test_indexer_run_waits_for_an_unreachable_opensearch(tmp_path, opensearch_url, client):
    database_url, _factory = make_registry(tmp_path)
    port = free_port()  # nothing listens here until the relay starts
    prefix = f"t{RUN_ID}-wait-"
    env = {
        **os.environ,
        "OPENSEARCH_URL": f"http://127.0.0.1:{port}",
        "DATABASE_URL": database_url,
        "INDEX_PREFIX": prefix,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "indexer", "run"], cwd=ROOT, env=env, text=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    out = Output(proc.stderr)
    stop = threading.Event()
    try:
        line = out.wait_for("waiting_for_opensearch", 20)
        assert f"OpenSearch is not reachable at http://127.0.0.1:{port}; retrying in" in line
        time.sleep(2)
        assert proc.poll() is None, "".join(out.lines)
        host, target_port = opensearch_url.removeprefix("http://").split(":")
        threading.Thread(
            target=forward, args=(port, (host, int(target_port.rstrip("/"))), stop), daemon=True
        ).start()
        out.wait_for('"event": "started"', 60)
    finally:
        proc.terminate()
        code = proc.wait(timeout=30)
        stop.set()
        client.indices.delete(index=f"{prefix}*", ignore_unavailable=True)
    assert code == 0

"""The shared process handling of devnode, devdb and devredis, on real processes.

The servers here are small Python processes (a TCP listener), started and stopped by
:mod:`devserver.process` exactly as the real servers are; the devredis tests run
Debian's ``redis-server`` and are skipped without it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from devserver import process
from devserver.process import Readiness, ServerProcess

from ..conftest import free_port

LISTENER = (
    "import socket, sys, time\n"
    "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    "s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen()\n"
    "print('listening', flush=True)\n"
    "time.sleep(600)\n"
)


class Failure(Exception):
    """The error type handed to the functions under test."""


def listener(tmp_path, marker: str = "DEVSERVER_TEST_DIR") -> ServerProcess:
    return ServerProcess(
        "Listener", tmp_path, "listener.pid", process.environ_marker(marker, str(tmp_path))
    )


def start_listener(server: ServerProcess, port: int) -> int:
    env = dict(os.environ, DEVSERVER_TEST_DIR=str(server.folder))
    command = [sys.executable, "-c", LISTENER, str(port)]
    return process.spawn(server, command, env=env, log=server.folder / "listener.log")


def test_spawn_records_the_pid_and_waits_until_ready_and_stop_ends_it(tmp_path, capsys):
    server, port = listener(tmp_path), free_port()
    pid = start_listener(server, port)
    try:
        assert server.pid_file.read_text() == f"{pid}\n"
        ready = process.wait_ready(lambda: process.port_in_use(port), pid, 20, 0.05)
        assert ready is Readiness.READY
        assert server.pid() == pid
        assert process.started_by_us(pid)
        assert process.log_tail(tmp_path / "listener.log") == "listening"
    finally:
        stopped = process.stop(server, signal.SIGTERM, 10, 0.05, "devtest", port)
    assert stopped == pid
    assert not process.alive(pid)
    assert not server.pid_file.exists()
    assert not process.port_in_use(port)
    assert f"stopping Listener (pid {pid}) on port {port}" in capsys.readouterr().err


def test_a_recycled_pid_is_not_ours_and_is_never_signalled(tmp_path, capsys):
    """A pid file naming a live process without our marker (here: this test's
    interpreter) is ignored: stop() says so and sends nothing."""
    server = listener(tmp_path)
    server.pid_file.write_text(f"{os.getpid()}\n")
    assert server.pid() is None
    assert process.stop(server, signal.SIGTERM, 1, 0.05, "devtest", 1) is None
    assert "no devtest-started Listener is running on port 1" in capsys.readouterr().err
    other = listener(tmp_path, marker="SOMETHING_ELSE")
    assert other.pid() is None


def test_a_server_that_exits_during_startup_is_reported_as_exited(tmp_path):
    server = listener(tmp_path)
    pid = process.spawn(server, [sys.executable, "-c", "raise SystemExit(3)"])
    assert process.wait_ready(lambda: False, pid, 20, 0.05) is Readiness.EXITED
    assert server.pid() is None


def test_a_server_that_never_gets_ready_times_out_and_ticks(tmp_path):
    ticks = []
    started = time.monotonic()
    ready = process.wait_ready(lambda: False, None, 0.3, 0.05, lambda: ticks.append(1))
    assert ready is Readiness.TIMEOUT
    assert time.monotonic() - started >= 0.3
    assert len(ticks) >= 2


def test_a_missing_or_garbled_pid_file_means_no_server(tmp_path):
    server = listener(tmp_path)
    assert server.pid() is None
    server.pid_file.write_text("not a pid\n")
    assert server.pid() is None


def test_ports_outside_the_tcp_range_are_refused():
    assert process.check_port(5433, Failure) == 5433
    for port in (0, 65536, -1):
        with pytest.raises(Failure, match=f"port {port} is outside 1-65535"):
            process.check_port(port, Failure)


def test_log_tail_of_a_missing_log():
    assert process.log_tail(Path("/nonexistent/log")) == "(no output recorded)"


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands a server to a system user")
def test_as_root_the_command_runs_as_the_named_system_user():
    folder = Path(tempfile.mkdtemp(prefix="devserver-"))  # /tmp is open to other users
    try:
        prefix = process.as_user("innovatiebieb-redis", "Redis", Failure, folder, [folder])
        assert prefix[0] == "setpriv"
        out = subprocess.run([*prefix, "id", "-un"], capture_output=True, text=True, check=True)
        assert out.stdout.strip() == "innovatiebieb-redis"
        assert folder.owner() == "innovatiebieb-redis"
    finally:
        shutil.rmtree(folder)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands a server to a system user")
def test_as_root_an_unreachable_state_folder_is_a_clear_error(tmp_path):
    closed = tmp_path / "closed"
    (closed / "state").mkdir(parents=True)
    closed.chmod(0o700)
    with pytest.raises(Failure, match="is closed to other users"):
        process.as_user("innovatiebieb-redis", "Redis", Failure, closed / "state")


@pytest.mark.skipif(not shutil.which("redis-server"), reason="Debian's redis-server is missing")
def test_devredis_removes_the_folder_of_a_server_on_another_port_when_stopped():
    from devredis import ensure_server, server, stop_server

    port = free_port()
    url, started = ensure_server(port)
    assert started and url == f"redis://127.0.0.1:{port}/0"
    assert server.server_dir(port).is_dir()
    stop_server(port)
    assert not process.port_in_use(port)
    assert not server.server_dir(port).exists()


@pytest.mark.skipif(not shutil.which("redis-server"), reason="Debian's redis-server is missing")
def test_devredis_keeps_the_folder_of_its_default_port(monkeypatch):
    from devredis import ensure_server, server, stop_server

    port = free_port()
    monkeypatch.setenv("DEVREDIS_PORT", str(port))
    ensure_server()
    try:
        assert server.status() is True
    finally:
        stop_server()
    assert not process.port_in_use(port)
    assert (server.server_dir(port) / "redis.conf").exists()
    shutil.rmtree(server.server_dir(port))


def test_the_port_comes_from_the_argument_else_the_environment(monkeypatch):
    monkeypatch.setenv("DEVDB_PORT", "5999")
    assert process.resolve_port(None, "devdb_port", Failure) == 5999
    assert process.resolve_port(6000, "devdb_port", Failure) == 6000
    monkeypatch.setenv("DEVDB_PORT", "vijf")
    with pytest.raises(Failure, match="DEVDB_PORT"):
        process.resolve_port(None, "devdb_port", Failure)

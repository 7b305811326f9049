"""``make run``: set up what is missing and serve the portal with the real data.

Steps (each idempotent): start OpenSearch unless ``OPENSEARCH_URL`` is set, migrate
the registry, import ``data/innovations.jsonl`` when the registry has no records
yet, rebuild the index, then run ``python -m indexer run`` beside gunicorn on
``127.0.0.1:$PORT`` (default 8000) until Ctrl-C or SIGTERM, and stop what it started.
The indexer is supervised: when it exits it is restarted with back-off (logged),
while the portal keeps serving.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from settings import Settings, SettingsError

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def fail(message: str) -> None:
    print(f"make run: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def step(*args: str) -> None:
    if subprocess.run(args, cwd=ROOT).returncode != 0:
        fail(f"step failed: {' '.join(args)}")


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def secret_key() -> str:
    """A stable SECRET_KEY for this clone (instance/secret_key), so sessions survive
    restarts and every gunicorn worker signs alike; the environment wins."""
    configured = Settings.from_env().secret_key
    if configured:
        return configured
    path = ROOT / "instance" / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(os.urandom(32).hex())
        path.chmod(0o600)
    return path.read_text().strip()


def registry_is_empty() -> bool:
    from sqlalchemy import func, select

    from registry.db import make_engine, make_session_factory
    from registry.models import Innovation

    factory = make_session_factory(make_engine())
    with factory() as session:
        return (session.scalar(select(func.count()).select_from(Innovation)) or 0) == 0


def main() -> int:
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        fail(exc.message)
    port = settings.port
    if not port_free(port):
        fail(f"port {port} on 127.0.0.1 is in use; choose another with PORT=8080 make run")
    started_node = False
    try:
        if not settings.opensearch_url:
            from devnode import NodeError, ensure_node

            say("OpenSearch: starting a local node (a first run downloads it via Maven)")
            try:
                url, started_node = ensure_node()
            except NodeError as exc:
                fail(str(exc))
            os.environ["OPENSEARCH_URL"] = url
        return serve(port)
    finally:
        # whatever happened above, the node this run started is stopped again
        if started_node:
            from devnode import stop_node

            stop_node()


def serve(port: int) -> int:
    """Set up the registry and index, then run the indexer loop and gunicorn."""
    say(f"OpenSearch at {os.environ['OPENSEARCH_URL']}")
    os.environ["SECRET_KEY"] = secret_key()
    # plain HTTP on 127.0.0.1: Secure cookies would never come back
    os.environ.setdefault("SESSION_COOKIE_SECURE", "0")
    flask = [PY, "-m", "flask", "--app", "portal"]
    say("registry: migrating")
    step(*flask, "registry", "migrate")
    if registry_is_empty():
        say("registry: first run, importing data/innovations.jsonl")
        step(*flask, "records", "import", "data/innovations.jsonl")
    say("indexer: rebuilding the index")
    step(PY, "-m", "indexer", "rebuild")
    say("indexer: following the change feed")
    indexer = Supervised("indexer", [PY, "-m", "indexer", "run"])
    say(f"portal: http://127.0.0.1:{port}  (Ctrl-C stops everything)")
    portal = subprocess.Popen(
        [PY, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",  # workers: gunicorn.conf.py
         "--limit-request-line", "8190", "--no-control-socket", "--access-logfile", "-",
         "portal:create_app()"],
        cwd=ROOT,
        # a process group of its own: Ctrl-C signals the whole terminal group, and a
        # gunicorn worker signalled both by the terminal and by its master (which
        # passes the stop on) can deadlock in its quit handler; so only this script
        # gets Ctrl-C and stops gunicorn with one SIGTERM
        start_new_session=True,
    )  # fmt: skip
    stopping = False

    def stop(_signum, _frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    # the portal is what people use: only its end (or Ctrl-C) ends the run; the
    # indexer is restarted with back-off whenever it exits, and search meanwhile
    # serves the index as it was
    while not stopping and portal.poll() is None:
        indexer.check()
        time.sleep(0.5)
    if not stopping:
        say(f"portal exited with code {portal.returncode}")
    say("stopping")
    for proc in (portal, indexer.proc):
        if proc is not None and proc.poll() is None:
            proc.terminate()
    for proc in (portal, indexer.proc):
        if proc is None:
            continue
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    return 0 if stopping else 1


class Supervised:
    """A child process that is started again whenever it exits.

    Back-off between restarts doubles from :data:`FIRST_BACKOFF_S` up to
    :data:`MAX_BACKOFF_S`, and starts over once the child ran :data:`STABLE_S`
    seconds, so a crash loop does not spin and a rare crash costs one second.
    """

    FIRST_BACKOFF_S = 1.0
    MAX_BACKOFF_S = 30.0
    STABLE_S = 60.0

    def __init__(self, name: str, argv: list[str]):
        self.name, self.argv = name, argv
        self.backoff = self.FIRST_BACKOFF_S
        self.restarts = 0
        self.restart_at: float | None = None
        self.proc: subprocess.Popen | None = None
        self.started_at = 0.0
        self._start()

    def _start(self) -> None:
        self.proc = subprocess.Popen(self.argv, cwd=ROOT)
        self.started_at = time.monotonic()
        self.restart_at = None

    def check(self) -> None:
        """Notice an exit (and log it with the reason), restart when the back-off ran out."""
        now = time.monotonic()
        if self.restart_at is not None:
            if now >= self.restart_at:
                self.restarts += 1
                say(f"{self.name}: restarting (restart {self.restarts})")
                self._start()
            return
        code = self.proc.poll()
        if code is None:
            return
        if now - self.started_at >= self.STABLE_S:
            self.backoff = self.FIRST_BACKOFF_S
        reason = f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
        say(f"{self.name}: exited ({reason}); restarting in {self.backoff:g} s")
        self.restart_at = now + self.backoff
        self.backoff = min(self.MAX_BACKOFF_S, self.backoff * 2)


if __name__ == "__main__":
    sys.exit(main())

"""``make run``: set up what is missing and serve the portal with the real data.

Steps (each idempotent): start OpenSearch unless ``OPENSEARCH_URL`` is set, migrate
the registry, import ``data/innovations.jsonl`` when the registry has no records
yet, rebuild the index, then run ``python -m indexer run`` beside gunicorn on
``127.0.0.1:$PORT`` (default 8000) until Ctrl-C or SIGTERM, and stop what it started.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

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
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
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
    port = int(os.environ.get("PORT", "8000"))
    if not port_free(port):
        fail(f"port {port} on 127.0.0.1 is in use; choose another with PORT=8080 make run")
    started_node = False
    try:
        if not os.environ.get("OPENSEARCH_URL"):
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
    indexer = subprocess.Popen([PY, "-m", "indexer", "run"], cwd=ROOT)
    say(f"portal: http://127.0.0.1:{port}  (Ctrl-C stops everything)")
    portal = subprocess.Popen(
        [PY, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--limit-request-line", "8190", "--no-control-socket", "--access-logfile", "-",
         "portal:create_app()"],
        cwd=ROOT,
    )  # fmt: skip
    stopping = False

    def stop(_signum, _frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while not stopping and portal.poll() is None and indexer.poll() is None:
        time.sleep(0.5)
    say("stopping")
    for proc in (portal, indexer):
        if proc.poll() is None:
            proc.terminate()
    for proc in (portal, indexer):
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    return 0 if stopping else 1


if __name__ == "__main__":
    sys.exit(main())

"""Start, watch and stop the local OpenSearch node."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

from devserver import process
from devserver.process import Readiness, ServerProcess

from .config import NODE_USER, NodeError, node_dir, resolve_port, settings
from .dist import fetch

STARTUP_TIMEOUT = 120  # seconds
STOP_TIMEOUT = 30  # seconds
MAX_HEAP_MIB = 1024
# OpenSearch 2.x needs the SecurityManager, which JDK 24 removed.
JAVA_MIN, JAVA_MAX = 17, 23

# Local requests must never go through an http_proxy from the environment.
_http = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def node_process(port: int) -> ServerProcess:
    """The OpenSearch process devnode runs on ``port``.

    A recycled pid lacks our node dir. The environment (unlike the command line) has it
    from the spawn on; ``OPENSEARCH_TMPDIR``, as the launcher rewrites
    ``OPENSEARCH_PATH_CONF``.
    """
    node = node_dir(port)
    is_ours = process.environ_marker("OPENSEARCH_TMPDIR", f"{node}/tmp")
    return ServerProcess("OpenSearch", node, "opensearch.pid", is_ours)


def ensure_node(port: int | None = None) -> tuple[str, bool]:
    """Make sure an OpenSearch node answers on 127.0.0.1:`port` with yellow or green health.

    `port` defaults to $OPENSEARCH_PORT or 9200. Reuses any OpenSearch already answering
    there; otherwise fetches the distribution if needed and starts a node in the background,
    waiting up to 120 s. Returns (url, started_by_us). Raises NodeError when the port is
    taken by something else, Java 17+ or Maven is missing, or the node fails to start.
    """
    port = resolve_port(port)
    url = f"http://127.0.0.1:{port}"
    pid = node_process(port).pid()
    started = False
    if pid is not None:
        print(f"reusing devnode's OpenSearch (pid {pid}) on {url}", file=sys.stderr)
    else:
        info = _get_json(port, "/") or {}
        if info.get("version", {}).get("distribution") == "opensearch":
            number = info["version"].get("number")
            print(f"reusing OpenSearch {number} on {url}, not started by devnode", file=sys.stderr)
        elif process.port_in_use(port):
            raise NodeError(
                f"port {port} is in use by something that is not OpenSearch; "
                "choose another with --port N or OPENSEARCH_PORT=N"
            )
        else:
            pid, started = _start(port), True
    _wait_healthy(port, pid)
    return url, started


def stop_node(port: int | None = None) -> None:
    """Stop the node devnode started on `port` (default $OPENSEARCH_PORT or 9200).

    Sends SIGTERM, waits up to 30 s, then SIGKILL. Only touches the process recorded in
    the pid file, and only if it still is our OpenSearch; otherwise just says so.
    """
    port = resolve_port(port)
    process.stop(node_process(port), signal.SIGTERM, STOP_TIMEOUT, 0.2, "devnode", port)


def status(port: int | None = None) -> bool:
    """Print whether our node runs on `port` and its cluster health; return True if one answers."""
    port = resolve_port(port)
    pid = node_process(port).pid()
    health = _get_json(port, "/_cluster/health")
    state = health.get("status", "unknown") if health else "not answering"
    if pid:
        print(f"devnode's OpenSearch runs on http://127.0.0.1:{port} (pid {pid}), health: {state}")
    elif health:
        print(f"an OpenSearch not started by devnode answers on port {port}, health: {state}")
    else:
        print(f"no OpenSearch on port {port}")
    return health is not None


def find_java_home() -> Path:
    """Return a Java home with Java 17-23: $OPENSEARCH_JAVA_HOME, $JAVA_HOME, `java` on PATH,
    then /usr/lib/jvm/*. Raises NodeError when none qualifies."""
    candidates = [os.environ.get("OPENSEARCH_JAVA_HOME"), os.environ.get("JAVA_HOME")]
    if java := shutil.which("java"):
        candidates.append(str(Path(java).resolve().parents[1]))
    candidates += sorted(str(p) for p in Path("/usr/lib/jvm").glob("*"))
    rejected = []
    for home in filter(None, candidates):
        try:
            probe = [f"{home}/bin/java", "-version"]
            out = subprocess.run(probe, check=False, capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            continue
        match = re.search(r'version "(\d+)', out.stderr)
        if match and JAVA_MIN <= int(match[1]) <= JAVA_MAX:
            return Path(home)
        rejected.append(f"{home} (Java {match[1] if match else '?'})")
    raise NodeError(
        f"no Java {JAVA_MIN}-{JAVA_MAX} found in OPENSEARCH_JAVA_HOME, JAVA_HOME, java on PATH "
        f"or /usr/lib/jvm (unsuitable: {', '.join(rejected) or 'none'}); "
        "install one, e.g. `apt-get install openjdk-17-jre-headless`"
    )


def _start(port: int, cluster: dict | None = None) -> int:
    java_home = find_java_home()
    dist = fetch()
    node = node_dir(port)
    _write_config(dist, node, port, cluster)
    env = dict(os.environ, OPENSEARCH_JAVA_HOME=str(java_home), OPENSEARCH_TMPDIR=str(node / "tmp"))
    env["OPENSEARCH_PATH_CONF"] = str(node / "config")
    own = [node]
    if os.geteuid() == 0:  # OpenSearch refuses to run as root
        env["HOME"] = str(node)  # the system user has no home of its own
        for root, dirs, files in os.walk(node):
            own += [Path(root, name) for name in dirs + files]
    as_user = process.as_user(NODE_USER, "OpenSearch", NodeError, node, own)
    command = [*as_user, str(dist / "bin" / "opensearch")]
    pid = process.spawn(node_process(port), command, env=env, log=node / "console.log")
    print(f"started OpenSearch (pid {pid}), state in {node}", file=sys.stderr)
    return pid


def _write_config(dist: Path, node: Path, port: int, cluster: dict | None = None) -> None:
    """Write the node's config folder. ``cluster`` (from :mod:`devnode.cluster`) holds
    ``name``, ``heap``, ``transport_port``, ``seed_hosts`` and ``managers`` for a member of
    a multi-node cluster; without it the node is a single node as always."""
    heap = cluster["heap"] if cluster else _heap()
    conf = node / "config"
    for sub in ("config", "data", "logs", "tmp"):
        (node / sub).mkdir(parents=True, exist_ok=True)
    q = json.dumps  # a JSON string is valid YAML, whatever characters the path holds
    if cluster:
        topology = (
            f"cluster.name: {q(cluster['name'])}\n"
            f"node.name: {q(f'node-{port}')}\n"
            f"transport.port: {cluster['transport_port']}\n"
            f"discovery.seed_hosts: {q(cluster['seed_hosts'])}\n"
            f"cluster.initial_cluster_manager_nodes: {q(cluster['managers'])}\n"
        )
    else:
        topology = (
            f"cluster.name: innovatiebieb-dev\n"
            f"transport.port: {_free_port(port + 100)}\n"
            f"discovery.type: single-node\n"
        )
    (conf / "opensearch.yml").write_text(
        f"{topology}"
        f"network.host: 127.0.0.1\n"
        f"http.port: {port}\n"
        f"cluster.routing.allocation.disk.threshold_enabled: false\n"
        f"path.data: {q(str(node / 'data'))}\n"
        f"path.logs: {q(str(node / 'logs'))}\n"
    )
    shutil.copyfile(dist / "config" / "log4j2.properties", conf / "log4j2.properties")
    lines = []
    for line in (dist / "config" / "jvm.options").read_text().splitlines():
        if line.startswith(("-Xms", "-Xmx")):
            line = line[:4] + heap
        # The launcher runs from the read-only dist, so relative paths must point into the node dir.
        line = line.replace("=logs/", f"={node}/logs/")
        line = line.replace("HeapDumpPath=data", f"HeapDumpPath={node}/data")
        lines.append(line)
    (conf / "jvm.options").write_text("\n".join(lines) + "\n")


def _heap() -> str:
    heap = (settings().opensearch_heap or "512m").strip().lower()
    match = re.fullmatch(r"(\d+)([kmg])", heap)
    if not match:
        raise NodeError(f"OPENSEARCH_HEAP={heap!r} should look like 512m or 1g")
    if int(match[1]) * {"k": 1 / 1024, "m": 1, "g": 1024}[match[2]] > MAX_HEAP_MIB:
        raise NodeError(f"OPENSEARCH_HEAP={heap} is over 1g, more than a dev node should take")
    return heap


def _wait_healthy(port: int, pid: int | None) -> None:
    waited = False

    def healthy() -> bool:
        health = _get_json(port, "/_cluster/health?wait_for_status=yellow&timeout=1s")
        return bool(health) and health.get("status") in ("green", "yellow")

    def tick() -> None:
        nonlocal waited
        if not waited:
            print(f"waiting for OpenSearch on port {port} ", end="", file=sys.stderr)
            waited = True
        print(".", end="", file=sys.stderr, flush=True)

    ready = process.wait_ready(healthy, pid, STARTUP_TIMEOUT, 1, tick)
    if ready is Readiness.READY:
        if waited:
            print(" ready", file=sys.stderr)
        return
    print(file=sys.stderr)
    if ready is Readiness.EXITED:
        node_process(port).forget()
        raise NodeError(f"OpenSearch exited during startup; its last output:\n{_log_tail(port)}")
    if process.started_by_us(pid):  # don't leave a hung node behind, only one we started
        stop_node(port)
    raise NodeError(
        f"OpenSearch on port {port} was not healthy after {STARTUP_TIMEOUT} s; "
        f"last lines of its output:\n{_log_tail(port)}"
    )


def _log_tail(port: int) -> str:
    return process.log_tail(node_dir(port) / "console.log")


def _get_json(port: int, path: str) -> dict | None:
    try:
        with _http.open(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return json.load(response)
    except (OSError, ValueError):  # URLError, HTTPError and timeouts are OSErrors
        return None


def _free_port(preferred: int) -> int:
    for candidate in (preferred, 0):
        if candidate > 65535:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise NodeError("no free TCP port for the transport layer")

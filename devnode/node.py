"""Start, watch and stop the local OpenSearch node."""

import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from .config import NODE_USER, NodeError, node_dir, resolve_port, settings
from .dist import fetch

STARTUP_TIMEOUT = 120  # seconds
STOP_TIMEOUT = 30  # seconds
MAX_HEAP_MIB = 1024
# OpenSearch 2.x needs the SecurityManager, which JDK 24 removed.
JAVA_MIN, JAVA_MAX = 17, 23

USERADD = ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", NODE_USER]

# Processes this interpreter started, so they can be reaped instead of lingering as zombies.
_children: dict[int, subprocess.Popen] = {}
# Local requests must never go through an http_proxy from the environment.
_http = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def ensure_node(port: int | None = None) -> tuple[str, bool]:
    """Make sure an OpenSearch node answers on 127.0.0.1:`port` with yellow or green health.

    `port` defaults to $OPENSEARCH_PORT or 9200. Reuses any OpenSearch already answering
    there; otherwise fetches the distribution if needed and starts a node in the background,
    waiting up to 120 s. Returns (url, started_by_us). Raises NodeError when the port is
    taken by something else, Java 17+ or Maven is missing, or the node fails to start.
    """
    port = resolve_port(port)
    url = f"http://127.0.0.1:{port}"
    pid = _our_pid(port)
    started = False
    if pid is not None:
        print(f"reusing devnode's OpenSearch (pid {pid}) on {url}", file=sys.stderr)
    else:
        info = _get_json(port, "/") or {}
        if info.get("version", {}).get("distribution") == "opensearch":
            number = info["version"].get("number")
            print(f"reusing OpenSearch {number} on {url}, not started by devnode", file=sys.stderr)
        elif _port_in_use(port):
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
    pid = _our_pid(port)
    if pid is None:
        print(f"no devnode-started OpenSearch is running on port {port}", file=sys.stderr)
        return
    print(f"stopping OpenSearch (pid {pid}) on port {port}…", file=sys.stderr)
    for sig, wait in ((signal.SIGTERM, STOP_TIMEOUT), (signal.SIGKILL, 5)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if not _alive(pid):
            break
    (node_dir(port) / "opensearch.pid").unlink(missing_ok=True)


def status(port: int | None = None) -> bool:
    """Print whether our node runs on `port` and its cluster health; return True if one answers."""
    port = resolve_port(port)
    pid = _our_pid(port)
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
    command = [str(dist / "bin" / "opensearch")]
    if os.geteuid() == 0:  # OpenSearch refuses to run as root
        uid, gid = _node_user()
        _check_traversable(node)
        for root, dirs, files in os.walk(node):
            for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
                os.lchown(name, uid, gid)
        env["HOME"] = str(node)  # the system user has no home of its own
        if not shutil.which("setpriv"):
            raise NodeError(f"setpriv (util-linux) is needed to run OpenSearch as {NODE_USER}")
        command = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--init-groups", "--", *command]
    with open(node / "console.log", "wb") as log:
        proc = subprocess.Popen(
            command,
            env=env,
            cwd=node,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _children[proc.pid] = proc
    (node / "opensearch.pid").write_text(f"{proc.pid}\n")
    print(f"started OpenSearch (pid {proc.pid}), state in {node}", file=sys.stderr)
    return proc.pid


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


def _node_user() -> tuple[int, int]:
    try:
        entry = pwd.getpwnam(NODE_USER)
    except KeyError:
        try:
            result = subprocess.run(USERADD, check=False, capture_output=True, text=True)
        except OSError as exc:
            raise NodeError(f"cannot create user {NODE_USER}: {exc}") from None
        try:  # a concurrent useradd may have failed this one yet created the user
            entry = pwd.getpwnam(NODE_USER)
        except KeyError:
            raise NodeError(f"cannot create user {NODE_USER}: {result.stderr.strip()}") from None
    return entry.pw_uid, entry.pw_gid


def _check_traversable(path: Path) -> None:
    for parent in path.parents:
        if not os.stat(parent).st_mode & 0o001:
            raise NodeError(
                f"{NODE_USER} cannot reach {path} because {parent} is closed to other users; "
                "point INNOVATIEBIEB_CACHE elsewhere, e.g. /var/cache/innovatiebieb"
            )


def _wait_healthy(port: int, pid: int | None) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    waited = False
    while time.monotonic() < deadline:
        health = _get_json(port, "/_cluster/health?wait_for_status=yellow&timeout=1s")
        if health and health.get("status") in ("green", "yellow"):
            if waited:
                print(" ready", file=sys.stderr)
            return
        if pid is not None and not _alive(pid):
            print(file=sys.stderr)
            (node_dir(port) / "opensearch.pid").unlink(missing_ok=True)
            raise NodeError(
                f"OpenSearch exited during startup; its last output:\n{_log_tail(port)}"
            )
        if not waited:
            print(f"waiting for OpenSearch on port {port} ", end="", file=sys.stderr)
            waited = True
        print(".", end="", file=sys.stderr, flush=True)
        time.sleep(1)
    print(file=sys.stderr)
    if pid in _children:  # don't leave a hung node behind, but only one this process started
        stop_node(port)
    raise NodeError(
        f"OpenSearch on port {port} was not healthy after {STARTUP_TIMEOUT} s; "
        f"last lines of its output:\n{_log_tail(port)}"
    )


def _log_tail(port: int, count: int = 30) -> str:
    try:
        text = (node_dir(port) / "console.log").read_text(errors="replace")
    except OSError:
        return "(no output recorded)"
    return "\n".join(text.splitlines()[-count:])


def _our_pid(port: int) -> int | None:
    """Return the pid from the node's pid file if that process is alive and is our node."""
    node = node_dir(port)
    try:
        pid = int((node / "opensearch.pid").read_text())
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except (OSError, ValueError):
        return None
    # A recycled pid lacks our node dir. The environment (unlike the command line) has it from
    # the spawn on; OPENSEARCH_TMPDIR, as the launcher rewrites OPENSEARCH_PATH_CONF.
    marker = f"\0OPENSEARCH_TMPDIR={node}/tmp\0".encode()
    return pid if marker in b"\0" + environ and _alive(pid) else None


def _alive(pid: int) -> bool:
    if pid in _children:
        return _children[pid].poll() is None
    try:  # a zombie ("Z") has stopped, even if a sloppy init has not reaped it yet
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _get_json(port: int, path: str) -> dict | None:
    try:
        with _http.open(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return json.load(response)
    except (OSError, ValueError):  # URLError, HTTPError and timeouts are OSErrors
        return None


def _port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


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

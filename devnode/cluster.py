"""Start, restart and stop a local multi-node OpenSearch cluster on 127.0.0.1.

Each member is an ordinary devnode node (:mod:`devnode.node`) with its own HTTP port,
data folder (``node_dir(port)``) and small heap; member ``i`` listens on HTTP
``base + i`` and transport ``base + 100 + i`` (9211-9213 and 9311-9313 for the
default three nodes). Every member is cluster-manager eligible, so the cluster keeps
a manager when any one node dies. The members are recorded in
``cache_dir()/cluster-<base>.json`` so that ``python -m devnode stop`` finds them.

The single node (``python -m devnode start`` without ``--nodes``) is not touched by
anything here.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

from devserver import process

from .config import MAX_CLUSTER_HEAP_MIB, NodeError, cache_dir, settings
from .node import _get_json, _start, node_process, stop_node

DEFAULT_BASE_PORT = 9211
DEFAULT_HEAP = "384m"
TRANSPORT_OFFSET = 100
STARTUP_TIMEOUT = 240  # seconds; three JVMs share the machine's cores while they start


def base_port(port: int | None = None) -> int:
    """``port``, else ``$OPENSEARCH_CLUSTER_PORT``, else 9211: the first member's HTTP port.

    Raises NodeError for a value that is not a port.
    """
    if port is None:
        port = settings().opensearch_cluster_port
    if not 1 <= port <= 65535 - TRANSPORT_OFFSET - 16:
        raise NodeError(f"cluster base port {port} is out of range")
    return port


def member_ports(base: int, nodes: int) -> list[int]:
    """HTTP ports of a cluster of ``nodes`` members starting at ``base``."""
    if not 2 <= nodes <= 9:
        raise NodeError(f"--nodes {nodes}: a local cluster has 2 to 9 nodes")
    return [base + i for i in range(nodes)]


def cluster_urls(base: int | None = None, nodes: int = 3) -> list[str]:
    """``http://127.0.0.1:<port>`` of every member (what ``OPENSEARCH_URL`` may list)."""
    return [f"http://127.0.0.1:{p}" for p in member_ports(base_port(base), nodes)]


def _record(base: int) -> Path:
    return cache_dir() / f"cluster-{base}.json"


def _heap() -> str:
    heap = (settings().opensearch_heap or DEFAULT_HEAP).strip().lower()
    match = re.fullmatch(r"(\d+)([km])", heap)
    mib = int(match[1]) / (1024 if match and match[2] == "k" else 1) if match else None
    if mib is None or mib > MAX_CLUSTER_HEAP_MIB:
        raise NodeError(f"OPENSEARCH_HEAP={heap!r}: a cluster member takes at most 512m")
    return heap


def ensure_cluster(nodes: int = 3, base: int | None = None) -> tuple[list[str], list[int]]:
    """Make sure a cluster of ``nodes`` members answers, with all of them joined.

    Starts every member that is not running (after a crash this restarts just the lost
    one, on its old data folder), then waits up to 240 s until each member sees
    ``nodes`` nodes and at least yellow health.

    Returns:
        ``(urls of the members, ports started by this call)``.
    Raises:
        NodeError: a port is taken by something else, Java or the distribution is
        missing, or the cluster does not form in time.
    """
    base = base_port(base)
    ports = member_ports(base, nodes)
    heap = _heap()
    for port in ports:
        for taken in (port, port + TRANSPORT_OFFSET):
            if node_process(port).pid() is None and process.port_in_use(taken):
                raise NodeError(
                    f"port {taken} is in use by something devnode did not start; "
                    "choose another base with --port N or OPENSEARCH_CLUSTER_PORT=N"
                )
    layout = {
        "name": f"innovatiebieb-cluster-{base}",
        "heap": heap,
        "seed_hosts": [f"127.0.0.1:{p + TRANSPORT_OFFSET}" for p in ports],
        "managers": [f"node-{p}" for p in ports],
    }
    _record(base).parent.mkdir(parents=True, exist_ok=True)
    _record(base).write_text(json.dumps({"ports": ports}) + "\n")
    started = []
    for port in ports:
        if node_process(port).pid() is None:
            _start(port, {**layout, "transport_port": port + TRANSPORT_OFFSET})
            started.append(port)
    _wait_formed(ports)
    return [f"http://127.0.0.1:{p}" for p in ports], started


def member_pids(base: int | None = None, nodes: int = 3) -> dict[int, int | None]:
    """``{http port: pid or None}`` of the members devnode started (None: not running)."""
    return {p: node_process(p).pid() for p in member_ports(base_port(base), nodes)}


def stop_cluster(base: int | None = None) -> bool:
    """Stop every member of the cluster recorded at ``base``; False when none is recorded."""
    base = base_port(base)
    try:
        ports = json.loads(_record(base).read_text())["ports"]
    except (OSError, ValueError, KeyError):
        return False
    for port in ports:
        stop_node(port)
    _record(base).unlink(missing_ok=True)
    return True


def recorded_bases() -> list[int]:
    """Base ports of every cluster devnode has recorded in the cache folder."""
    found = []
    for path in cache_dir().glob("cluster-*.json"):
        match = re.fullmatch(r"cluster-(\d+)\.json", path.name)
        if match:
            found.append(int(match[1]))
    return sorted(found)


def _wait_formed(ports: list[int]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    query = f"/_cluster/health?wait_for_nodes={len(ports)}&wait_for_status=yellow&timeout=2s"
    print(f"waiting for the {len(ports)}-node cluster ", end="", file=sys.stderr, flush=True)
    pending = list(ports)
    while time.monotonic() < deadline:
        for port in list(pending):
            health = _get_json(port, query)
            if health and not health.get("timed_out") and health.get("status") != "red":
                pending.remove(port)
            elif node_process(port).pid() is None:
                print(file=sys.stderr)
                raise NodeError(f"cluster member on port {port} exited during startup; see its "
                                f"console.log in {cache_dir() / f'node-{port}'}")  # fmt: skip
        if not pending:
            print(" ready", file=sys.stderr)
            return
        print(".", end="", file=sys.stderr, flush=True)
        time.sleep(1)
    print(file=sys.stderr)
    raise NodeError(
        f"the cluster did not form within {STARTUP_TIMEOUT} s (members not ready: {pending})"
    )

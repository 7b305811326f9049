"""Facts about the machine and the OpenSearch node a benchmark ran on."""

from __future__ import annotations

import os
import platform
from pathlib import Path

from opensearchpy import OpenSearch


def _meminfo_mib(key: str) -> float | None:
    """A ``/proc/meminfo`` value (kB there) in MiB, None when unavailable."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            name, _, rest = line.partition(":")
            if name == key:
                return round(int(rest.split()[0]) / 1024, 1)
    except OSError:
        return None
    return None


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        return None
    return None


def host_facts() -> dict:
    """Cores (``nproc``), CPU model, memory (MiB), load average, kernel and Python."""
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": _cpu_model(),
        "memory_total_mib": _meminfo_mib("MemTotal"),
        "memory_available_mib": _meminfo_mib("MemAvailable"),
        "loadavg_1m_at_start": round(os.getloadavg()[0], 2),
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def node_facts(client: OpenSearch, own_prefix: str) -> dict:
    """OpenSearch version (``GET /``), JVM heap (``_nodes/stats/jvm``, MiB) and sharing.

    ``other_indices`` counts indices outside ``own_prefix``: other clients of the same
    node (e.g. a test run) compete for it during the benchmark.
    """
    info = client.info()
    jvm = next(iter(client.nodes.info(metric="jvm")["nodes"].values()))["jvm"]
    nodes = client.nodes.stats(metric="jvm")["nodes"]
    heap_used = sum(n["jvm"]["mem"]["heap_used_in_bytes"] for n in nodes.values())
    indices = client.cat.indices(format="json", h="index")
    others = [i["index"] for i in indices if not i["index"].startswith((own_prefix, "."))]
    return {
        "opensearch_version": info["version"]["number"],
        "lucene_version": info["version"].get("lucene_version"),
        "jvm_version": jvm.get("version"),
        "nodes": len(nodes),
        "heap_max_mib": round(jvm["mem"]["heap_max_in_bytes"] / 2**20),
        "heap_used_mib_at_start": round(heap_used / 2**20),
        "other_indices": len(others),
    }

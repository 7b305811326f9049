"""The pinned OpenSearch version and where devnode keeps things on disk."""

import os
from pathlib import Path

from devserver import process
from settings import Settings, SettingsError

OPENSEARCH_VERSION = "2.19.6"
NODE_USER = "innovatiebieb-os"
MAX_CLUSTER_HEAP_MIB = 512
"""Per-member heap ceiling of a local cluster (several JVMs share one machine)."""


class NodeError(Exception):
    """A failure whose message is meant for a person; the CLI prints it without a traceback."""


def settings() -> Settings:
    """The environment's settings; an invalid value raises :class:`NodeError`."""
    try:
        return Settings.from_env()
    except SettingsError as exc:
        raise NodeError(exc.message) from None


def cache_dir() -> Path:
    """Return the cache directory: $INNOVATIEBIEB_CACHE, else a per-user or system default."""
    override = settings().cache_dir
    if override:
        # Absolute, because the OpenSearch launcher changes directory before it reads our paths.
        return Path(override).expanduser().absolute()
    if os.geteuid() == 0:
        # The node then runs as NODE_USER, which cannot traverse /root.
        return Path("/var/cache/innovatiebieb")
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "innovatiebieb"


def dist_dir() -> Path:
    """Return where the assembled distribution lives (it may not exist yet)."""
    return cache_dir() / f"opensearch-{OPENSEARCH_VERSION}"


def node_dir(port: int) -> Path:
    """Return the state directory (config, data, logs, pid file) of the node on `port`."""
    return cache_dir() / f"node-{port}"


def resolve_port(port: int | None) -> int:
    """Return `port`, else $OPENSEARCH_PORT, else 9200. Raises NodeError for an invalid port."""
    return process.resolve_port(port, "opensearch_port", NodeError)

"""Obtain and run a single local OpenSearch node for development and tests.

Command line: ``python -m devnode fetch|start|stop|status|url [--port N]``.
From Python: ``url, started = ensure_node()`` and, if started, ``stop_node()``.
"""

from .config import OPENSEARCH_VERSION, NodeError
from .dist import fetch
from .node import ensure_node, status, stop_node

__all__ = ["OPENSEARCH_VERSION", "NodeError", "ensure_node", "fetch", "status", "stop_node"]

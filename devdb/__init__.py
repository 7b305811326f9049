"""Run a local PostgreSQL server for development and tests, like ``devnode`` does for OpenSearch.

Command line: ``python -m devdb start|stop|status|url [--port N]``.
From Python: ``url, started = ensure_server()`` and, if started, ``stop_server()``.
"""

from .server import DbError, ensure_server, server_url, status, stop_server

__all__ = ["DbError", "ensure_server", "server_url", "status", "stop_server"]

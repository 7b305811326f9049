"""Run a local Redis server (Debian's ``redis-server``) on 127.0.0.1 for development and tests.

Command line: ``python -m devredis start|stop|status|url [--port N]``.
From Python: ``url, started = ensure_server()`` and, if started, ``stop_server()``.
"""

from .server import RedisError, ensure_server, server_url, status, stop_server

__all__ = ["RedisError", "ensure_server", "server_url", "status", "stop_server"]

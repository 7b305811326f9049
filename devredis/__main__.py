"""Command line: python -m devredis start|stop|status|url [--port N]."""

import sys

from devserver.cli import server_cli

from . import server


def main(argv: list[str] | None = None) -> int:
    """Run one devredis command (see :func:`devserver.cli.server_cli`)."""
    port_help = "port (default: $DEVREDIS_PORT or 6390)"
    return server_cli("devredis", server, server.RedisError, port_help, argv)


if __name__ == "__main__":
    sys.exit(main())

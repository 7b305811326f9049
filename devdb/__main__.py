"""Command line: python -m devdb start|stop|status|url [--port N]."""

import sys

from devserver.cli import server_cli

from . import server


def main(argv: list[str] | None = None) -> int:
    """Run one devdb command (see :func:`devserver.cli.server_cli`)."""
    return server_cli("devdb", server, server.DbError, "port (default: $DEVDB_PORT or 5433)", argv)


if __name__ == "__main__":
    sys.exit(main())

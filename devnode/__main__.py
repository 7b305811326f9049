"""Command line: python -m devnode fetch|start|stop|status|url [--port N]."""

import argparse
import sys

from .config import NodeError, resolve_port
from .dist import fetch
from .node import ensure_node, status, stop_node


def main(argv: list[str] | None = None) -> int:
    """Run one command; return 0 on success, 1 on failure, 3 when `status` finds no node."""
    parser = argparse.ArgumentParser(prog="python -m devnode", description=__doc__)
    parser.add_argument("command", choices=["fetch", "start", "stop", "status", "url"])
    parser.add_argument("--port", type=int, help="HTTP port (default: $OPENSEARCH_PORT or 9200)")
    args = parser.parse_args(argv)
    try:
        if args.command == "fetch":
            print(fetch())
        elif args.command == "start":
            print(ensure_node(args.port)[0])
        elif args.command == "stop":
            stop_node(args.port)
        elif args.command == "status":
            return 0 if status(args.port) else 3
        else:
            print(f"http://127.0.0.1:{resolve_port(args.port)}")
    except (NodeError, OSError) as exc:  # OSError: e.g. a cache directory we may not write
        print(f"devnode: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())

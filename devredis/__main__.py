"""Command line: python -m devredis start|stop|status|url [--port N]."""

import argparse
import sys

from .server import RedisError, ensure_server, server_url, status, stop_server


def main(argv: list[str] | None = None) -> int:
    """Run one command; return 0 on success, 1 on failure, 3 when `status` finds no server."""
    parser = argparse.ArgumentParser(prog="python -m devredis", description=__doc__)
    parser.add_argument("command", choices=["start", "stop", "status", "url"])
    parser.add_argument("--port", type=int, help="port (default: $DEVREDIS_PORT or 6390)")
    args = parser.parse_args(argv)
    try:
        if args.command == "start":
            print(ensure_server(args.port)[0])
        elif args.command == "stop":
            stop_server(args.port)
        elif args.command == "status":
            return 0 if status(args.port) else 3
        else:
            print(server_url(args.port))
    except (RedisError, OSError) as exc:
        print(f"devredis: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())

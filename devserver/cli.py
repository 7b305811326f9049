"""The ``start|stop|status|url [--port N]`` command line of devdb and devredis."""

import argparse
import sys
from types import ModuleType


def server_cli(
    name: str, module: ModuleType, error: type[Exception], port_help: str, argv: list[str] | None
) -> int:
    """The ``start|stop|status|url [--port N]`` command line of a local server module.

    Args:
        name: the package, e.g. ``"devdb"`` (program name and message prefix).
        module: its server module, with ``ensure_server``, ``stop_server``, ``status``
            and ``server_url`` taking an optional port.
        error: the module's exception for messages meant for a person.
        port_help: the ``--port`` help text (its default).
        argv: the arguments (default ``sys.argv[1:]``).
    Returns:
        0 on success, 1 on failure, 3 when ``status`` finds no server, 130 on Ctrl-C.
    """
    description = f"Command line: python -m {name} start|stop|status|url [--port N]."
    parser = argparse.ArgumentParser(prog=f"python -m {name}", description=description)
    parser.add_argument("command", choices=["start", "stop", "status", "url"])
    parser.add_argument("--port", type=int, help=port_help)
    args = parser.parse_args(argv)
    try:
        if args.command == "start":
            print(module.ensure_server(args.port)[0])
        elif args.command == "stop":
            module.stop_server(args.port)
        elif args.command == "status":
            return 0 if module.status(args.port) else 3
        else:
            print(module.server_url(args.port))
    except (error, OSError) as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0

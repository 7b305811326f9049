"""Command line: python -m devnode fetch|start|stop|status|url [--port N] [--nodes N].

``start --nodes 3`` starts a three-node cluster (HTTP ports from ``--port``, default
``$OPENSEARCH_CLUSTER_PORT`` or 9211); ``stop`` stops the single node and every
recorded cluster, ``stop --port N`` only the node or cluster on port N.
"""

import argparse
import sys

from . import cluster
from .config import NodeError, resolve_port
from .dist import fetch
from .node import ensure_node, status, stop_node


def main(argv: list[str] | None = None) -> int:
    """Run one command; return 0 on success, 1 on failure, 3 when `status` finds no node."""
    parser = argparse.ArgumentParser(prog="python -m devnode", description=__doc__)
    parser.add_argument("command", choices=["fetch", "start", "stop", "status", "url"])
    parser.add_argument(
        "--port", type=int, help="HTTP port (default: $OPENSEARCH_PORT or 9200; a cluster's first)"
    )
    parser.add_argument("--nodes", type=int, default=1, help="1: a single node; 2-9: a cluster")
    args = parser.parse_args(argv)
    try:
        if args.command == "fetch":
            print(fetch())
        elif args.command == "start" and args.nodes > 1:
            print(",".join(cluster.ensure_cluster(args.nodes, args.port)[0]))
        elif args.command == "start":
            print(ensure_node(args.port)[0])
        elif args.command == "stop":
            _stop(args.port)
        elif args.command == "status" and args.nodes > 1:
            ports = cluster.member_ports(cluster.base_port(args.port), args.nodes)
            return 0 if all([status(p) for p in ports]) else 3
        elif args.command == "status":
            return 0 if status(args.port) else 3
        elif args.nodes > 1:
            print(",".join(cluster.cluster_urls(args.port, args.nodes)))
        else:
            print(f"http://127.0.0.1:{resolve_port(args.port)}")
    except (NodeError, OSError) as exc:  # OSError: e.g. a cache directory we may not write
        print(f"devnode: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


def _stop(port: int | None) -> None:
    if port is not None:
        if port not in cluster.recorded_bases():
            stop_node(port)
        else:
            cluster.stop_cluster(port)
        return
    stop_node(None)
    for base in cluster.recorded_bases():
        cluster.stop_cluster(base)


if __name__ == "__main__":
    sys.exit(main())

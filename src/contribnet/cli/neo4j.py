"""``contribnet neo4j start|stop|status``: a local Neo4j 5.26 without Docker.

Delegates to :mod:`contribnet.neo4j_local` (the embedded DBMS with Bolt, built once from Maven
Central). The data folder owns the server: ``status`` and ``stop`` find it from there.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any
from urllib.parse import quote

from contribnet import neo4j_local

DEFAULT_DATA_DIR = Path("neo4j-data")
DEFAULT_PORT = 7687


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "neo4j",
        help="start, stop or check a local Neo4j 5.26 (no Docker; data in a folder you choose)",
        description="Run Neo4j Community 5.26 on this machine, Bolt on 127.0.0.1. The first start "
        "fetches Neo4j from Maven Central (needs Java 17+ and Maven); later starts work offline. "
        "Then: contribnet demo --store <the printed URL>.",
    )
    parser.add_argument("action", choices=("start", "stop", "status"))
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR,
        metavar="DIR",
        help=f"where the databases live (default ./{DEFAULT_DATA_DIR})",
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"Bolt port (default {DEFAULT_PORT})"
    )
    parser.add_argument(
        "--password",
        default=None,
        help="the neo4j user's password (default: the previous one for this folder, else random)",
    )
    parser.add_argument("--heap", default="1g", help="JVM heap (default 1g)")
    parser.add_argument("--pagecache", default="512m", help="Neo4j page cache (default 512m)")
    parser.set_defaults(func=_neo4j)


def store_url(server: neo4j_local.LocalNeo4j) -> str:
    """The ``--store`` URL for a running local server."""
    user = quote(server.user, safe="")
    password = quote(server.password, safe="")
    return f"neo4j://{user}:{password}@127.0.0.1:{server.port}"


def describe(server: neo4j_local.LocalNeo4j) -> str:
    """How to reach a running server, and what to do next."""
    url = store_url(server)
    return "\n".join(
        [
            f"Neo4j 5.26 is running (pid {server.pid}), data in {server.data_dir}",
            f"  Bolt URL:  {server.uri}",
            f"  user:      {server.user}",
            f"  password:  {server.password}",
            f"  store URL: {url}",
            "",
            f"Load the demo network:  contribnet demo --store {url}",
            f"Run a library query:    contribnet query cross_brand_referrals --store {url}",
            f"Or for this shell:      export CONTRIBNET_STORE={url}",
            f"Stop it:                contribnet neo4j stop --data-dir {server.data_dir}",
        ]
    )


def _neo4j(args: argparse.Namespace) -> int:
    data_dir = args.data_dir.resolve()
    if args.action == "start":
        running = neo4j_local.status(data_dir)
        if running is not None:
            print("already running")
            print(describe(running))
            return 0
        print(f"starting Neo4j for {data_dir} (the first start builds it; it can take minutes) ...")
        server = neo4j_local.start(
            data_dir,
            port=args.port,
            password=args.password,
            heap=args.heap,
            pagecache=args.pagecache,
        )
        print(describe(server))
        return 0
    if args.action == "status":
        found = neo4j_local.status(data_dir)
        if found is None:
            print(f"no Neo4j running for {data_dir}")
            return 1
        print(describe(found))
        return 0
    if neo4j_local.stop(data_dir):
        print(f"stopped the Neo4j of {data_dir}")
    else:
        print(f"no Neo4j running for {data_dir}")
    return 0

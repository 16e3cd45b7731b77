"""``contribnet serve``: the API (and the leaders' page) on a port."""

from __future__ import annotations

import argparse
import os
from typing import Any

from contribnet.cli.common import add_store_option, settings_from
from contribnet.process import tune_gc


def register(subparsers: Any) -> None:
    serve = subparsers.add_parser("serve", help="serve the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="server processes (default 1); on Neo4j, one per core serves reads in parallel",
    )
    add_store_option(serve)
    serve.set_defaults(func=_serve)


def served_app() -> Any:
    """The app each process of ``contribnet serve`` builds, with settings from the environment."""
    from contribnet.api.app import create_app

    tune_gc()
    return create_app()


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = settings_from(args)
    url = f"http://{args.host}:{args.port}"
    print(f"contribnet API on {url}  (docs: {url}/docs)")
    print(f"store: {settings.store_url}")
    if args.workers < 1:
        raise SystemExit("contribnet serve: --workers must be at least 1")
    # Each server process builds its app from the environment, so the settings travel there.
    os.environ["CONTRIBNET_STORE"] = settings.store_url
    os.environ["CONTRIBNET_STAGES"] = ",".join(settings.stages)
    if settings.admin_key:
        os.environ["CONTRIBNET_ADMIN_KEY"] = settings.admin_key
    uvicorn.run(
        "contribnet.cli.serve:served_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="warning",
    )
    return 0

"""``contribnet serve``: the API (and the leaders' page) on a port."""

from __future__ import annotations

import argparse
from typing import Any

from contribnet.cli.common import add_store_option, settings_from


def register(subparsers: Any) -> None:
    serve = subparsers.add_parser("serve", help="serve the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    add_store_option(serve)
    serve.set_defaults(func=_serve)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from contribnet.api.app import create_app

    settings = settings_from(args)
    print(f"contribnet API on http://{args.host}:{args.port}  (docs: http://{args.host}:{args.port}/docs)")
    print(f"store: {settings.store_url}")
    uvicorn.run(create_app(settings=settings), host=args.host, port=args.port, log_level="warning")
    return 0

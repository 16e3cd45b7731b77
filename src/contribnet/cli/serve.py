"""``contribnet serve``: the API (and the leaders' page) on a port."""

from __future__ import annotations

import argparse
import faulthandler
import os
import shutil
import signal
import socket
import tempfile
from typing import Any

from contribnet.cli.common import add_store_option, settings_from
from contribnet.domain.errors import ContribnetError
from contribnet.process import tune_gc
from contribnet.settings import Settings, redacted_url

#: How each server process logs (``--log-format``), passed to it through the environment.
LOG_FORMAT_ENV = "CONTRIBNET_LOG_FORMAT"


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
    serve.add_argument(
        "--log-format",
        choices=("text", "json"),
        default=Settings().log_format,
        help="logs on stderr, an access line per request: text lines or JSON lines (default text)",
    )
    add_store_option(serve)
    serve.set_defaults(func=_serve)


def served_app() -> Any:
    """The app each process of ``contribnet serve`` builds, with settings from the environment."""
    from contribnet.api.app import create_app
    from contribnet.api.observability import configure_logging

    configure_logging(Settings().log_format)
    tune_gc()
    dump_stacks_on_signal()
    return create_app()


def dump_stacks_on_signal() -> None:
    """``kill -USR1 PID`` makes this server process write every thread's stack to stderr and
    go on serving: where a request that never answers is waiting, without a debugger."""
    if hasattr(signal, "SIGUSR1"):  # not on Windows
        faulthandler.register(signal.SIGUSR1, all_threads=True, chain=False)


def _check_port(host: str, port: int) -> None:
    """Refuse a port this process cannot listen on (another server on it, a bad address)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ContribnetError(
                f"--port {port}: cannot listen on {host}:{port} ({exc.strerror or exc}); "
                "is another server running there?"
            ) from None


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from contribnet.api.observability import configure_logging

    settings = settings_from(args)
    if args.workers < 1:
        raise ContribnetError("--workers must be at least 1")
    _check_port(args.host, args.port)  # before announcing a URL nobody will answer on
    url = f"http://{args.host}:{args.port}"
    print(f"contribnet API on {url}  (docs: {url}/docs)")
    print(f"store: {redacted_url(settings.store_url)}")
    os.environ[LOG_FORMAT_ENV] = args.log_format
    configure_logging(args.log_format)
    # Each server process builds its app from the environment, so the settings travel there.
    os.environ["CONTRIBNET_STORE"] = settings.store_url
    os.environ["CONTRIBNET_STAGES"] = ",".join(settings.stages)
    os.environ["CONTRIBNET_ACTIONS"] = ",".join(settings.actions)
    if settings.admin_key:
        os.environ["CONTRIBNET_ADMIN_KEY"] = settings.admin_key.get_secret_value()
    if settings.key_pepper:
        os.environ["CONTRIBNET_KEY_PEPPER"] = settings.key_pepper.get_secret_value()
    # Several processes: each writes its metrics to a fresh folder that /metrics sums up.
    metrics_dir = tempfile.mkdtemp(prefix="contribnet-metrics-") if args.workers > 1 else None
    if metrics_dir:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        uvicorn.run(
            "contribnet.cli.serve:served_app",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level="warning",
            log_config=None,  # uvicorn's own lines go through configure_logging's handler
            access_log=False,  # contribnet.access logs each request, with its request id
        )
    finally:
        if metrics_dir:
            shutil.rmtree(metrics_dir, ignore_errors=True)
    return 0

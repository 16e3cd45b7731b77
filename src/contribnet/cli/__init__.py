"""The ``contribnet`` command line: one sub-command module each, registered below."""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import logging
import sqlite3
import sys
import traceback
from collections.abc import Sequence

from contribnet import __version__
from contribnet.domain.errors import ContribnetError
from contribnet.settings import Settings

# Each module exposes ``register(subparsers)``; its parsers set ``func(args) -> int``.
_COMMAND_MODULES = (
    "contribnet.cli.events",
    "contribnet.cli.serve",
    "contribnet.cli.keys",
    "contribnet.cli.credit",
    "contribnet.cli.demo",
    "contribnet.cli.neo4j",
    "contribnet.cli.settle",
    "contribnet.cli.verify",
    "contribnet.cli.query",
    "contribnet.cli.scale",
    "contribnet.cli.flags",
    "contribnet.cli.profiles",
    "contribnet.cli.audit",
    "contribnet.cli.leads",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="contribnet",
        description="Record contributions along car buyers' journeys and split each deal's credit.",
    )
    parser.add_argument("--version", action="version", version=f"contribnet {_version()}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue  # a command whose module is not built yet
        module.register(subparsers)
    return parser


def _version() -> str:
    try:
        return importlib.metadata.version("contribnet")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree, not installed
        return __version__


def _error(message: str) -> int:
    print(f"contribnet: error: {message}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; every failure is one line on stderr and exit status 2, never a traceback
    (``CONTRIBNET_DEBUG=1`` shows it for an unexpected one); Ctrl-C exits 130."""
    args = build_parser().parse_args(argv)
    # The driver's warnings (e.g. "Unable to retrieve routing information") would repeat the
    # error message below when no logging is configured.
    logging.getLogger("neo4j").addHandler(logging.NullHandler())
    try:
        return int(args.func(args) or 0)
    except ContribnetError as exc:
        return _error(str(exc))
    except KeyboardInterrupt:
        print("contribnet: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if Settings().debug:
            traceback.print_exc()
        return _error(_describe(exc))


def _describe(exc: Exception) -> str:
    """A one-line account of an error no command turned into a message of its own."""
    module = type(exc).__module__ or ""
    if module.startswith("neo4j"):
        # ServiceUnavailable, AuthError...: the store URL named a Neo4j that does not answer.
        return f"the Neo4j store failed ({type(exc).__name__}): {exc}"
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else "")
    if isinstance(exc, sqlite3.Error):
        return f"the SQLite store failed ({type(exc).__name__}): {exc}"
    detail = f": {exc}" if str(exc) else ""
    return f"unexpected {type(exc).__name__}{detail} (CONTRIBNET_DEBUG=1 shows the traceback)"


if __name__ == "__main__":
    raise SystemExit(main())

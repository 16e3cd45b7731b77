"""The ``contribnet`` command line: one sub-command module each, registered below."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from contribnet.domain.errors import ContribnetError

# Each module exposes ``register(subparsers)``; its parsers set ``func(args) -> int``.
_COMMAND_MODULES = (
    "contribnet.cli.events",
    "contribnet.cli.serve",
    "contribnet.cli.keys",
    "contribnet.cli.credit",
    "contribnet.cli.demo",
    "contribnet.cli.neo4j",
    "contribnet.cli.settle",
    "contribnet.cli.query",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="contribnet",
        description="Record contributions along car buyers' journeys and split each deal's credit.",
    )
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


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ContribnetError as exc:
        print(f"contribnet: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())

"""What the sub-commands share: the ``--store`` option and opening the store it names."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager

from contribnet.settings import Settings
from contribnet.store import Store, open_store


def add_store_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        default=None,
        metavar="URL",
        help="sqlite:///path.db or neo4j://user:pass@host:7687 (default: $CONTRIBNET_STORE, "
        "else sqlite:///./contribnet.db)",
    )


def settings_from(args: argparse.Namespace) -> Settings:
    settings = Settings.from_env()
    if getattr(args, "store", None):
        settings = dataclasses.replace(settings, store_url=args.store)
    return settings


@contextmanager
def opened_store(args: argparse.Namespace) -> Iterator[Store]:
    store = open_store(settings_from(args).store_url)
    try:
        yield store
    finally:
        store.close()

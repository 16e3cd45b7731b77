"""What the sub-commands share: the ``--store`` option and opening the store it names."""

from __future__ import annotations

import argparse
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
    """The environment's settings (``SettingsError``, exit 2, for a bad value), ``--store``
    overriding ``CONTRIBNET_STORE``."""
    settings = Settings.from_env()
    if getattr(args, "store", None):
        settings = settings.model_copy(update={"store_url": args.store})
    return settings


@contextmanager
def opened_store(args: argparse.Namespace, *, create: bool = False) -> Iterator[Store]:
    """The store of ``--store``; only commands that write pass ``create=True``: a read of a
    mistyped SQLite path says "no database at PATH" instead of creating it (and its folders)."""
    store = open_store(settings_from(args).store_url, create=create)
    try:
        yield store
    finally:
        store.close()

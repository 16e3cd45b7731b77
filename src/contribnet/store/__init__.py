"""Stores: the ``Store`` port and its adapters, chosen by URL; each holds its ``Ledger``."""

from __future__ import annotations

from pathlib import Path

from contribnet.domain.errors import ContribnetError
from contribnet.store.base import IngestResult, Ledger, RecordedEvent, Store

__all__ = [
    "IngestResult",
    "Ledger",
    "NoDatabase",
    "RecordedEvent",
    "Store",
    "StoreUrlError",
    "open_store",
]


class StoreUrlError(ContribnetError, ValueError):
    """The store URL names no kind of store contribnet knows."""


class NoDatabase(ContribnetError):
    """A read was asked of a SQLite file that does not exist (it is not created for a read)."""

    def __init__(self, path: str) -> None:
        super().__init__(f"no database at {path} (check --store or $CONTRIBNET_STORE)")
        self.path = path


def open_store(url: str, *, create: bool = True) -> Store:
    """Open the store a URL names.

    ``sqlite:///path/to.db`` (relative), ``sqlite:////abs/path.db``, ``sqlite://:memory:``, or
    ``neo4j://user:pass@host:7687`` (``bolt://`` too). With ``create=False`` (commands that only
    read) a missing SQLite file raises :class:`NoDatabase` instead of being created, folders and
    all.
    """
    if url.startswith("sqlite:"):
        from contribnet.store.sqlite import SqliteStore
        from contribnet.store.sqlite_connection import path_of

        path = path_of(url)
        if not create and path != ":memory:" and not Path(path).is_file():
            raise NoDatabase(path)
        return SqliteStore(url)
    if url.startswith(("neo4j://", "bolt://", "neo4j+s://", "bolt+s://")):
        from contribnet.store.neo4j import Neo4jStore

        return Neo4jStore(url)
    # Only the scheme is echoed: the rest of a URL may hold a password.
    scheme = url.partition("://")[0] if "://" in url else url.partition(":")[0]
    raise StoreUrlError(
        f"unknown store URL scheme {scheme!r}: use sqlite:///path.db or neo4j://user:pass@host:7687"
    )

"""Stores: the ``Store`` port and its adapters, chosen by URL."""

from __future__ import annotations

from contribnet.store.base import IngestResult, RecordedEvent, Store

__all__ = ["IngestResult", "RecordedEvent", "Store", "open_store"]


def open_store(url: str) -> Store:
    """Open the store a URL names.

    ``sqlite:///path/to.db`` (relative), ``sqlite:////abs/path.db``, ``sqlite://:memory:``, or
    ``neo4j://user:pass@host:7687`` (``bolt://`` too).
    """
    if url.startswith("sqlite:"):
        from contribnet.store.sqlite import SqliteStore

        return SqliteStore(url)
    if url.startswith(("neo4j://", "bolt://", "neo4j+s://", "bolt+s://")):
        from contribnet.store.neo4j import Neo4jStore

        return Neo4jStore(url)
    raise ValueError(
        f"unknown store URL {url!r}: use sqlite:///path.db or neo4j://user:pass@host:7687"
    )

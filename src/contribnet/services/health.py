"""Readiness: does the store answer a cheap query, and is its schema applied?"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from contribnet.store.base import Store

__all__ = ["not_ready"]

#: An event key no event has: looking it up is an index seek that finds nothing.
_PROBE_KEY = "contribnet-readiness-probe"


def not_ready(store: Store) -> str | None:
    """Why the store cannot serve requests now, or ``None`` when it can."""
    try:
        store.stored_hashes([_PROBE_KEY])
        # Stores whose schema can go missing under a running server (Neo4j) say what is missing;
        # SQLite creates its tables when it opens the file.
        missing_schema = cast(
            Callable[[], list[str]] | None, getattr(store, "missing_schema", None)
        )
        missing = missing_schema() if missing_schema is not None else []
    except Exception as exc:  # whatever the driver raises, /ready reports it, never a 500
        return f"the store does not answer: {type(exc).__name__}: {exc}"
    if missing:
        return f"the store's schema is not applied: missing {', '.join(missing)}"
    return None

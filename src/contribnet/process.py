"""Settings of the running process, for processes that contribnet owns (servers, batch workers)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["fewer_gc_pauses", "tune_gc"]

#: Collector thresholds: allocations between young collections (CPython's default is 700), then
#: young collections per middle one and middle per full one.
_THRESHOLDS = (100_000, 50, 100)


def tune_gc() -> None:
    """Make the cyclic garbage collector run far less often.

    An ingest batch or a settled deal leaves tens of thousands of short-lived objects (events,
    rows, touches, explanations), almost none in reference cycles, so reference counting frees
    them; the collector's default threshold (700 new objects) would still rescan the young ones
    many times per batch, a tenth to a fifth of the time. What is loaded at start-up (modules,
    schemas, policies) is frozen out of its scans. Only for processes contribnet runs itself: a
    library caller keeps its own settings.
    """
    gc.freeze()
    gc.set_threshold(*_THRESHOLDS)


@contextmanager
def fewer_gc_pauses() -> Iterator[None]:
    """:func:`tune_gc`'s thresholds for the length of a block (e.g. streaming a big network into a
    store), the old ones back after."""
    old = gc.get_threshold()
    gc.set_threshold(*_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*old)

"""100,000 events in batches, then all of them again: exactly one copy of each."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from contribnet.services.ingest import ingest_stream
from contribnet.store import Store

N_TOUCHES = 100_000 - 60  # plus 10 staff, 50 customers


def _events() -> Iterator[dict[str, Any]]:
    yield from (
        {"type": "staff", "id": f"sf-{i}", "name": f"S{i}", "store": "st-a", "role": "advisor"}
        for i in range(10)
    )
    yield from ({"type": "customer", "id": f"c-{i}"} for i in range(50))
    for i in range(N_TOUCHES):
        yield {
            "type": "touch",
            "id": f"t-{i}",
            "at": f"2025-01-{1 + i % 28:02d}T{i % 24:02d}:00:00Z",
            "customer": f"c-{i % 50}",
            "staff": f"sf-{i % 10}",
            "store": "st-a",
            "stage": "consultation",
        }


def test_hundred_thousand_events_sent_twice(store: Store) -> None:
    first = ingest_stream(store, _events(), batch_size=10_000)
    assert (first.accepted, first.duplicates) == (100_000, 0)
    second = ingest_stream(store, _events(), batch_size=7_000)  # other batch boundaries
    assert (second.accepted, second.duplicates) == (0, 100_000)
    assert store.count_events() == {"customer": 50, "staff": 10, "touch": N_TOUCHES}
    touches = sum(len(store.journey(f"c-{i}").touches) for i in range(50))
    assert touches == N_TOUCHES

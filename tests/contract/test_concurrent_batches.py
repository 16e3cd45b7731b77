"""Concurrent idempotency on both stores (issue #13, finding 3): clients posting the same new
batch at once all succeed (one accepts it, the rest count duplicates); the same ids with other
content give exactly one success and ConflictErrors (409), never a store error (400)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from contribnet.domain.errors import ConflictError
from contribnet.services.ingest import ingest_events
from contribnet.store import Store, open_store

CLIENTS = 4
ROUNDS = 5


def _batch(round_: int, channel: str = "walk-in") -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = [
        {"type": "customer", "id": f"c-race-{round_}", "city": "Shanghai"},
        {
            "type": "staff",
            "id": f"sf-race-{round_}",
            "name": "Race",
            "store": "st-race",
            "role": "advisor",
        },
    ]
    events += [
        {
            "type": "touch",
            "id": f"t-race-{round_}-{n}",
            "at": f"2025-01-0{1 + n % 9}T02:00:00Z",
            "customer": f"c-race-{round_}",
            "staff": f"sf-race-{round_}",
            "store": "st-race",
            "stage": "reception",
            "channel": channel,
        }
        for n in range(20)
    ]
    events.append(
        {
            "type": "deal",
            "id": f"d-race-{round_}",
            "customer": f"c-race-{round_}",
            "store": "st-race",
            "staff": f"sf-race-{round_}",
            "closed_at": "2025-01-20T00:00:00Z",
            "amount": 1_000_000,
            "reward_pool": 10_000,
        }
    )
    return events


def _race(url: str, work: Callable[[Store, int], Any]) -> list[Any]:
    stores = [open_store(url) for _ in range(CLIENTS)]
    barrier = threading.Barrier(CLIENTS)
    results: list[Any] = [None] * CLIENTS

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(stores[i], i)
        except Exception as exc:  # asserted on below
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(CLIENTS)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        for s in stores:
            s.close()
    return results


@pytest.fixture
def url(store: Store, tmp_path: Any, request: pytest.FixtureRequest) -> str:
    """A URL of the (empty) store under test, for connections of the clients' own."""
    if hasattr(store, "_driver"):
        server = request.getfixturevalue("neo4j_server")
        parts = urlsplit(server.uri)
        auth = f"{quote(server.user)}:{quote(server.password, safe='')}"
        return f"{parts.scheme}://{auth}@{parts.hostname}:{parts.port}"
    return f"sqlite:///{tmp_path / 'contract.db'}"


def test_identical_batches_at_once_all_succeed(store: Store, url: str) -> None:
    for round_ in range(ROUNDS):
        batch = _batch(round_)
        results = _race(url, lambda s, _, batch=batch: ingest_events(s, batch))
        assert all(not isinstance(r, Exception) for r in results), results
        assert sum(r.accepted for r in results) == len(batch)
        assert all(r.accepted + r.duplicates == len(batch) for r in results)
    assert sum(store.count_events().values()) == ROUNDS * len(_batch(0))


def test_conflicting_batches_at_once_give_one_success_and_conflicts(store: Store, url: str) -> None:
    for round_ in range(ROUNDS):
        batches = [_batch(round_, f"channel-{i}") for i in range(CLIENTS)]
        results = _race(url, lambda s, i, batches=batches: ingest_events(s, batches[i]))
        kinds = Counter(type(r).__name__ for r in results)
        assert kinds == {"IngestResult": 1, "ConflictError": CLIENTS - 1}, results
        assert all(r.ids for r in results if isinstance(r, ConflictError))

"""A batch settlement never stops for one bad deal: the deal is "could not be settled", with its
reason, and the run goes on. Only an unreachable store stops it (a rerun continues). Every test
runs on SQLite and on a real Neo4j; on Neo4j a deal whose stored record is really broken fails
alone too."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import neo4j
import pytest
from neo4j.exceptions import ServiceUnavailable, TransientError
from tests.contract.conftest import _wipe

from contribnet.services import settlement as settlement_service
from contribnet.services.ingest import ingest_events
from contribnet.services.policies import ensure_default_policy
from contribnet.services.settlement import settle_period
from contribnet.store import Store, open_store

DEALS = 6
POISONED = "d-2"


def _events() -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = [
        {"type": "brand", "id": "nio", "name": "NIO"},
        {
            "type": "store",
            "id": "st-1",
            "name": "NIO House",
            "brand": "nio",
            "city": "Shanghai",
            "region": "East",
        },
        {"type": "staff", "id": "sf-1", "name": "One", "store": "st-1", "role": "advisor"},
        {"type": "staff", "id": "sf-2", "name": "Two", "store": "st-1", "role": "advisor"},
    ]
    for i in range(DEALS):
        events += [
            {"type": "customer", "id": f"c-{i}"},
            {
                "type": "touch",
                "id": f"t-{i}",
                "at": f"2025-01-{i + 2:02d}T10:00:00Z",
                "customer": f"c-{i}",
                "staff": "sf-1",
                "store": "st-1",
                "stage": "test_drive",
            },
            {
                "type": "deal",
                "id": f"d-{i}",
                "customer": f"c-{i}",
                "store": "st-1",
                "staff": "sf-2",
                "closed_at": f"2025-01-{i + 10:02d}T10:00:00Z",
                "amount": 25_000_000,
                "reward_pool": 400_000,
            },
        ]
    return events


@pytest.fixture(params=["sqlite", "neo4j"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "neo4j":
        _wipe(request.getfixturevalue("neo4j_driver"))  # an empty graph, the schema kept
        store = open_store(request.getfixturevalue("neo4j_server").store_url)
    else:
        store = open_store(f"sqlite:///{tmp_path / 'ledger.db'}")
    ingest_events(store, _events())
    ensure_default_policy(store)
    yield store
    store.close()


def _run(store: Store, chunk: int = 4) -> Any:
    last = None
    for step in settle_period(store, None, None, requested_by="test", chunk=chunk):
        last = step
    return last


def _settled(store: Store) -> set[str]:
    return {s.deal for s in store.ledger.current_settlements()}


def test_one_deal_failing_to_compute_is_listed_and_the_run_goes_on(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = settlement_service.compute_split

    def compute(journey: Any, *args: Any, **kwargs: Any) -> Any:
        if journey.deal.id == POISONED:
            raise ValueError("a bug met this deal")
        return real(journey, *args, **kwargs)

    monkeypatch.setattr(settlement_service, "compute_split", compute)
    done = _run(store)
    assert done.finished
    assert (done.total, done.created, done.failures) == (DEALS, DEALS - 1, 1)
    assert done.failed == [(POISONED, "ValueError: a bug met this deal")]
    assert _settled(store) == {f"d-{i}" for i in range(DEALS)} - {POISONED}
    monkeypatch.setattr(settlement_service, "compute_split", real)
    again = _run(store)  # a rerun settles what is left
    assert (again.total, again.created, again.failures) == (1, 1, 0)


def test_a_chunk_whose_journeys_cannot_be_read_is_read_deal_by_deal(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As on Neo4j, where one poisoned journey ran the server out of memory at the same chunk
    on every rerun: only that deal fails."""
    real = store.deal_journeys

    def deal_journeys(deal_ids: Sequence[str]) -> Any:
        if POISONED in deal_ids:
            raise TransientError("Neo.TransientError.General.OutOfMemoryError")
        return real(deal_ids)

    monkeypatch.setattr(store, "deal_journeys", deal_journeys)
    done = _run(store)
    assert done.finished and done.created == DEALS - 1 and done.failures == 1
    deal, reason = done.failed[0]
    assert deal == POISONED and "could not be read" in reason and "OutOfMemory" in reason
    assert _settled(store) == {f"d-{i}" for i in range(DEALS)} - {POISONED}


def test_an_unreachable_store_stops_the_run(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    def deal_journeys(deal_ids: Sequence[str]) -> Any:
        raise ServiceUnavailable("connection lost")

    monkeypatch.setattr(store, "deal_journeys", deal_journeys)
    with pytest.raises(ServiceUnavailable):
        _run(store)
    assert _settled(store) == set()


@pytest.mark.neo4j
@pytest.mark.parametrize("store", ["neo4j"], indirect=True)
def test_a_deal_whose_stored_record_is_broken_fails_alone_on_neo4j(
    store: Store, neo4j_driver: neo4j.Driver
) -> None:
    """No monkeypatch: the deal's event in the real graph holds a payload that is not JSON (a
    record written by hand, a bad migration), so reading that deal's journey fails on every run,
    in the chunk read and alone. The other deals are settled; the run finishes."""
    neo4j_driver.execute_query(
        "MATCH (e:Event {key: $key}) SET e.payload = '{not json'", key=POISONED, database_="neo4j"
    )
    done = _run(store)
    assert done.finished and done.created == DEALS - 1 and done.failures == 1
    deal, reason = done.failed[0]
    assert deal == POISONED and "could not be read" in reason
    assert _settled(store) == {f"d-{i}" for i in range(DEALS)} - {POISONED}
    again = _run(store)  # the broken deal fails again, alone; nothing is settled twice
    assert (again.total, again.created, again.failures) == (1, 0, 1)

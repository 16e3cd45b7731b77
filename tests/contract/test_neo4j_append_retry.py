"""A batch that outlives Neo4j's transaction timeout is rolled back whole and tried again."""

from __future__ import annotations

from typing import Any

import neo4j
import pytest

import contribnet.store.neo4j as store_module
from contribnet.services.ingest import ingest_events
from contribnet.store import Store

TIMED_OUT = "Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration"


def _touch(i: int) -> dict[str, Any]:
    return {
        "type": "touch",
        "id": f"t-r{i}",
        "at": "2025-01-02T00:00:00Z",
        "customer": "c-r",
        "staff": "sf-r",
        "store": "st-r",
        "stage": "consultation",
    }


def _timed_out() -> neo4j.exceptions.ClientError:
    return neo4j.exceptions.ClientError._hydrate_neo4j(code=TIMED_OUT, message="timed out")


def test_a_timed_out_batch_is_sent_again_and_written_once(
    neo4j_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_append = store_module._append
    calls = []

    def times_out_twice(tx: Any, events: Any) -> int:
        calls.append(len(events))
        written = real_append(tx, events)  # really written in this transaction ...
        if len(calls) < 3:  # ... which the "server" then ends, as a timeout does, twice
            raise _timed_out()
        return written

    monkeypatch.setattr(store_module, "_append", times_out_twice)
    result = ingest_events(neo4j_store, [_touch(i) for i in range(5)])
    assert (result.accepted, result.duplicates) == (5, 0)
    assert calls == [5, 5, 5]
    assert neo4j_store.count_events() == {"touch": 5}


@pytest.mark.parametrize(
    ("error", "tries"),
    [
        (_timed_out, 3),  # the timeout keeps ending it: the caller hears of it after 3 tries
        (
            lambda: neo4j.exceptions.ClientError._hydrate_neo4j(
                code="Neo.ClientError.Statement.SyntaxError", message="no"
            ),
            1,  # any other client error: at once
        ),
    ],
)
def test_a_batch_that_keeps_failing_is_refused_and_writes_nothing(
    neo4j_store: Store, monkeypatch: pytest.MonkeyPatch, error: Any, tries: int
) -> None:
    calls = []

    def fails(tx: Any, events: Any) -> int:
        calls.append(len(events))
        raise error()

    monkeypatch.setattr(store_module, "_append", fails)
    with pytest.raises(neo4j.exceptions.ClientError):
        ingest_events(neo4j_store, [_touch(0)])
    assert calls == [1] * tries
    assert neo4j_store.count_events() == {}

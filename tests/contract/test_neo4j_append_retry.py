"""A batch that outlives Neo4j's transaction timeout is rolled back whole and sent once more."""

from __future__ import annotations

from typing import Any

import neo4j
import pytest
from tests.contract.conftest import _wipe, neo4j_url

import contribnet.store.neo4j as neo4j_store
from contribnet.services.ingest import ingest_events
from contribnet.store import open_store

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


def test_a_timed_out_batch_is_sent_again_and_written_once(
    neo4j_server: Any, neo4j_driver: neo4j.Driver, monkeypatch: pytest.MonkeyPatch
) -> None:
    _wipe(neo4j_driver)
    store = open_store(neo4j_url(neo4j_server.uri, neo4j_server.user, neo4j_server.password))
    real_append = neo4j_store._append
    calls = []

    def times_out_once(tx: Any, events: Any) -> int:
        calls.append(len(events))
        written = real_append(tx, events)  # really written in this transaction ...
        if len(calls) < 3:  # ... which the "server" then ends, as a timeout does, twice
            raise neo4j.exceptions.ClientError._hydrate_neo4j(code=TIMED_OUT, message="timed out")
        return written

    monkeypatch.setattr(neo4j_store, "_append", times_out_once)
    try:
        result = ingest_events(store, [_touch(i) for i in range(5)])
        assert (result.accepted, result.duplicates) == (5, 0)
        assert calls == [5, 5, 5]
        assert store.count_events() == {"touch": 5}
    finally:
        store.close()


def test_other_client_errors_are_not_retried(
    neo4j_server: Any, neo4j_driver: neo4j.Driver, monkeypatch: pytest.MonkeyPatch
) -> None:
    _wipe(neo4j_driver)
    store = open_store(neo4j_url(neo4j_server.uri, neo4j_server.user, neo4j_server.password))
    calls = []

    def refuses(tx: Any, events: Any) -> int:
        calls.append(len(events))
        raise neo4j.exceptions.ClientError._hydrate_neo4j(
            code="Neo.ClientError.Statement.SyntaxError", message="no"
        )

    monkeypatch.setattr(neo4j_store, "_append", refuses)
    try:
        with pytest.raises(neo4j.exceptions.ClientError):
            ingest_events(store, [_touch(0)])
        assert calls == [1]
        assert store.count_events() == {}
    finally:
        store.close()


def test_a_batch_that_keeps_timing_out_is_refused_after_three_tries(
    neo4j_server: Any, neo4j_driver: neo4j.Driver, monkeypatch: pytest.MonkeyPatch
) -> None:
    _wipe(neo4j_driver)
    store = open_store(neo4j_url(neo4j_server.uri, neo4j_server.user, neo4j_server.password))
    calls = []

    def always_times_out(tx: Any, events: Any) -> int:
        calls.append(len(events))
        raise neo4j.exceptions.ClientError._hydrate_neo4j(code=TIMED_OUT, message="timed out")

    monkeypatch.setattr(neo4j_store, "_append", always_times_out)
    try:
        with pytest.raises(neo4j.exceptions.ClientError):
            ingest_events(store, [_touch(0)])
        assert calls == [1, 1, 1]
        assert store.count_events() == {}
    finally:
        store.close()

"""Writes on Neo4j run in transactions that are left alone once the driver or Neo4j failed
inside them (``store.neo4j_retry.in_transaction``): the driver has already reset that connection
and handed it to the pool, and checking it afterwards (as the driver's own managed transactions
do when they roll back) reads a byte of another thread's reply -- which stalled that thread until
its connection was dropped, or made it read garbage (a 500)."""

from __future__ import annotations

import logging
import threading
import uuid
from typing import Any

import neo4j
import pytest
from neo4j._sync.io._bolt._base import Bolt
from tests.conftest import Neo4jServer
from tests.contract.conftest import _wipe

from contribnet.domain.errors import ConflictError
from contribnet.services.ingest import ingest_events
from contribnet.store.neo4j import Neo4jStore
from contribnet.store.neo4j_retry import in_transaction, write

pytestmark = pytest.mark.neo4j


@pytest.fixture
def driver(neo4j_server: Neo4jServer, neo4j_driver: neo4j.Driver) -> neo4j.Driver:
    """The session's driver, on an empty graph with the store's schema (its unique keys)."""
    _wipe(neo4j_driver)
    Neo4jStore(neo4j_server.store_url).close()
    return neo4j_driver


@pytest.fixture
def checks_of_pooled_connections(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Each time a connection is asked whether it is defunct (a peek at its socket) while it
    is not in use by whoever asks -- back in the pool, or already another thread's."""
    seen: list[bool] = []
    defunct = Bolt.defunct

    def watched(self: Bolt) -> bool:
        if not self.in_use:
            seen.append(True)
        return defunct(self)

    monkeypatch.setattr(Bolt, "defunct", watched)
    return seen


def _duplicate_key(tx: neo4j.Transaction, key: str) -> None:
    tx.run("CREATE (:Event {key: $key})", key=key).consume()


def test_a_statement_that_fails_leaves_its_connection_to_the_pool(
    driver: neo4j.Driver, checks_of_pooled_connections: list[bool]
) -> None:
    key = f"tx-{uuid.uuid4().hex}"
    driver.execute_query("CREATE (:Event {key: $key})", key=key, database_="neo4j")
    with (
        driver.session(database="neo4j") as session,
        pytest.raises(neo4j.exceptions.ConstraintError),
    ):
        in_transaction(session, _duplicate_key, key)
    assert checks_of_pooled_connections == []
    with driver.session(database="neo4j") as session:  # and the pool still works
        assert session.run("MATCH (e:Event {key: $key}) RETURN count(e)", key=key).single()[0] == 1


def test_an_error_of_the_work_rolls_back_on_its_own_connection(
    driver: neo4j.Driver, checks_of_pooled_connections: list[bool]
) -> None:
    key = f"tx-{uuid.uuid4().hex}"

    def create_then_refuse(tx: neo4j.Transaction) -> None:
        tx.run("CREATE (:Event {key: $key})", key=key).consume()
        raise ValueError("refused after writing")

    with driver.session(database="neo4j") as session, pytest.raises(ValueError, match="refused"):
        in_transaction(session, create_then_refuse)
    records, _, _ = driver.execute_query(
        "MATCH (e:Event {key: $key}) RETURN count(e)", key=key, database_="neo4j"
    )
    assert records[0][0] == 0  # rolled back
    assert checks_of_pooled_connections == []


def test_racing_batches_break_no_connection(
    neo4j_server: Neo4jServer, driver: neo4j.Driver, caplog: pytest.LogCaptureFixture
) -> None:
    """24 threads send the same new batch (then 24 different ones under the same ids) at once,
    20 times: every call is answered as the rules say, and no connection is dropped as dead (a
    stolen reply byte leaves its reader waiting until the Bolt keep-alive drops it)."""
    from tests.api.test_races_http import _touches

    store = Neo4jStore(neo4j_server.store_url)
    caplog.set_level(logging.DEBUG, logger="neo4j.io")
    outcomes: list[Any] = []
    try:
        for round_ in range(20):
            prefix = uuid.uuid4().hex[:10]
            barrier = threading.Barrier(24)

            def send(
                i: int,
                prefix: str = prefix,
                same: bool = round_ % 2 == 0,
                barrier: threading.Barrier = barrier,
            ) -> None:
                batch = _touches(prefix, "walk-in" if same else f"channel-{i}")
                barrier.wait()
                try:
                    outcomes.append(ingest_events(store, batch).accepted)
                except ConflictError:
                    outcomes.append("409")
                except Exception as exc:  # asserted on below
                    outcomes.append(exc)

            threads = [threading.Thread(target=send, args=(i,)) for i in range(24)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    finally:
        store.close()
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert errors == []
    assert len(outcomes) == 20 * 24
    dropped = [r.getMessage() for r in caplog.records if "defunct" in r.getMessage()]
    assert dropped == []


def test_a_write_without_commit_is_retried_after_a_deadlock_and_rolled_back(
    driver: neo4j.Driver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``write(..., commit=False)`` -- the reader that waits on the writers' counter
    (``Neo4jStore._last_commit``) -- is run again when Neo4j picks it as a deadlock's victim,
    and whatever it wrote is rolled back."""
    monkeypatch.setattr("contribnet.store.neo4j_retry._FIRST_PAUSE", 0.001)
    key = f"tx-{uuid.uuid4().hex}"
    tries: list[int] = []

    def create_then_deadlock(tx: neo4j.Transaction) -> int:
        tx.run("CREATE (:Event {key: $key})", key=key).consume()
        tries.append(1)
        if len(tries) == 1:
            raise neo4j.exceptions.TransientError._hydrate_neo4j(
                code="Neo.TransientError.Transaction.DeadlockDetected", message="deadlock"
            )
        return len(tries)

    assert write(driver, "neo4j", create_then_deadlock, commit=False) == 2
    records, _, _ = driver.execute_query(
        "MATCH (e:Event {key: $key}) RETURN count(e)", key=key, database_="neo4j"
    )
    assert records[0][0] == 0  # rolled back, both times

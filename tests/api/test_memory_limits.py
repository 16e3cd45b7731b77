"""Issue #13: a retry hint only when a retry can succeed. Neo4j calls running out of memory a
*transient* error, but the same request needs the same memory and fails again: it is answered
422 naming the limit, without ``Retry-After`` -- never 503 "retry". A real outage, or a deadlock,
keeps its 503 and ``Retry-After``.

The mapping is checked with the driver's own exception classes, hydrated as the driver does from
a server's failure message, and then against a real Neo4j 5.26 of its own whose transactions may
use at most 16 MiB in all (``dbms.memory.transaction.total.max``): the shared test server keeps
its limits, so no other test changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from neo4j.exceptions import Neo4jError, ServiceUnavailable, TransientError

from contribnet import neo4j_local
from contribnet.api.app import create_app
from contribnet.settings import Settings
from contribnet.store import Store, open_store
from contribnet.store.errors import MEMORY_LIMIT_CODES

ADMIN = "m" * 40
POOL_MESSAGE = (
    "The allocation of an extra 2.0 MiB would use more than the limit 16.0 MiB. Currently using "
    "14.3 MiB. dbms.memory.transaction.total.max threshold reached"
)


def _server_error(code: str, message: str) -> Neo4jError:
    """The exception the driver raises for a server's FAILURE with this code and message."""
    return Neo4jError._hydrate_neo4j(code=code, message=message)


def _client(tmp_path: Path, error: Exception) -> TestClient:
    store = open_store(f"sqlite:///{tmp_path / 'm.db'}")

    def fail(*args: object, **kwargs: object) -> None:
        raise error

    store.append = fail  # type: ignore[method-assign]
    store.journey = fail  # type: ignore[method-assign]
    app = create_app(store=store, settings=Settings(admin_key=ADMIN))
    return TestClient(app, headers={"Authorization": f"Bearer {ADMIN}"})


@pytest.mark.parametrize("code", sorted(MEMORY_LIMIT_CODES))
def test_out_of_memory_is_a_limit_without_a_retry_hint(tmp_path: Path, code: str) -> None:
    error = _server_error(code, POOL_MESSAGE)
    if "TransientError" in code:
        assert isinstance(error, TransientError)  # what the driver makes of it
    with _client(tmp_path, error) as client:
        read = client.get("/v1/customers/c-1/journey")
        write = client.post("/v1/events", json={"events": [{"type": "customer", "id": "c-1"}]})
    for response in (read, write):
        assert response.status_code == 422, response.text
        assert "retry-after" not in response.headers
        body = response.json()
        assert body["errors"][0]["field"] == "request"
        assert "memory" in body["detail"] and "would fail again" in body["detail"]
        assert "dbms.memory.transaction.total.max" in body["detail"]  # the limit, named
        assert "16.0 MiB" in body["detail"]
        assert "Neo." not in response.text  # no driver internals
    assert "nothing was written" in write.json()["detail"]


@pytest.mark.parametrize(
    "error",
    [
        _server_error("Neo.TransientError.Transaction.DeadlockDetected", "deadlock"),
        _server_error("Neo.TransientError.General.DatabaseUnavailable", "starting"),
        ServiceUnavailable("gone"),
    ],
    ids=["deadlock", "database unavailable", "server gone"],
)
def test_a_retryable_failure_keeps_its_retry_hint(tmp_path: Path, error: Exception) -> None:
    with _client(tmp_path, error) as client:
        response = client.get("/v1/customers/c-1/journey")
    assert response.status_code == 503 and response.headers["retry-after"] == "5"


# --- a real Neo4j with a small transaction memory pool ------------------------------------------


@pytest.fixture(scope="module")
def small_neo4j(tmp_path_factory: pytest.TempPathFactory) -> Iterator[neo4j_local.LocalNeo4j]:
    data_dir = tmp_path_factory.mktemp("neo4j-small-memory")
    server = neo4j_local.start(
        data_dir,
        heap="384m",
        pagecache="16m",
        conf={"dbms.memory.transaction.total.max": "16m"},
        exit_with_caller=True,
    )
    try:
        yield server
    finally:
        neo4j_local.stop(data_dir)


@pytest.fixture(scope="module")
def small_client(small_neo4j: neo4j_local.LocalNeo4j) -> Iterator[tuple[TestClient, Store]]:
    url = f"neo4j://{small_neo4j.user}:{small_neo4j.password}@127.0.0.1:{small_neo4j.port}"
    store = open_store(url)
    app = create_app(store=store, settings=Settings(store_url=url, admin_key=ADMIN))
    try:
        with TestClient(app, headers={"Authorization": f"Bearer {ADMIN}"}) as client:
            yield client, store
    finally:
        store.close()


@pytest.mark.neo4j
def test_free_cypher_over_the_memory_limit_is_422_without_retry_after(small_client) -> None:
    client, _ = small_client
    response = client.post(
        "/v1/cypher",
        json={
            "query": "UNWIND range(1, $n) AS i WITH collect(i) AS xs RETURN size(xs) AS n",
            "params": {"n": 2_000_000},
        },
    )
    assert response.status_code == 422, response.text
    assert "retry-after" not in response.headers
    body = response.json()
    assert body["errors"][0]["field"] == "query"
    assert "dbms.memory.transaction.total.max" in body["detail"] and "16.0 MiB" in body["detail"]
    assert body["code"] == "Neo.TransientError.General.MemoryPoolOutOfMemoryError"
    # the same server answers a query within the limit: nothing was unavailable
    small = client.post("/v1/cypher", json={"query": "RETURN 1 AS one"})
    assert small.status_code == 200 and small.json()["rows"] == [{"one": 1}]


@pytest.mark.neo4j
def test_a_batch_over_the_memory_limit_is_422_without_retry_after(small_client) -> None:
    """A store call outside free Cypher (here an ingest batch whose one transaction needs more
    than the pool) goes through the application's error mapping: 422, no retry hint."""
    client, store = small_client
    evidence = [{"kind": "photo", "ref": "x" * 1_000}] * 4
    events = [
        {
            "type": "touch",
            "id": f"t-{i}",
            "at": "2025-01-05T10:00:00Z",
            "customer": f"c-{i % 100}",
            "staff": "sf-1",
            "store": "st-1",
            "stage": "test_drive",
            "evidence": evidence,
        }
        for i in range(3_000)
    ]
    response = client.post("/v1/events", json={"events": events})
    assert response.status_code == 422, response.text
    assert "retry-after" not in response.headers
    detail = response.json()["detail"]
    assert "dbms.memory.transaction.total.max" in detail and "nothing was written" in detail
    assert store.count_events() == {}

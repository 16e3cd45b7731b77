"""A store that fails is a 503 or 400 with a message, never a 500."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from neo4j.exceptions import ClientError, ServiceUnavailable

from contribnet.api.app import create_app
from contribnet.settings import Settings
from contribnet.store import open_store


def _client_with_failing_append(tmp_path: Path, error: Exception) -> TestClient:
    store = open_store(f"sqlite:///{tmp_path / 'e.db'}")

    def fail(events):  # the failure a Neo4j store raises when the server is gone or times out
        raise error

    store.append = fail  # type: ignore[method-assign]
    app = create_app(store=store, settings=Settings(admin_key="k"))
    return TestClient(app, headers={"Authorization": "Bearer k"}, raise_server_exceptions=False)


EVENT = {"type": "customer", "id": "c-1"}


def test_unavailable_store_is_503(tmp_path: Path) -> None:
    with _client_with_failing_append(tmp_path, ServiceUnavailable("gone")) as client:
        response = client.post("/v1/events", json={"events": [EVENT]})
    assert response.status_code == 503 and "nothing was written" in response.json()["detail"]


def test_timed_out_transaction_is_503(tmp_path: Path) -> None:
    error = ClientError._hydrate_neo4j(
        code="Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration",
        message="The transaction has been terminated.",
    )
    with _client_with_failing_append(tmp_path, error) as client:
        response = client.post("/v1/events", json={"events": [EVENT]})
    assert response.status_code == 503
    # no driver internals in the body (#13): a generic message and the request id to find them
    body = response.json()
    assert "code" not in body and "Neo" not in response.text and "terminated" not in response.text
    assert body["request_id"] == response.headers["x-request-id"]


def test_a_refused_store_call_carries_no_driver_internals(tmp_path: Path) -> None:
    error = ClientError._hydrate_neo4j(
        code="Neo.ClientError.Statement.SemanticError", message="secret internals at node 42"
    )
    with _client_with_failing_append(tmp_path, error) as client:
        response = client.post("/v1/events", json={"events": [EVENT]})
    assert response.status_code == 400
    assert "Neo." not in response.text and "internals" not in response.text
    assert response.json()["request_id"] == response.headers["x-request-id"]


def test_an_unavailable_store_names_no_address(tmp_path: Path) -> None:
    with _client_with_failing_append(tmp_path, ServiceUnavailable("10.0.0.7:7687 gone")) as c:
        response = c.post("/v1/events", json={"events": [EVENT]})
    assert response.status_code == 503 and "10.0.0.7" not in response.text

"""Documented limits (domain/limits.py), enforced before work is done: 413 or 422 naming them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from contribnet.api.app import create_app
from contribnet.api.limits import BodyLimit
from contribnet.domain.limits import (
    MAX_BODY_BYTES,
    MAX_CUSTOMERS_PER_HANDOVER,
    MAX_ERRORS_LISTED,
    MAX_EVIDENCE_BYTES,
    MAX_JSON_DEPTH,
    MAX_LINKS_PER_BATCH,
    MAX_TEXT_LENGTH,
)
from contribnet.domain.strict_json import JsonRefused, depth_exceeds, loads
from contribnet.settings import Settings
from contribnet.store import open_store
from contribnet.store.base import Store

TOUCH = {
    "type": "touch",
    "id": "t-1",
    "at": "2025-01-05T10:00:00Z",
    "customer": "c-1",
    "staff": "sf-1",
    "store": "st-1",
    "stage": "test_drive",
}
JSON = {"content-type": "application/json"}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = open_store(f"sqlite:///{tmp_path / 'api.db'}")
    yield store
    store.close()


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    app = create_app(store=store, settings=Settings(admin_key="test-admin"))
    with TestClient(
        app, headers={"Authorization": "Bearer test-admin"}, raise_server_exceptions=False
    ) as test_client:
        yield test_client


def _nothing_written(client: TestClient) -> None:
    assert client.get("/v1/customers/c-1/journey").status_code == 404


def _fields(response: Any) -> set[str]:
    return {e["field"] for e in response.json()["errors"]}


# --- the body size ---------------------------------------------------------------------------


def test_a_body_declared_over_the_limit_is_413_unread() -> None:
    """100 MB declared, 2 bytes sent: refused from the header, without a read of the body."""
    reads = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("the application must not be called")

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/events",
        "headers": [(b"content-length", str(100 * 1024 * 1024).encode())],
    }
    asyncio.run(BodyLimit(app)(scope, receive, send))
    assert reads == 0
    assert sent[0]["status"] == 413
    body = json.loads(sent[1]["body"])
    assert body["errors"][0]["field"] == "body"
    assert f"{MAX_BODY_BYTES:,} bytes" in body["detail"]


def test_a_declared_100_mb_body_is_413_through_the_app(client: TestClient) -> None:
    headers = {**JSON, "content-length": str(100 * 1024 * 1024)}
    response = client.post("/v1/events", content=b'{"events": []}', headers=headers)
    assert response.status_code == 413
    assert _fields(response) == {"body"}
    assert "request_id" in response.json()  # still wrapped by the request context
    _nothing_written(client)


def test_a_streamed_body_is_counted_and_refused_past_the_limit(client: TestClient) -> None:
    """No Content-Length (chunked): refused once the count passes the limit, nothing written."""
    chunk = b" " * (1024 * 1024)

    def body() -> Iterator[bytes]:
        yield b'{"events": [' + json.dumps(TOUCH).encode() + b"]"
        for _ in range(MAX_BODY_BYTES // len(chunk) + 1):
            yield chunk
        yield b"}"

    response = client.post("/v1/events", content=body(), headers=JSON)
    assert response.status_code == 413
    assert _fields(response) == {"body"}
    _nothing_written(client)


def test_a_body_under_the_limit_passes(client: TestClient) -> None:
    response = client.post("/v1/events", json={"events": [TOUCH]})
    assert response.status_code == 200, response.text


# --- JSON: depth, duplicate keys, parsed once ------------------------------------------------


def test_json_nested_50000_deep_is_422_not_500(client: TestClient) -> None:
    deep = b'{"events": [' + b"[" * 50_000 + b"]" * 50_000 + b"]}"
    response = client.post("/v1/events", content=deep, headers=JSON)
    assert response.status_code == 422
    assert f"{MAX_JSON_DEPTH} levels" in response.json()["detail"]


def test_json_just_past_the_depth_limit_is_422(client: TestClient) -> None:
    evidence: Any = 1
    for _ in range(MAX_JSON_DEPTH):
        evidence = {"x": evidence}
    response = client.post("/v1/events", json={"events": [dict(TOUCH, evidence=evidence)]})
    assert response.status_code == 422
    assert _fields(response) == {"body"}
    _nothing_written(client)
    shallow = [{"kind": "photo", "ref": "img-1", "location": "Shanghai"}]
    response = client.post("/v1/events", json={"events": [dict(TOUCH, evidence=shallow)]})
    assert response.status_code == 200, response.text


def test_duplicate_keys_are_422_naming_the_key(client: TestClient) -> None:
    body = b'{"events": [{"type": "customer", "id": "c-1", "id": "c-2"}]}'
    response = client.post("/v1/events", content=body, headers=JSON)
    assert response.status_code == 422
    assert _fields(response) == {"id"}
    assert "duplicate key 'id'" in response.json()["detail"]
    _nothing_written(client)


def test_strict_loads() -> None:
    assert loads(b'{"a": [1, {"b": 2}]}') == {"a": [1, {"b": 2}]}
    with pytest.raises(JsonRefused, match="duplicate key 'b'"):
        loads(b'{"a": {"b": 1, "b": 1}}')
    with pytest.raises(JsonRefused, match="not JSON"):
        loads(b'{"a": ')
    with pytest.raises(JsonRefused, match="3 levels"):
        loads(b"[[[[1]]]]", max_depth=3)
    assert loads(b"[[[1]]]", max_depth=3) == [[[1]]]
    assert not depth_exceeds(7, 1)
    assert depth_exceeds([[1]], 1) and not depth_exceeds([[1]], 2)


def test_bad_json_is_422_naming_the_body(client: TestClient) -> None:
    response = client.post("/v1/events", content=b'{"events": [', headers=JSON)
    assert response.status_code == 422
    assert _fields(response) == {"body"}


# --- field lengths and counts ----------------------------------------------------------------


def test_a_long_channel_is_422_naming_channel(client: TestClient) -> None:
    response = client.post(
        "/v1/events", json={"events": [dict(TOUCH, channel="x" * (MAX_TEXT_LENGTH + 1))]}
    )
    assert response.status_code == 422
    assert _fields(response) == {"channel"}
    _nothing_written(client)
    ok = client.post("/v1/events", json={"events": [dict(TOUCH, channel="x" * MAX_TEXT_LENGTH)]})
    assert ok.status_code == 200, ok.text


def test_long_names_are_422_naming_the_field(client: TestClient) -> None:
    brand = {"type": "brand", "id": "b-1", "name": "n" * (MAX_TEXT_LENGTH + 1)}
    response = client.post("/v1/events", json={"events": [brand]})
    assert response.status_code == 422
    assert _fields(response) == {"name"}


def test_large_evidence_is_422_naming_evidence(client: TestClient) -> None:
    evidence = [{"kind": "photo", "ref": "e" * 1_000}] * (MAX_EVIDENCE_BYTES // 1_000 + 1)
    response = client.post("/v1/events", json={"events": [dict(TOUCH, evidence=evidence)]})
    assert response.status_code == 422
    assert _fields(response) == {"evidence"}
    assert f"{MAX_EVIDENCE_BYTES:,}" in response.json()["detail"]
    _nothing_written(client)


def _handover(hid: str, customers: int) -> dict[str, Any]:
    return {
        "type": "handover",
        "id": hid,
        "at": "2025-01-05T10:00:00Z",
        "from_staff": "sf-1",
        "to_staff": "sf-2",
        "customers": [f"c-{i}" for i in range(customers)],
    }


def test_a_handover_with_too_many_customers_is_422(client: TestClient) -> None:
    response = client.post(
        "/v1/events", json={"events": [_handover("h-1", MAX_CUSTOMERS_PER_HANDOVER + 1)]}
    )
    assert response.status_code == 422
    assert _fields(response) == {"customers"}
    assert f"{MAX_CUSTOMERS_PER_HANDOVER}" in response.json()["detail"]
    ok = client.post("/v1/events", json={"events": [_handover("h-2", 3)]})
    assert ok.status_code == 200, ok.text


def test_too_many_links_in_one_batch_are_422_before_validation(client: TestClient) -> None:
    """A batch whose handovers link more customers than the limit is refused up front (not a
    503 whose retry could never succeed)."""
    count = MAX_LINKS_PER_BATCH // MAX_CUSTOMERS_PER_HANDOVER + 1
    events = [_handover(f"h-{i}", MAX_CUSTOMERS_PER_HANDOVER) for i in range(count)]
    response = client.post("/v1/events", json={"events": events})
    assert response.status_code == 422
    assert _fields(response) == {"events"}
    assert f"{MAX_LINKS_PER_BATCH:,}" in response.json()["detail"]
    assert "retry-after" not in response.headers


# --- the 422 itself is bounded ---------------------------------------------------------------


def test_a_422_lists_at_most_the_first_errors_once_and_counts_them_all(
    client: TestClient,
) -> None:
    deals = [
        {
            "type": "deal",
            "id": f"d-{i}",
            "customer": "c-1",
            "store": "st-1",
            "staff": "sf-1",
            "closed_at": "2025-01-06T00:00:00Z",
            "amount": -1,
            "reward_pool": 1,
        }
        for i in range(10_000)
    ]
    response = client.post("/v1/events", json={"events": deals})
    assert response.status_code == 422
    body = response.json()
    assert body["error_count"] == 10_000
    assert len(body["errors"]) == MAX_ERRORS_LISTED
    listed = [(e["index"], e["field"]) for e in body["errors"]]
    assert len(set(listed)) == len(listed)
    assert listed[0] == (0, "amount")
    assert len(response.content) < 64 * 1024


def test_the_nothing_written_check_sees_a_write(client: TestClient) -> None:
    """The check the refusals above rely on: a recorded touch makes the journey readable."""
    assert client.post("/v1/events", json={"events": [TOUCH]}).status_code == 200
    with pytest.raises(AssertionError):
        _nothing_written(client)

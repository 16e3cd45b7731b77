"""/health (the process is alive) and /ready (the store answers and its schema is applied)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from neo4j.exceptions import ServiceUnavailable

from contribnet.api.app import create_app
from contribnet.settings import Settings
from contribnet.store import Store, open_store

ADMIN = "health-test-admin-key-0123456789"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path / 'health.db'}")
    yield opened
    opened.close()


def _client(store: Store) -> TestClient:
    app = create_app(store=store, settings=Settings(admin_key=ADMIN))
    return TestClient(app, raise_server_exceptions=False)


def _gone(*args: object, **kwargs: object) -> object:
    raise ServiceUnavailable("Couldn't connect to 127.0.0.1:7687")


def test_health_and_ready_need_no_key(store: Store) -> None:
    with _client(store) as client:
        health = client.get("/health")
        ready = client.get("/ready")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})


def test_ready_is_503_with_the_reason_when_the_store_does_not_answer(store: Store) -> None:
    store.stored_hashes = _gone  # type: ignore[method-assign]
    with _client(store) as client:
        health = client.get("/health")
        ready = client.get("/ready")
    assert health.status_code == 200
    assert ready.status_code == 503
    assert ready.headers["Retry-After"] == "5"
    assert ready.json()["status"] == "unavailable"
    assert "does not answer" in ready.json()["detail"]
    assert "ServiceUnavailable" in ready.json()["detail"]


def test_ready_is_503_while_the_schema_is_missing(store: Store) -> None:
    store.missing_schema = lambda: ["event_key", "deal_id"]  # type: ignore[attr-defined]
    with _client(store) as client:
        ready = client.get("/ready")
    assert ready.status_code == 503
    assert ready.json()["detail"].endswith("missing event_key, deal_id")


def test_a_read_during_an_outage_is_503_and_speaks_of_no_writes(store: Store) -> None:
    store.list = _gone  # type: ignore[method-assign]
    with _client(store) as client:
        read = client.get("/v1/stores", headers={"Authorization": f"Bearer {ADMIN}"})
    assert read.status_code == 503
    assert read.headers["Retry-After"] == "5"
    assert read.json()["detail"].startswith("the store did not answer in time; retry")
    assert "written" not in read.json()["detail"]


def test_a_write_during_an_outage_says_nothing_was_written(store: Store) -> None:
    store.append = _gone  # type: ignore[method-assign]
    with _client(store) as client:
        write = client.post(
            "/v1/events",
            json={"events": [{"type": "customer", "id": "c-1"}]},
            headers={"Authorization": f"Bearer {ADMIN}"},
        )
    assert write.status_code == 503
    assert write.headers["Retry-After"] == "5"
    assert "nothing was written" in write.json()["detail"]

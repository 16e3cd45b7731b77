"""Keys and roles: 401 without a key, 403 for a role that may not, staff see only their own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from contribnet.api.app import create_app
from contribnet.services.keys import create_key
from contribnet.settings import Settings
from contribnet.store import Store, open_store

# fmt: off
EVENTS = [
    {"type": "staff", "id": "sf-1", "name": "Wang", "store": "st-1", "role": "advisor"},
    {"type": "staff", "id": "sf-2", "name": "Zhao", "store": "st-1", "role": "advisor"},
    {"type": "touch", "id": "t-1", "at": "2025-01-05T10:00:00Z", "customer": "c-1", "staff": "sf-1", "store": "st-1", "stage": "lead"},  # noqa: E501
]
# fmt: on


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[TestClient, Store]]:
    store = open_store(f"sqlite:///{tmp_path / 'auth.db'}")
    with TestClient(create_app(store=store, settings=Settings(admin_key="boot"))) as client:
        yield client, store
    store.close()


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_open_and_closed_doors(setup) -> None:
    client, store = setup
    assert client.get("/health").status_code == 200
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/v1/stores").status_code == 401
    assert client.get("/v1/stores", headers=_auth("wrong")).status_code == 401
    assert (
        client.post("/v1/events", json={"events": EVENTS}, headers=_auth("boot")).status_code == 200
    )


def test_roles_are_refused_what_they_may_not_do(setup) -> None:
    client, store = setup
    client.post("/v1/events", json={"events": EVENTS}, headers=_auth("boot"))
    analyst = create_key(store, "analyst")
    ingest = create_key(store, "ingest")
    assert (
        client.post("/v1/events", json={"events": EVENTS}, headers=_auth(analyst)).status_code
        == 403
    )
    assert (
        client.post("/v1/events", json={"events": EVENTS}, headers=_auth(ingest)).status_code == 200
    )
    assert client.get("/v1/customers/c-1/journey", headers=_auth(analyst)).status_code == 200
    assert client.get("/v1/customers/c-1/journey", headers=_auth(ingest)).status_code == 403


def test_staff_key_sees_only_its_own(setup) -> None:
    client, store = setup
    client.post("/v1/events", json={"events": EVENTS}, headers=_auth("boot"))
    own = create_key(store, "staff", staff="sf-1")
    other = create_key(store, "staff", staff="sf-2")
    assert client.get("/v1/staff/sf-1", headers=_auth(own)).status_code == 200
    assert client.get("/v1/staff/sf-2", headers=_auth(own)).status_code == 403
    assert client.get("/v1/customers/c-1/journey", headers=_auth(own)).status_code == 200
    # 404 as for a customer never recorded: no existence oracle (#13)
    assert client.get("/v1/customers/c-1/journey", headers=_auth(other)).status_code == 404
    assert client.get("/v1/deals", headers=_auth(own)).status_code == 403


def test_keys_are_stored_hashed(setup) -> None:
    _, store = setup
    secret = create_key(store, "leader")
    db = store._db  # the SQLite adapter's connection: look at what is really stored
    stored = db.execute("SELECT digest, sealed FROM api_key_records").fetchall()
    assert stored and all(secret not in row[0] + row[1] for row in stored)
    assert all("leader" not in row[0] + row[1] for row in stored)  # the role is sealed too
    with pytest.raises(Exception, match="staff"):
        create_key(store, "staff")

"""The audit trail's and the disputes' fixtures: one suite on SQLite and on a real Neo4j.

A small network: one store (st-a); Xu (sf-x) test-drives customer Li (c-1) twice, Yang (sf-y)
receives Li and closes d-1 (reward pool ¥5,000); Zhao (sf-z) is not on the deal. A client
(admin by default) over it, and a key per role -- a staff key each for Xu, Yang and Zhao.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.contract.conftest import empty_store

from contribnet.api.app import create_app
from contribnet.services.keys import create_key, hash_key, key_id
from contribnet.settings import Settings
from contribnet.store import Store

ADMIN = "audit-admin-key-0123456789"


def _staff(id: str, name: str) -> dict[str, Any]:
    return {
        "type": "staff",
        "id": id,
        "name": name,
        "store": "st-a",
        "role": "advisor",
        "from": "2024-01-01",
    }


def _touch(id: str, at: str, staff: str, stage: str) -> dict[str, Any]:
    return {
        "type": "touch",
        "id": id,
        "at": at,
        "customer": "c-1",
        "staff": staff,
        "store": "st-a",
        "stage": stage,
    }


NETWORK: list[dict[str, Any]] = [
    {"type": "brand", "id": "nio", "name": "NIO"},
    {
        "type": "store",
        "id": "st-a",
        "name": "NIO Shanghai",
        "brand": "nio",
        "city": "Shanghai",
        "region": "East",
    },
    _staff("sf-x", "Xu"),
    _staff("sf-y", "Yang"),
    _staff("sf-z", "Zhao"),
    {"type": "customer", "id": "c-1", "name": "Li", "city": "Shanghai"},
    _touch("t-1", "2025-01-04T02:00:00Z", "sf-y", "reception"),
    _touch("t-2", "2025-01-05T02:00:00Z", "sf-x", "test_drive"),
    _touch("t-3", "2025-01-06T02:00:00Z", "sf-x", "test_drive"),
    {
        "type": "deal",
        "id": "d-1",
        "customer": "c-1",
        "store": "st-a",
        "staff": "sf-y",
        "closed_at": "2025-01-10T04:00:00Z",
        "amount": 30000000,
        "reward_pool": 500000,
    },
]

ROLES = ("leader", "analyst", "ingest", "staff-x", "staff-y", "staff-z")


@dataclass
class Api:
    """A client on a store under test (admin by default), and each role's headers and key id."""

    kind: str
    store: Store
    client: TestClient
    headers: dict[str, dict[str, str]]
    key_ids: dict[str, str]
    url: str = ""  # the store's URL, for tests that open connections of their own

    def trail(self, target: str, role: str = "admin", **params: str) -> list[dict[str, Any]]:
        response = self.client.get(
            "/v1/audit", params={"target": target, **params}, headers=self.headers[role]
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["total"] == len(body["entries"])
        return list(body["entries"])

    def post(self, path: str, caller: str = "admin", **body: Any) -> Any:
        return self.client.post(path, json=body, headers=self.headers[caller])


@pytest.fixture(params=["sqlite", "neo4j"])
def api(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Api]:
    with empty_store(request, tmp_path) as under_test:
        store, url = under_test.store, under_test.url
        secrets = {
            "leader": create_key(store, "leader"),
            "analyst": create_key(store, "analyst"),
            "ingest": create_key(store, "ingest"),
        }
        app = create_app(store=store, settings=Settings(admin_key=ADMIN))
        with TestClient(app) as client:
            admin = {"Authorization": f"Bearer {ADMIN}"}
            response = client.post("/v1/events", json={"events": NETWORK}, headers=admin)
            assert response.status_code == 200, response.text
            for name, staff in (("staff-x", "sf-x"), ("staff-y", "sf-y"), ("staff-z", "sf-z")):
                secrets[name] = create_key(store, "staff", staff)  # a staff key names a member
            headers = {role: {"Authorization": f"Bearer {s}"} for role, s in secrets.items()}
            headers["admin"] = admin
            key_ids = {role: key_id(hash_key(s)) for role, s in secrets.items()}
            client.headers.update(admin)
            yield Api(request.param, store, client, headers, key_ids, url)

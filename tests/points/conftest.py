"""The points ledger's fixtures: one suite on SQLite and on a real Neo4j (as ``tests/contract/``).

A small network with two regions: Xu works in the East (st-a) until 28 February 2025 and in the
South (st-c) from 1 March; Yang in the East all along; an owner refers a friend who buys.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from tests.contract.conftest import StoreUnderTest, empty_store

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
    {
        "type": "store",
        "id": "st-c",
        "name": "NIO Sanya",
        "brand": "nio",
        "city": "Sanya",
        "region": "South",
    },
    {
        "type": "staff",
        "id": "sf-x",
        "name": "Xu",
        "store": "st-a",
        "role": "advisor",
        "from": "2024-01-01",
        "to": "2025-02-28",
    },
    {
        "type": "staff",
        "id": "sf-x",
        "name": "Xu",
        "store": "st-c",
        "role": "advisor",
        "from": "2025-03-01",
    },
    {"type": "staff", "id": "sf-y", "name": "Yang", "store": "st-a", "role": "advisor"},
    {"type": "customer", "id": "c-1", "name": "Li", "city": "Shanghai"},
    {"type": "customer", "id": "c-owner", "name": "Tang", "city": "Shanghai"},
    {
        "type": "referral",
        "id": "r-1",
        "at": "2025-01-02T00:00:00Z",
        "customer": "c-1",
        "to_store": "st-a",
        "referrer_customer": "c-owner",
    },
    {
        "type": "touch",
        "id": "t-1",
        "at": "2025-01-04T02:00:00Z",
        "customer": "c-1",
        "staff": "sf-y",
        "store": "st-a",
        "stage": "reception",
    },
    {
        "type": "deal",
        "id": "d-1",
        "customer": "c-1",
        "store": "st-a",
        "staff": "sf-y",
        "closed_at": "2025-01-10T00:00:00Z",
        "amount": 30000000,
        "reward_pool": 500000,
        "points_pool": 800,
    },
]


def activity(id: str, at: str, action: str, staff: str = "sf-x", **extra: Any) -> dict[str, Any]:
    return {"type": "activity", "id": id, "at": at, "staff": staff, "action": action} | extra


Points = StoreUnderTest


@pytest.fixture(params=["sqlite", "neo4j"])
def points(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Points]:
    with empty_store(request, tmp_path) as under_test:
        yield under_test

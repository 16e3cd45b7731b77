"""The fraud signals' fixtures: one suite on SQLite and on a real Neo4j (as ``tests/contract/``).

A small network: Shanghai (st-a) and Beijing (st-b); Xu (sf-x) at st-a until 28 February 2025,
Yang (sf-y) at st-a, Zhao (sf-z) at st-b. Yang serves customer c-1 and closes d-1; Xu touches c-2.
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
        "id": "st-b",
        "name": "NIO Beijing",
        "brand": "nio",
        "city": "Beijing",
        "region": "North",
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
        "id": "sf-y",
        "name": "Yang",
        "store": "st-a",
        "role": "advisor",
        "from": "2024-01-01",
    },
    {
        "type": "staff",
        "id": "sf-z",
        "name": "Zhao",
        "store": "st-b",
        "role": "advisor",
        "from": "2024-01-01",
    },
    {"type": "customer", "id": "c-1", "name": "Li", "city": "Shanghai"},
    {"type": "customer", "id": "c-2", "name": "Wu", "city": "Shanghai"},
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
        "type": "touch",
        "id": "t-2",
        "at": "2025-01-06T02:00:00Z",
        "customer": "c-1",
        "staff": "sf-y",
        "store": "st-a",
        "stage": "test_drive",
        "evidence": {"kind": "test_drive_log", "ref": "TD-1"},
    },
    {
        "type": "touch",
        "id": "t-3",
        "at": "2025-01-05T02:00:00Z",
        "customer": "c-2",
        "staff": "sf-x",
        "store": "st-a",
        "stage": "reception",
    },
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


def touch(
    id: str,
    at: str,
    customer: str,
    staff: str,
    store: str = "st-a",
    stage: str = "test_drive",
    **more: Any,
) -> dict[str, Any]:
    return {
        "type": "touch",
        "id": id,
        "at": at,
        "customer": customer,
        "staff": staff,
        "store": store,
        "stage": stage,
        **more,
    }


Flags = StoreUnderTest


@pytest.fixture(params=["sqlite", "neo4j"])
def flags(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Flags]:
    with empty_store(request, tmp_path) as under_test:
        yield under_test

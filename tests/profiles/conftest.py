"""The advisor profiles' fixtures: one suite on SQLite and on a real Neo4j (as ``tests/contract/``).

A small network, every deal settled under the default policy (stage_weighted; test drive 25,
reception 10, order 15 -- the closer always has the order touch):

- the East: NIO Shanghai (st-a: Xu, Yang advisors; Ma its manager) and ONVO Shanghai (st-b: Zhao);
- the South: NIO Sanya (st-c: Wu).
- c-1: Xu test-drives (4 Jan), Yang closes d-1 (10 Jan, pool 400,000 fen);
- c-2: Xu receives (5 Jan) and test-drives (6 Jan), Zhao closes d-2 at st-b (12 Jan, 200,000);
- c-3: Xu receives (7 Jan), Yang test-drives (8 Jan); no deal;
- c-4: Wu receives (5 Jan) and closes d-3 himself (11 Jan, 100,000);
- c-5: Ma receives (3 Jan);
- Xu's activities: a WeChat add (6 Jan, 2 points), a store invitation (7 Jan, 5 points) and a
  test-drive invitation (9 Jan, 8 points).

Every instant is 02:00 UTC, 10:00 in Shanghai: the business day is the UTC day.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from tests.contract.conftest import StoreUnderTest, empty_store

from contribnet.services.ingest import ingest_events
from contribnet.services.policies import ensure_default_policy
from contribnet.services.settlement import settle_period


def _store(id: str, name: str, brand: str, city: str, region: str) -> dict[str, Any]:
    return {"type": "store", "id": id, "name": name, "brand": brand, "city": city, "region": region}


def _staff(id: str, name: str, store: str, role: str = "advisor") -> dict[str, Any]:
    return {"type": "staff", "id": id, "name": name, "store": store, "role": role}


def touch(id: str, day: int, customer: str, staff: str, store: str, stage: str) -> dict[str, Any]:
    return {
        "type": "touch",
        "id": id,
        "at": f"2025-01-{day:02d}T02:00:00Z",
        "customer": customer,
        "staff": staff,
        "store": store,
        "stage": stage,
    }


def deal(id: str, day: int, customer: str, staff: str, store: str, pool: int) -> dict[str, Any]:
    return {
        "type": "deal",
        "id": id,
        "customer": customer,
        "store": store,
        "staff": staff,
        "closed_at": f"2025-01-{day:02d}T02:00:00Z",
        "amount": 30_000_000,
        "reward_pool": pool,
    }


def activity(id: str, day: int, action: str, staff: str = "sf-x") -> dict[str, Any]:
    return {
        "type": "activity",
        "id": id,
        "at": f"2025-01-{day:02d}T02:00:00Z",
        "staff": staff,
        "action": action,
    }


NETWORK: list[dict[str, Any]] = [
    {"type": "brand", "id": "nio", "name": "NIO"},
    {"type": "brand", "id": "onvo", "name": "ONVO"},
    _store("st-a", "NIO Shanghai", "nio", "Shanghai", "East"),
    _store("st-b", "ONVO Shanghai", "onvo", "Shanghai", "East"),
    _store("st-c", "NIO Sanya", "nio", "Sanya", "South"),
    _staff("sf-x", "Xu", "st-a"),
    _staff("sf-y", "Yang", "st-a"),
    _staff("sf-m", "Ma", "st-a", role="store_manager"),
    _staff("sf-z", "Zhao", "st-b"),
    _staff("sf-w", "Wu", "st-c"),
    *({"type": "customer", "id": f"c-{n}", "city": "Shanghai"} for n in range(1, 6)),
    touch("t-1", 4, "c-1", "sf-x", "st-a", "test_drive"),
    deal("d-1", 10, "c-1", "sf-y", "st-a", 400_000),
    touch("t-2", 5, "c-2", "sf-x", "st-a", "reception"),
    touch("t-3", 6, "c-2", "sf-x", "st-a", "test_drive"),
    deal("d-2", 12, "c-2", "sf-z", "st-b", 200_000),
    touch("t-4", 7, "c-3", "sf-x", "st-a", "reception"),
    touch("t-5", 8, "c-3", "sf-y", "st-a", "test_drive"),
    touch("t-6", 5, "c-4", "sf-w", "st-c", "reception"),
    deal("d-3", 11, "c-4", "sf-w", "st-c", 100_000),
    touch("t-7", 3, "c-5", "sf-m", "st-a", "reception"),
    activity("a-1", 6, "wechat_add"),
    activity("a-2", 7, "store_invite"),
    activity("a-3", 9, "test_drive_invite"),
]


#: A store under test, holding the network with every deal settled.
Profiles = StoreUnderTest


@pytest.fixture(params=["sqlite", "neo4j"])
def profiles(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Profiles]:
    with empty_store(request, tmp_path) as under_test:
        ingest_events(under_test.store, NETWORK)
        ensure_default_policy(under_test.store)
        for _ in settle_period(under_test.store, None, None, requested_by="test"):
            pass
        yield under_test

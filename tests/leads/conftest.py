"""Lead pools' fixtures: one suite on SQLite and on a real Neo4j (as ``tests/contract/``).

A small network in two regions: Hu (sf-h) and Xu (sf-x) work in the East (st-e), Kong (sf-k) in
the South (st-s). The pool policy gives the East 48 hours to follow a lead up, elsewhere 72.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from tests.contract.conftest import StoreUnderTest, empty_store

from contribnet.domain.leads import PoolPolicy

#: The instant the leads are assigned.
T0 = datetime(2025, 1, 1, 0, 0, tzinfo=UTC)
POLICY = PoolPolicy(follow_up_hours=72, region_hours={"East": 48})

NETWORK: list[dict[str, Any]] = [
    {"type": "brand", "id": "nio", "name": "NIO"},
    *(
        {"type": "store", "id": sid, "name": name, "brand": "nio", "city": city, "region": region}
        for sid, name, city, region in (
            ("st-e", "NIO Shanghai", "Shanghai", "East"),
            ("st-s", "NIO Sanya", "Sanya", "South"),
        )
    ),
    *(
        {"type": "staff", "id": sid, "name": name, "store": store, "role": "advisor"}
        for sid, name, store in (
            ("sf-h", "Hu", "st-e"),
            ("sf-x", "Xu", "st-e"),
            ("sf-k", "Kong", "st-s"),
        )
    ),
    *({"type": "customer", "id": f"c-{n}", "name": f"C{n}"} for n in range(1, 6)),
]


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def assignment(
    id: str, at: datetime, lead: str, reason: str = "assigned", staff: str | None = "sf-h"
) -> dict[str, Any]:
    event = {"type": "lead_assignment", "id": id, "at": iso(at), "lead": lead, "reason": reason}
    return event | ({"staff": staff} if staff is not None else {})


def touch(
    id: str, at: datetime, customer: str, staff: str, stage: str = "lead", store: str = "st-e"
) -> dict[str, Any]:
    return {
        "type": "touch",
        "id": id,
        "at": iso(at),
        "customer": customer,
        "staff": staff,
        "store": store,
        "stage": stage,
    }


Leads = StoreUnderTest


@pytest.fixture(params=["sqlite", "neo4j"])
def leads(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Leads]:
    with empty_store(request, tmp_path) as under_test:
        yield under_test

"""Deals listed by store, closing staff member and close period: the same on both stores."""

from __future__ import annotations

from datetime import date
from typing import Any

from contribnet.domain.settlement import period_bounds
from contribnet.services.ingest import ingest_events
from contribnet.store import Store

# fmt: off
MORE: list[dict[str, Any]] = [
    {"type": "customer", "id": "c-2"},
    {"type": "customer", "id": "c-3"},
    # 2025-01-31 17:00 UTC is 2025-02-01 in China Standard Time: a February deal.
    {"type": "deal", "id": "d-2", "customer": "c-2", "store": "st-b", "staff": "sf-y", "closed_at": "2025-01-31T17:00:00Z", "amount": 20000000, "reward_pool": 300000},  # noqa: E501
    {"type": "deal", "id": "d-3", "customer": "c-3", "store": "st-a", "staff": "sf-x", "closed_at": "2025-02-20T00:00:00Z", "amount": 10000000, "reward_pool": 100000},  # noqa: E501
    {"type": "void", "id": "v-2", "target": "d-3", "reason": "cancelled"},
]
# fmt: on


def _ids(db: Store, **filters: Any) -> tuple[list[str], int]:
    page = db.list("deals", 0, 100, **filters)
    return [d["id"] for d in page.items], page.total


def test_deals_filtered_by_store_staff_and_period(store: Store, network: list) -> None:
    ingest_events(store, network + MORE)
    assert _ids(store) == (["d-1", "d-2", "d-3"], 3)
    assert _ids(store, store="st-a") == (["d-1", "d-3"], 2)
    assert _ids(store, staff="sf-y") == (["d-2"], 1)
    assert _ids(store, store="st-a", staff="sf-y") == ([], 0)
    jan_lo, jan_hi = period_bounds(date(2025, 1, 1), date(2025, 1, 31))
    assert _ids(store, start=jan_lo, end=jan_hi) == (["d-1"], 1)
    feb_lo, _ = period_bounds(date(2025, 2, 1), None)
    assert _ids(store, start=feb_lo) == (["d-2", "d-3"], 2)
    assert _ids(store, store="st-a", start=feb_lo) == (["d-3"], 1)


def test_filtered_deals_page_and_keep_voided_flags(store: Store, network: list) -> None:
    ingest_events(store, network + MORE)
    page = store.list("deals", 1, 1, store="st-a")
    assert (page.total, page.offset, page.limit) == (2, 1, 1)
    assert [(d["id"], d["voided"]) for d in page.items] == [("d-3", True)]
    assert page.items[0]["store"] == "st-a"

"""The payroll listing and the API keys' life on every store: current settlements by period,
store and staff, walked by cursor; keys listed, expiring and revoked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from contribnet.credit import compute_split
from contribnet.domain.errors import NotFound
from contribnet.domain.ledger import next_settlement
from contribnet.domain.policy import Policy
from contribnet.domain.settlement import DealRef, Settlement
from contribnet.services.ingest import ingest_events
from contribnet.services.keys import KeyRefused, create_key, list_keys, resolve_key, revoke_key
from contribnet.services.policies import policy_record
from contribnet.store import Store

V1 = policy_record(Policy(), "test", now=datetime(2025, 1, 1, tzinfo=UTC))


def _deal(i: int, closed_at: str, store: str, helper_store: str) -> list[dict[str, Any]]:
    return [
        {
            "type": "touch",
            "id": f"t-p{i}",
            "at": "2025-01-02T00:00:00Z",
            "customer": f"c-p{i}",
            "staff": f"sf-h{i % 2}",
            "store": helper_store,
            "stage": "test_drive",
        },
        {
            "type": "deal",
            "id": f"d-p{i}",
            "customer": f"c-p{i}",
            "store": store,
            "staff": "sf-closer",
            "closed_at": closed_at,
            "amount": 100,
            "reward_pool": 1001,
        },
    ]


# (close, the deal's store, the helper's store): ties on close are ordered by deal id.
DEALS = [
    ("2025-03-01T00:00:00Z", "st-a", "st-a"),
    ("2025-03-01T00:00:00Z", "st-b", "st-b"),
    ("2025-03-01T00:00:00Z", "st-a", "st-c"),
    ("2025-03-02T00:00:00Z", "st-b", "st-b"),
    ("2025-03-02T00:00:00Z", "st-a", "st-a"),
    ("2025-03-03T00:00:00Z", "st-b", "st-c"),
]


def _settled(store: Store, network: list[dict[str, Any]]) -> list[Settlement]:
    ingest_events(store, network)
    for i, (at, deal_store, helper_store) in enumerate(DEALS):
        ingest_events(store, _deal(i, at, deal_store, helper_store))
    settlements = []
    for i in range(len(DEALS)):
        journey = store.deal_journeys([f"d-p{i}"])[f"d-p{i}"]
        split = compute_split(journey, V1.policy)
        settlements.append(next_settlement(split, journey, V1, "t", now=datetime.now(UTC)))
    assert store.ledger.record_settlements(settlements) == ["created"] * len(DEALS)
    return sorted(settlements, key=lambda s: (s.closed_at, s.deal))


def _walk(db: Store, limit: int, **filters: Any) -> list[Settlement]:
    walked: list[Settlement] = []
    after: DealRef | None = None
    while page := list(db.ledger.current_settlements(after=after, limit=limit, **filters)):
        assert len(page) <= limit
        walked += page
        after = DealRef(page[-1].closed_at, page[-1].deal)
    return walked


def test_pages_by_cursor_cover_every_settlement_once(store: Store, network: list) -> None:
    everything = _settled(store, network)
    assert list(store.ledger.current_settlements()) == everything
    for limit in (1, 2, 4, 100):
        assert _walk(store, limit) == everything
    march2 = datetime(2025, 3, 2, tzinfo=UTC)
    assert _walk(store, 2, start=march2) == [s for s in everything if s.closed_at >= march2]
    assert _walk(store, 2, end=march2) == [s for s in everything if s.closed_at < march2]
    assert list(store.ledger.current_settlements(limit=0)) == []


def test_filters_by_store_and_staff_page_too(store: Store, network: list) -> None:
    everything = _settled(store, network)
    # st-c closed no deal but its staff helped on two: "crediting a store" includes them
    at_c = [s for s in everything if s.deal in ("d-p2", "d-p5")]
    assert list(store.ledger.current_settlements(store="st-c")) == at_c
    assert _walk(store, 1, store="st-c") == at_c
    at_a = [s for s in everything if s.deal in ("d-p0", "d-p2", "d-p4")]
    assert _walk(store, 2, store="st-a") == at_a
    assert list(store.ledger.current_settlements(store="st-nowhere")) == []
    helper = [s for s in everything if int(s.deal[-1]) % 2 == 1]
    assert _walk(store, 2, staff="sf-h1") == helper
    assert _walk(store, 1, staff="sf-h1", store="st-b") == [
        s for s in helper if s.deal in ("d-p1", "d-p3", "d-p5")
    ]
    first = everything[0]
    assert list(store.ledger.current_settlements(deals=[first.deal, "d-p1"], limit=1)) == [first]


def test_api_keys_are_listed_expire_and_are_revoked(store: Store) -> None:
    ingest_events(
        store, [{"type": "staff", "id": "sf-x", "name": "Xu", "store": "st-a", "role": "advisor"}]
    )
    now = datetime(2025, 1, 1, tzinfo=UTC)
    assert list_keys(store, now=now) == []
    leader = create_key(store, "leader", now=now + timedelta(days=1))
    staff = create_key(store, "staff", "sf-x", datetime(2026, 1, 1, tzinfo=UTC), now=now)
    listed = list_keys(store, now=now + timedelta(days=2))
    assert [(k.role.value, k.staff, k.status) for k in listed] == [
        ("staff", "sf-x", "active"),  # by creation
        ("leader", None, "active"),
    ]
    assert listed[0].expires_at == datetime(2026, 1, 1, tzinfo=UTC)
    first = revoke_key(store, listed[1].id, now=now + timedelta(days=31))
    again = revoke_key(store, listed[1].id, now=now + timedelta(days=59))  # keeps the first
    assert first.revoked_at == again.revoked_at == now + timedelta(days=31)
    with pytest.raises(NotFound):
        revoke_key(store, "key-000000000000")
    with pytest.raises(KeyRefused, match="revoked"):
        resolve_key(store, leader, None)
    principal = resolve_key(store, staff, None, now=now)
    assert principal is not None and principal.staff == "sf-x"
    with pytest.raises(KeyRefused, match="expired"):
        resolve_key(store, staff, None, now=datetime(2026, 1, 1, tzinfo=UTC))
    assert [k.status for k in list_keys(store, now=datetime(2026, 6, 1, tzinfo=UTC))] == [
        "expired",
        "revoked",
    ]

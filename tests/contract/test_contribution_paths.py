"""``Store.contribution_paths``, the learned models' training data, on every store."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from contribnet.credit.learned import training_paths
from contribnet.domain.policy import Policy
from contribnet.services.ingest import ingest_events
from contribnet.store import Store


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


# c-9: a lead and a staff referral at one instant, a referral of themselves, a voided handover,
# a live deal, another voided; c-8: a deal and nothing else.
MORE: list[dict[str, Any]] = [
    {"type": "touch", "id": "t-9", "at": "2025-01-01T00:00:00Z", "customer": "c-9",
     "staff": "sf-y", "store": "st-b", "stage": "lead"},
    {"type": "referral", "id": "r-9", "at": "2025-01-01T00:00:00Z", "customer": "c-9",
     "to_store": "st-a", "referrer_staff": "sf-y"},
    {"type": "referral", "id": "r-self", "at": "2025-01-15T00:00:00Z", "customer": "c-9",
     "to_store": "st-a", "referrer_customer": "c-9"},
    {"type": "handover", "id": "h-9", "at": "2025-01-20T00:00:00Z", "from_staff": "sf-y",
     "to_staff": "sf-x", "customers": ["c-9"]},
    {"type": "void", "id": "v-h9", "target": "h-9", "reason": "sent to the wrong team"},
    {"type": "deal", "id": "d-9", "customer": "c-9", "store": "st-a", "staff": "sf-x",
     "closed_at": "2025-02-01T00:00:00Z", "amount": 20000000, "reward_pool": 300000},
    {"type": "deal", "id": "d-9b", "customer": "c-9", "store": "st-a", "staff": "sf-x",
     "closed_at": "2025-03-01T00:00:00Z", "amount": 20000000, "reward_pool": 300000},
    {"type": "void", "id": "v-d9b", "target": "d-9b", "reason": "cancelled"},
    {"type": "deal", "id": "d-8", "customer": "c-8", "store": "st-b", "staff": "sf-y",
     "closed_at": "2025-01-05T00:00:00Z", "amount": 20000000, "reward_pool": 300000},
]  # fmt: skip


def test_contribution_paths_yield_every_live_item_and_deal_close(
    store: Store, network: list
) -> None:
    ingest_events(store, network + MORE)
    paths = sorted(store.contribution_paths())
    assert paths == sorted(
        [
            # c-1: the owner's referral, the joint-event touch by its stage, the handover; the
            # voided quote left out; the deal's close
            (
                (
                    (_at("2025-01-02T00:00:00Z"), "owner_referral"),
                    (_at("2025-01-03T03:00:00Z"), "event"),
                    (_at("2025-01-04T01:00:00Z"), "reception"),
                    (_at("2025-01-04T02:00:00Z"), "test_drive"),
                    (_at("2025-01-06T00:00:00Z"), "handover"),
                ),
                (_at("2025-01-10T00:00:00Z"),),
            ),
            # c-2 and c-3: only in the handover
            (((_at("2025-01-06T00:00:00Z"), "handover"),), ()),
            (((_at("2025-01-06T00:00:00Z"), "handover"),), ()),
            # c-9: touch before referral at one instant; no self-referral, no voided handover
            # or deal
            (
                (
                    (_at("2025-01-01T00:00:00Z"), "lead"),
                    (_at("2025-01-01T00:00:00Z"), "referral"),
                ),
                (_at("2025-02-01T00:00:00Z"),),
            ),
            # c-8: a deal and nothing else
            ((), (_at("2025-01-05T00:00:00Z"),)),
        ]
    )
    for items, closes in paths:
        assert all(at.tzinfo is not None for at, _ in items)
        assert all(at.tzinfo is not None for at in closes)


def test_training_paths_from_the_store(store: Store, network: list) -> None:
    ingest_events(store, network + MORE)
    learned = sorted(training_paths(store.contribution_paths(), Policy()))
    assert learned == [
        ((), True),  # c-8
        (("handover",), False),  # c-2
        (("handover",), False),  # c-3
        (("lead", "referral"), True),  # c-9
        (("owner_referral", "event", "reception", "test_drive", "handover"), True),  # c-1
    ]

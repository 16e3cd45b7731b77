"""Every item of a deal's journey is accounted for: counted with its factors, or not with why."""

from __future__ import annotations

import math
from typing import Any

import pytest

from contribnet.credit import build_context, compute_split
from contribnet.demo.scenarios import SCENARIOS, all_events, deal_journey
from contribnet.domain.journey import DealJourney
from contribnet.domain.policy import MODEL_NAMES, Policy

EVENTS: list[dict[str, Any]] = [
    {"type": "brand", "id": "nio", "name": "NIO"},
    {"type": "store", "id": "st-a", "name": "A", "brand": "nio", "city": "Hangzhou",
     "region": "East"},
    {"type": "staff", "id": "sf-x", "name": "Xu", "store": "st-a", "role": "advisor"},
    {"type": "staff", "id": "sf-y", "name": "Yang", "store": "st-a", "role": "advisor"},
    {"type": "customer", "id": "c", "name": "Li"},
    {"type": "touch", "id": "t-old", "at": "2024-01-01T00:00:00Z", "customer": "c",
     "staff": "sf-x", "store": "st-a", "stage": "lead"},
    {"type": "touch", "id": "t-1", "at": "2025-01-02T00:00:00Z", "customer": "c",
     "staff": "sf-x", "store": "st-a", "stage": "lead"},
    {"type": "deal", "id": "d-1", "customer": "c", "store": "st-a", "staff": "sf-x",
     "closed_at": "2025-01-03T00:00:00Z", "amount": 100, "reward_pool": 1000},
    {"type": "touch", "id": "t-2", "at": "2025-02-02T00:00:00Z", "customer": "c",
     "staff": "sf-x", "store": "st-a", "stage": "test_drive"},
    {"type": "touch", "id": "t-2-again", "at": "2025-02-02T00:10:00Z", "customer": "c",
     "staff": "sf-x", "store": "st-a", "stage": "test_drive"},
    {"type": "touch", "id": "t-follow", "at": "2025-02-03T00:00:00Z", "customer": "c",
     "staff": "sf-y", "store": "st-a", "stage": "follow_up"},
    {"type": "touch", "id": "t-bad", "at": "2025-02-04T00:00:00Z", "customer": "c",
     "staff": "sf-y", "store": "st-a", "stage": "quote"},
    {"type": "void", "id": "v-1", "target": "t-bad", "reason": "never happened"},
    {"type": "deal", "id": "d-2", "customer": "c", "store": "st-a", "staff": "sf-y",
     "closed_at": "2025-02-10T00:00:00Z", "amount": 100, "reward_pool": 1000},
    {"type": "touch", "id": "t-late", "at": "2025-02-11T00:00:00Z", "customer": "c",
     "staff": "sf-y", "store": "st-a", "stage": "delivery"},
]  # fmt: skip


def _items(journey: DealJourney) -> set[str]:
    return (
        {t.id for t in journey.touches}
        | {r.id for r in journey.referrals}
        | {h.id for h in journey.handovers}
        | {v.id for v in journey.voided}
    )


def test_the_review_case_seven_touches_seven_accounted() -> None:
    journey = deal_journey(EVENTS, "d-2")
    split = compute_split(journey, Policy())
    counted = {t.id for a in split.allocations for t in a.explanation.touches}
    reasons = {n.id: n.code for n in split.not_counted}
    assert counted | set(reasons) >= _items(journey)
    assert not counted & set(reasons)
    assert reasons == {
        "t-old": "earlier_deal",
        "t-1": "earlier_deal",
        "t-2-again": "repeated",
        "t-follow": "zero_weight",
        "t-bad": "voided",
        "t-late": "after_close",
    }
    repeated = next(n for n in split.not_counted if n.id == "t-2-again")
    assert (repeated.ref, repeated.name) == ("t-2", "Xu")
    assert next(n for n in split.not_counted if n.id == "t-1").ref == "d-1"


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_every_scenario_item_is_counted_or_explained(model: str) -> None:
    events = all_events()
    context = build_context([(("reception", "test_drive", "order"), True)], Policy())
    for scenario in SCENARIOS:
        for check in scenario.checks:
            journey = deal_journey(events, check.deal)
            split = compute_split(journey, Policy(), model, context)
            counted = {t.id for a in split.allocations for t in a.explanation.touches}
            assert counted | {n.id for n in split.not_counted} >= _items(journey)
            for a in split.allocations:
                assert a.kind == "owner" or a.name  # staff are named, not only by id


def test_a_clerk_can_recompute_a_stage_weighted_share_from_the_factors() -> None:
    split = compute_split(deal_journey(EVENTS, "d-2"), Policy())
    for a in split.allocations:
        for t in a.explanation.touches:
            f = t.factors
            by_hand = f["stage_weight"] / f["weight_total"] * f["stage_part"]
            assert math.isclose(by_hand, t.credit, rel_tol=1e-12)


def test_a_clerk_can_recompute_a_shapley_share_from_the_factors() -> None:
    split = compute_split(deal_journey(all_events(), "d-s5-1"), Policy(), "shapley")
    for a in split.allocations:
        for t in a.explanation.touches:
            f = t.factors
            by_hand = f["shapley"] / f["value_total"] * f["touch_part"]
            assert math.isclose(by_hand, t.credit, rel_tol=1e-12)

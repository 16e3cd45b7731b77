"""Properties every credit model must have, checked with hypothesis on random journeys.

For every model: amounts sum to the pool; nothing is negative; a contributor with no qualifying
touch gets nothing; identical contributors get equal shares; input order does not matter;
results are deterministic; and for the decay models an older identical touch never gets more.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contribnet.credit import CreditContext, build_context, compute_split
from contribnet.credit.guards import qualifying_touches
from contribnet.domain.events import (
    Deal,
    Handover,
    JointEvent,
    Referral,
    Staff,
    Store,
    Touch,
)
from contribnet.domain.journey import DealJourney
from contribnet.domain.policy import MODEL_NAMES, Policy

CLOSE = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
STAGES = (
    "lead",
    "reception",
    "consultation",
    "test_drive",
    "referral",
    "event",
    "quote",
    "order",
    "delivery",
    "follow_up",
)
STORES = {
    "st-a": Store(id="st-a", name="A", brand="nio", city="Hefei", region="East"),
    "st-b": Store(id="st-b", name="B", brand="onvo", city="Hefei", region="East"),
    "st-c": Store(id="st-c", name="C", brand="nio", city="Sanya", region="South"),
}
JOINT = JointEvent(
    id="je-1", at=CLOSE - timedelta(days=20), name="roadshow", organisers=["st-a", "st-b"]
)

FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _context() -> CreditContext:
    rng = random.Random(7)
    paths = []
    for _ in range(3000):
        path = tuple(rng.choice(STAGES[:-1]) for _ in range(rng.randint(1, 7)))
        p = 0.1 + 0.15 * ("test_drive" in path) + 0.1 * ("referral" in path)
        paths.append((path, rng.random() < p))
    return build_context(paths, Policy())


CONTEXT = _context()


def _minutes_before(draw: st.DrawFn) -> int:
    # Coarse slots make simultaneous touches (ties) common; a few fall after the close or
    # before the lookback window.
    day = draw(st.integers(-2, 200))
    slot = draw(st.integers(0, 3))
    return day * 1440 + slot * 90


@st.composite
def journeys(draw: st.DrawFn, max_staff: int = 5, max_touches: int = 9) -> DealJourney:
    staff = [f"sf-{i}" for i in range(draw(st.integers(1, max_staff)))]
    touches = []
    for k in range(draw(st.integers(0, max_touches))):
        joint = draw(st.booleans()) and draw(st.booleans())
        touches.append(
            Touch(
                id=f"t-{k}",
                at=CLOSE - timedelta(minutes=_minutes_before(draw)),
                customer="c",
                staff=draw(st.sampled_from(staff)),
                store=draw(st.sampled_from(sorted(STORES))),
                stage="event" if joint else draw(st.sampled_from(STAGES)),
                joint_event="je-1" if joint else None,
            )
        )
    referrals = []
    for k in range(draw(st.integers(0, 2))):
        owner = draw(st.booleans())
        referrals.append(
            Referral(
                id=f"r-{k}",
                at=CLOSE - timedelta(minutes=_minutes_before(draw)),
                customer="c",
                to_store="st-b",
                referrer_staff=None if owner else draw(st.sampled_from(staff)),
                referrer_customer=f"owner-{draw(st.integers(0, 1))}" if owner else None,
            )
        )
    handovers = []
    if draw(st.booleans()):
        handovers.append(
            Handover(
                id="h-0",
                at=CLOSE - timedelta(minutes=_minutes_before(draw)),
                from_staff=draw(st.sampled_from(staff)),
                to_staff=draw(st.sampled_from(staff)),
                customers=["x", "c", "y"],
            )
        )
    deal = Deal(
        id="d",
        customer="c",
        store="st-b",
        staff=draw(st.sampled_from(staff)),
        closed_at=CLOSE,
        amount=30_000_000,
        reward_pool=draw(st.integers(0, 10**9)),
        points_pool=draw(st.none() | st.integers(0, 10**5)),
    )
    spells = {
        s: (Staff(id=s, name=s, store=draw(st.sampled_from(sorted(STORES))), role="fellow"),)
        for s in staff
    }
    return DealJourney(
        deal=deal,
        touches=tuple(touches),
        referrals=tuple(referrals),
        handovers=tuple(handovers),
        joint_events=(JOINT,) if any(t.joint_event for t in touches) else (),
        stores=STORES,
        staff=spells,
    )


policies = st.builds(
    Policy,
    saturation=st.sampled_from([1.0, 0.5, 0.3]),
    floor=st.sampled_from([0.0, 0.0, 0.05]),
    cap=st.sampled_from([1.0, 1.0, 0.6]),
    lookback_days=st.sampled_from([180.0, 30.0]),
    owner_referrals=st.sampled_from(["points", "cash", "ignore"]),
)


@pytest.mark.parametrize("model", MODEL_NAMES)
@FAST
@given(journey=journeys(), policy=policies)
def test_amounts_sum_to_the_pool_never_negative_only_qualifying(
    model: str, journey: DealJourney, policy: Policy
) -> None:
    split = compute_split(journey, policy, model, CONTEXT)
    again = compute_split(journey, policy, model, CONTEXT)
    assert split == again  # deterministic
    staff = [a for a in split.allocations if a.kind == "staff"]
    owners = [a for a in split.allocations if a.kind == "owner"]
    paid_cash = split.allocations if policy.owner_referrals == "cash" else staff
    if paid_cash:
        assert sum(a.amount for a in paid_cash) == journey.deal.reward_pool
        assert sum(a.share for a in paid_cash) == pytest.approx(1.0)
    if owners and policy.owner_referrals == "points":
        points_pool = journey.deal.points_pool
        expected = points_pool if points_pool is not None else policy.owner_points
        assert sum(a.points for a in owners) == expected
        assert all(a.amount == 0 for a in owners)
    for a in split.allocations:
        assert a.amount >= 0 and a.points >= 0 and a.share >= 0
        assert a.explanation.touches, "every allocation is explained by its touches"
    qualifying = {
        t.contributor.id for t in qualifying_touches(journey, policy.for_region("East")).touches
    } | {journey.deal.staff}  # with no qualifying staff touch the closer receives the pool
    assert {a.id for a in split.allocations} <= qualifying
    if policy.owner_referrals == "ignore":
        assert not owners


@pytest.mark.parametrize("model", MODEL_NAMES)
@FAST
@given(journey=journeys(), seed=st.integers(0, 2**32 - 1))
def test_input_order_does_not_matter(model: str, journey: DealJourney, seed: int) -> None:
    rng = random.Random(seed)

    def shuffled(items: tuple) -> tuple:  # type: ignore[type-arg]
        out = list(items)
        rng.shuffle(out)
        return tuple(out)

    reordered = DealJourney(
        deal=journey.deal,
        touches=shuffled(journey.touches),
        referrals=shuffled(journey.referrals),
        handovers=shuffled(journey.handovers),
        joint_events=journey.joint_events,
        stores=dict(reversed(list(journey.stores.items()))),
        staff=dict(reversed(list(journey.staff.items()))),
    )
    policy = Policy()
    assert compute_split(reordered, policy, model, CONTEXT) == compute_split(
        journey, policy, model, CONTEXT
    )


def _with_twin(journey: DealJourney, original: str, twin: str) -> DealJourney:
    """The journey plus a contributor who did exactly what ``original`` did (ids prefixed
    with "w" so that they sort among themselves as the originals do)."""
    touches = list(journey.touches) + [
        t.model_copy(update={"id": "w" + t.id, "staff": twin})
        for t in journey.touches
        if t.staff == original
    ]
    referrals = list(journey.referrals) + [
        r.model_copy(update={"id": "w" + r.id, "referrer_staff": twin})
        for r in journey.referrals
        if r.referrer_staff == original
    ]
    handovers = list(journey.handovers) + [
        h.model_copy(update={"id": "w" + h.id, "from_staff": twin})
        for h in journey.handovers
        if h.from_staff == original
    ]
    spells = dict(journey.staff)
    spells[twin] = tuple(s.model_copy(update={"id": twin}) for s in journey.staff[original])
    return journey.model_copy(
        update={
            "touches": tuple(touches),
            "referrals": tuple(referrals),
            "handovers": tuple(handovers),
            "staff": spells,
        }
    )


@pytest.mark.parametrize("model", MODEL_NAMES)
@FAST
@given(journey=journeys(max_staff=3), policy=policies)
def test_identical_contributors_get_equal_shares(
    model: str, journey: DealJourney, policy: Policy
) -> None:
    others = [s for s in journey.staff if s != journey.deal.staff]
    if not others:
        return
    original = others[0]
    split = compute_split(_with_twin(journey, original, "zz-twin"), policy, model, CONTEXT)
    by_id = {a.id: a for a in split.allocations}
    if original not in by_id:
        assert "zz-twin" not in by_id
        return
    a, b = by_id[original], by_id["zz-twin"]
    assert a.share == pytest.approx(b.share, abs=1e-9)
    assert abs(a.amount - b.amount) <= 1


@pytest.mark.parametrize("model", MODEL_NAMES)
@FAST
@given(journey=journeys(), stage=st.sampled_from(STAGES[:-1]))
def test_a_contributor_without_qualifying_touch_gets_nothing(
    model: str, journey: DealJourney, stage: str
) -> None:
    ghost = [
        Touch(
            id="g-1",
            at=CLOSE + timedelta(hours=1),
            customer="c",
            staff="ghost",
            store="st-a",
            stage=stage,
        ),
        Touch(
            id="g-2",
            at=CLOSE - timedelta(days=181),
            customer="c",
            staff="ghost",
            store="st-a",
            stage=stage,
        ),
        Touch(
            id="g-3",
            at=CLOSE - timedelta(days=3),
            customer="c",
            staff="ghost",
            store="st-a",
            stage="follow_up",
        ),
    ]
    spells = dict(journey.staff) | {
        "ghost": (Staff(id="ghost", name="g", store="st-a", role="fellow"),)
    }
    haunted = journey.model_copy(
        update={"touches": journey.touches + tuple(ghost), "staff": spells}
    )
    split = compute_split(haunted, Policy(floor=0.05), model, CONTEXT)
    assert "ghost" not in {a.id for a in split.allocations}
    assert split.allocations, "the closer always qualifies through the deal itself"
    assert sum(a.amount for a in split.allocations if a.kind == "staff") == journey.deal.reward_pool


@pytest.mark.parametrize("model", ["time_decay", "stage_weighted", "markov"])
@FAST
@given(
    journey=journeys(max_touches=6),
    stage=st.sampled_from(STAGES[:-1]),
    older=st.integers(1, 170 * 24),
    newer=st.integers(0, 170 * 24),
)
def test_decay_never_favours_an_older_identical_touch(
    model: str, journey: DealJourney, stage: str, older: int, newer: int
) -> None:
    older, newer = max(older, newer), min(older, newer)
    pair = [
        Touch(
            id="p-old",
            at=CLOSE - timedelta(hours=older),
            customer="c",
            staff="p-old",
            store="st-a",
            stage=stage,
        ),
        Touch(
            id="p-new",
            at=CLOSE - timedelta(hours=newer),
            customer="c",
            staff="p-new",
            store="st-a",
            stage=stage,
        ),
    ]
    spells = dict(journey.staff) | {
        s: (Staff(id=s, name=s, store="st-a", role="fellow"),) for s in ("p-old", "p-new")
    }
    j = journey.model_copy(update={"touches": journey.touches + tuple(pair), "staff": spells})
    split = compute_split(j, Policy(), model, CONTEXT)
    share = {a.id: a.share for a in split.allocations}
    assert share.get("p-old", 0.0) <= share.get("p-new", 0.0) + 1e-12


@FAST
@given(
    ages=st.lists(st.integers(0, 100), min_size=2, max_size=6), stage=st.sampled_from(STAGES[:-1])
)
def test_time_decay_never_favours_an_older_touch_of_one_contributor(
    ages: list[int], stage: str
) -> None:
    from contribnet.credit.rules import time_decay
    from contribnet.credit.touches import example_touch

    touches = [example_touch("x", stage, a, id=f"t{i}") for i, a in enumerate(ages)]
    credit = time_decay(touches, Policy()).credit
    for i, a in enumerate(ages):
        for j, b in enumerate(ages):
            if a > b:
                assert credit[i] <= credit[j] + 1e-15

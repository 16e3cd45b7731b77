"""The learned models (markov, shapley_conversion) learn what the split credits (issue 12).

Training paths: the contribution items the split credits (touches, staff and owner referrals,
handovers), each journey cut at its deal's close, outcome and zero-weight stages left out.
Splits: the outcome stages' part by stage weights, the rest by the learned model.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contribnet.credit import compute_split
from contribnet.credit.fairness import check_split
from contribnet.credit.learned import (
    OWNER_REFERRAL,
    learned_stages,
    outcome_split,
    training_paths,
)
from contribnet.credit.rules import linear, stage_weighted
from contribnet.credit.touches import example_touch
from contribnet.demo.scenarios import all_events, fixture_instances
from contribnet.domain.policy import Policy, default_policy
from contribnet.services.credit import credit_context
from contribnet.services.ingest import ingest_events
from contribnet.store import Store, open_store

LEARNED = ("markov", "shapley_conversion")
DAY = timedelta(days=1)
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def _day(n: float) -> datetime:
    return T0 + n * DAY


# --- training paths ---------------------------------------------------------------------------


def test_each_deal_learns_the_items_since_the_previous_close() -> None:
    items = [(_day(1), "lead"), (_day(2), "test_drive"), (_day(5), "reception"),
             (_day(9), "referral"), (_day(12), "consultation")]  # fmt: skip
    # the reception at the first close counts for it; the consultation after the last close is
    # a journey that has not converted (yet)
    paths = list(training_paths([(items, [_day(5), _day(9)])], Policy()))
    assert paths == [
        (("lead", "test_drive", "reception"), True),
        (("referral",), True),
        (("consultation",), False),
    ]


def test_a_touch_after_the_close_is_not_learned_as_converting() -> None:
    items = [(_day(1), "test_drive"), (_day(3), "reception")]
    assert list(training_paths([(items, [_day(2)])], Policy())) == [
        (("test_drive",), True),
        (("reception",), False),
    ]


def test_outcome_and_zero_weight_stages_are_not_learned() -> None:
    items = [(_day(d), s) for d, s in enumerate(
        ["lead", "follow_up", "test_drive", "quote", "order", "delivery"])]  # fmt: skip
    assert list(training_paths([(items, [_day(9)])], Policy())) == [(("lead", "test_drive"), True)]
    everything = Policy(outcome_stages=())
    assert list(training_paths([(items, [_day(9)])], everything)) == [
        (("lead", "test_drive", "quote", "order", "delivery"), True)
    ]


def test_two_deals_at_one_instant_are_one_decision_and_the_lookback_applies() -> None:
    items = [(_day(0), "lead"), (_day(200), "test_drive")]
    assert list(training_paths([(items, [_day(201), _day(201)])], Policy())) == [
        (("test_drive",), True)  # the lead is more than 180 days before the close
    ]


def test_journeys_without_a_deal_and_empty_remainders() -> None:
    journeys = [([(_day(1), "lead"), (_day(2), "reception")], []), ([(_day(1), "lead")], [_day(1)])]
    assert list(training_paths(journeys, Policy())) == [
        (("lead", "reception"), False),
        (("lead",), True),
    ]


def test_owner_referrals_are_their_own_stage_unless_the_policy_ignores_them() -> None:
    assert {"referral", OWNER_REFERRAL} <= learned_stages(Policy())
    assert OWNER_REFERRAL not in learned_stages(Policy(owner_referrals="ignore"))
    assert OWNER_REFERRAL not in learned_stages(Policy(stage_weights={"referral": 0.0}))
    assert {"quote", "order", "delivery"}.isdisjoint(learned_stages(Policy()))


# --- the outcome split ------------------------------------------------------------------------

STAGES = ["lead", "reception", "test_drive", "referral", "quote", "order", "delivery"]


@settings(max_examples=60, deadline=None)
@given(
    touches=st.lists(
        st.tuples(st.sampled_from(["a", "b", "c"]), st.sampled_from(STAGES), st.integers(0, 60)),
        min_size=1,
        max_size=10,
    ),
    learned=st.sets(st.sampled_from(STAGES)),
)
def test_the_outcome_part_is_the_weight_of_the_outcome_stages(
    touches: list[tuple[str, str, int]], learned: set[str]
) -> None:
    policy = Policy(saturation=1.0)
    journey = [example_touch(w, s, d, id=f"t{i}") for i, (w, s, d) in enumerate(touches)]
    result = outcome_split(journey, policy, learned, lambda ts: linear(ts, policy))
    assert [t.id for t in result.touches] == [t.id for t in journey]
    assert sum(result.credit) == pytest.approx(1.0)
    assert min(result.credit) >= 0.0
    stages = {t.stage for t in journey}
    in_learned = {s for s in stages if s in learned and s not in policy.outcome_stages}
    outcome = stages - in_learned
    if not in_learned:
        assert list(result.credit) == pytest.approx(list(stage_weighted(journey, policy).credit))
        return
    part = sum(policy.weight(s) for s in outcome) / sum(policy.weight(s) for s in stages)
    got = sum(c for t, c in zip(journey, result.credit, strict=True) if t.stage in outcome)
    assert got == pytest.approx(part)
    learned_touches = [t for t in journey if t.stage in in_learned]
    for t, c, f in zip(journey, result.credit, result.factors, strict=True):
        if t.stage in in_learned:
            assert c == pytest.approx((1 - part) / len(learned_touches))
            assert f["learned_part"] == pytest.approx(1 - part)
        else:
            assert f["outcome_part"] == pytest.approx(part)


# --- end to end: the hand-built scenarios, learned from a store -------------------------------


@pytest.fixture(scope="module")
def fixture_store() -> Iterator[Store]:
    store = open_store("sqlite://:memory:")
    ingest_events(store, [dict(e) for e in all_events()])
    yield store
    store.close()


def test_the_context_learns_referrals_handovers_and_owner_referrals_not_outcomes(
    fixture_store: Store,
) -> None:
    policy = default_policy()
    for model in LEARNED:
        context = credit_context(fixture_store, policy, model)
        assert context is not None
        assert {"referral", "handover", OWNER_REFERRAL, "event"} <= set(context.stages)
        assert {"quote", "order", "delivery", "follow_up"}.isdisjoint(context.stages)
        assert set(context.removal_effects) == set(context.stages)
        # one converted path per deal
        assert context.conversions == 9


@pytest.mark.parametrize("model", LEARNED)
@pytest.mark.parametrize("instance", fixture_instances(), ids=lambda i: f"{i.scenario}-{i.deal}")
def test_learned_models_are_fair_to_every_named_contributor(
    fixture_store: Store, model: str, instance: object
) -> None:
    # the order-grab victim keeps a third of the staff cash; the referrer both ways, the
    # cross-city advisor, the handing advisor, the joint-event advisor and both organisers, and
    # the referring owner (in points) get more than 0
    policy = default_policy()
    context = credit_context(fixture_store, policy, model)
    journey = fixture_store.deal_journey(instance.deal)  # type: ignore[attr-defined]
    split = compute_split(journey, policy, model, context)
    assert [str(f) for f in check_split(split, instance)] == []  # type: ignore[arg-type]
    assert sum(a.amount for a in split.allocations) == split.pool


def test_an_owner_referral_is_valued_by_what_was_learned_of_owner_referrals(
    fixture_store: Store,
) -> None:
    policy = default_policy()
    owner_deal = next(i for i in fixture_instances() if i.scenario == "owner_referral")
    journey = fixture_store.deal_journey(owner_deal.deal)
    for model in LEARNED:
        split = compute_split(journey, policy, model, credit_context(fixture_store, policy, model))
        owner = next(a for a in split.allocations if a.kind == "owner")
        assert owner.points > 0
        assert all("learned_part" in t.factors for t in owner.explanation.touches)

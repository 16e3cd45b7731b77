"""Policy guards: lookback, de-duplication, saturation, floor/cap, handovers, referrals."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contribnet.credit import compute_split
from contribnet.credit.guards import floor_cap, qualifying_touches, saturation_factors, store_at
from contribnet.credit.touches import example_touch
from contribnet.domain.events import Deal, Handover, Referral, Staff, Store, Touch
from contribnet.domain.journey import DealJourney
from contribnet.domain.policy import Policy

CLOSE = datetime(2025, 3, 1, 12, tzinfo=UTC)
FAST = settings(max_examples=80, deadline=None)


def _deal(**extra: object) -> Deal:
    return Deal.model_validate(
        {
            "id": "d",
            "customer": "c",
            "store": "st-b",
            "staff": "closer",
            "closed_at": CLOSE,
            "amount": 1,
            "reward_pool": 100_000,
        }
        | extra
    )


def _touch(tid: str, at: datetime, staff: str = "s", stage: str = "test_drive") -> Touch:
    return Touch(id=tid, at=at, customer="c", staff=staff, store="st-a", stage=stage)


def _ids(journey: DealJourney, policy: Policy | None = None) -> list[str]:
    return [t.id for t in qualifying_touches(journey, policy or Policy()).touches]


def test_lookback_window_is_inclusive_and_nothing_after_the_close_counts() -> None:
    touches = (
        _touch("edge", CLOSE - timedelta(days=180)),
        _touch("too-old", CLOSE - timedelta(days=180, seconds=1), staff="t"),
        _touch("at-close", CLOSE, staff="u"),
        _touch("after", CLOSE + timedelta(seconds=1), staff="v"),
    )
    prepared = qualifying_touches(DealJourney(deal=_deal(), touches=touches), Policy())
    assert [t.id for t in prepared.touches] == ["edge", "at-close", "d"]
    assert {d.id for d in prepared.dropped} == {"too-old", "after"}
    assert _ids(DealJourney(deal=_deal(), touches=touches), Policy(lookback_days=10)) == [
        "at-close",
        "d",
    ]


def test_repeated_logs_of_one_visit_count_once() -> None:
    t0 = CLOSE - timedelta(days=3)
    touches = (
        _touch("a", t0),
        _touch("a-again", t0 + timedelta(minutes=30)),  # within 30 min of the kept log
        _touch("b", t0 + timedelta(minutes=31)),  # a new visit
        _touch("other-stage", t0 + timedelta(minutes=5), stage="quote"),
    )
    ids = _ids(DealJourney(deal=_deal(), touches=touches))
    assert ids == ["a", "other-stage", "b", "d"]
    assert "a-again" in _ids(DealJourney(deal=_deal(), touches=touches), Policy(dedup_minutes=0))


def test_the_closer_is_credited_through_the_deal_unless_they_logged_an_order() -> None:
    logged = _touch("o", CLOSE - timedelta(hours=1), staff="closer", stage="order")
    assert _ids(DealJourney(deal=_deal())) == ["d"]
    assert _ids(DealJourney(deal=_deal(), touches=(logged,))) == ["o"]
    no_order = Policy(stage_weights={"test_drive": 1.0})
    assert _ids(DealJourney(deal=_deal()), no_order) == []
    split = compute_split(DealJourney(deal=_deal()), no_order)
    assert [(a.id, a.amount) for a in split.allocations] == [("closer", 100_000)]


def test_stages_weighted_zero_or_unlisted_do_not_qualify() -> None:
    touches = (
        _touch("f", CLOSE - timedelta(days=1), stage="follow_up"),
        _touch("x", CLOSE - timedelta(days=1), stage="mystery"),
    )
    assert _ids(DealJourney(deal=_deal(), touches=touches)) == ["d"]


def test_bulk_handover_is_a_handover_touch_of_the_handing_staff() -> None:
    handover = Handover(
        id="h",
        at=CLOSE - timedelta(days=30),
        from_staff="team-a",
        to_staff="closer",
        customers=[f"c-{i}" for i in range(1000)] + ["c"],
    )
    spells = {"team-a": (Staff(id="team-a", name="A", store="st-onvo", role="lead"),)}
    journey = DealJourney(deal=_deal(), handovers=(handover,), staff=spells)
    (touch,) = [t for t in qualifying_touches(journey, Policy()).touches if t.source == "handover"]
    assert touch.contributor.id == "team-a" and touch.stage == "handover"
    assert touch.store == "st-onvo"
    split = compute_split(journey, Policy())
    assert {a.id for a in split.allocations} == {"team-a", "closer"}


def test_owner_referrals_are_points_cash_or_ignored() -> None:
    referral = Referral(
        id="r",
        at=CLOSE - timedelta(days=9),
        customer="c",
        to_store="st-b",
        referrer_customer="owner-1",
    )
    selfish = Referral(
        id="r-self",
        at=CLOSE - timedelta(days=9),
        customer="c",
        to_store="st-b",
        referrer_customer="c",
    )
    journey = DealJourney(deal=_deal(points_pool=500), referrals=(referral, selfish))
    points = compute_split(journey, Policy())
    owner = next(a for a in points.allocations if a.kind == "owner")
    assert (owner.id, owner.points, owner.amount) == ("owner-1", 500, 0)
    assert next(a for a in points.allocations if a.id == "closer").amount == 100_000
    cash = compute_split(journey, Policy(owner_referrals="cash"))
    assert sum(a.amount for a in cash.allocations) == 100_000
    assert next(a for a in cash.allocations if a.id == "owner-1").amount > 0
    ignored = compute_split(journey, Policy(owner_referrals="ignore"))
    assert [a.id for a in ignored.allocations] == ["closer"]
    dropped = qualifying_touches(journey, Policy()).dropped
    assert any(d.id == "r-self" for d in dropped)
    no_pool = compute_split(journey.model_copy(update={"deal": _deal()}), Policy(owner_points=70))
    assert next(a for a in no_pool.allocations if a.kind == "owner").points == 70


def test_staff_referral_credits_the_referrer_at_their_store_of_the_day() -> None:
    referral = Referral(
        id="r",
        at=CLOSE - timedelta(days=9),
        customer="c",
        to_store="st-b",
        referrer_staff="mover",
    )
    spells = {
        "mover": (
            Staff.model_validate(
                {
                    "id": "mover",
                    "name": "M",
                    "store": "st-old",
                    "role": "f",
                    "from": "2024-01-01",
                    "to": "2025-02-01",
                }
            ),
            Staff.model_validate(
                {"id": "mover", "name": "M", "store": "st-new", "role": "f", "from": "2025-02-02"}
            ),
        )
    }
    journey = DealJourney(deal=_deal(), referrals=(referral,), staff=spells)
    (touch,) = [t for t in qualifying_touches(journey, Policy()).touches if t.source == "referral"]
    assert (touch.contributor.id, touch.stage, touch.store) == ("mover", "referral", "st-new")


def test_store_at_without_a_covering_spell_takes_the_latest() -> None:
    spells = [
        Staff.model_validate(
            {"id": "s", "name": "S", "store": "x", "role": "f", "from": "2025-01-01"}
        )
    ]
    assert store_at(spells, date(2024, 6, 1)) == "x"
    assert store_at([], date(2024, 6, 1)) is None


def test_joint_event_touch_is_shared_by_its_organisers_at_store_level() -> None:
    from contribnet.credit import store_totals
    from contribnet.domain.events import JointEvent

    joint = JointEvent(
        id="je", at=CLOSE - timedelta(days=5), name="roadshow", organisers=["st-nio", "st-onvo"]
    )
    touch = Touch(
        id="t",
        at=CLOSE - timedelta(days=5),
        customer="c",
        staff="s",
        store="st-onvo",
        stage="event",
        joint_event="je",
    )
    stores = {
        "st-nio": Store(id="st-nio", name="N", brand="nio", city="Shanghai", region="East"),
        "st-onvo": Store(id="st-onvo", name="O", brand="onvo", city="Shanghai", region="East"),
        "st-b": Store(id="st-b", name="B", brand="nio", city="Shanghai", region="East"),
    }
    split = compute_split(
        DealJourney(deal=_deal(), touches=(touch,), joint_events=(joint,), stores=stores),
        Policy(),
    )
    staff = next(a for a in split.allocations if a.id == "s")
    assert (staff.store, staff.brand) == ("st-onvo", "onvo")
    assert {(s.store, s.brand, s.share) for s in staff.explanation.stores} == {
        ("st-nio", "nio", 0.5),
        ("st-onvo", "onvo", 0.5),
    }
    totals = store_totals(split)
    assert totals["st-nio"] + 1 >= totals["st-onvo"] >= totals["st-nio"] > 0
    assert sum(totals.values()) == 100_000


def test_saturation_keeps_the_most_valued_touch_whole() -> None:
    touches = [example_touch("x", "test_drive", d) for d in (30, 20, 10)]
    assert saturation_factors(touches, [1, 1, 1], 0.5) == [0.25, 0.5, 1.0]
    assert saturation_factors(touches, [3, 2, 1], 0.5) == [1.0, 0.5, 0.25]
    assert saturation_factors(touches, [1, 1, 1], 1.0) == [1.0, 1.0, 1.0]


@FAST
@given(
    raw=st.lists(st.floats(0, 1), min_size=1, max_size=10),
    floor=st.sampled_from([0.0, 0.02, 0.1, 0.3]),
    cap=st.sampled_from([1.0, 0.8, 0.5, 0.25, 0.1]),
)
def test_floor_and_cap(raw: list[float], floor: float, cap: float) -> None:
    if floor > cap or sum(raw) == 0:
        return
    shares = {i: r / sum(raw) for i, r in enumerate(raw)}
    out = floor_cap(shares, floor, cap)
    n = len(out)
    assert sum(out.values()) == pytest.approx(1.0)
    if n * floor < 1 < n * cap:
        assert all(floor - 1e-9 <= v <= cap + 1e-9 for v in out.values())
    else:
        assert all(v == pytest.approx(1 / n) for v in out.values())
    for i in shares:
        for j in shares:
            if shares[i] > shares[j]:
                assert out[i] >= out[j] - 1e-12
            if shares[i] == shares[j]:
                assert out[i] == pytest.approx(out[j])


def test_floor_and_cap_show_in_the_explanation() -> None:
    touches = (
        _touch("a", CLOSE - timedelta(days=2), staff="big", stage="test_drive"),
        _touch("b", CLOSE - timedelta(days=2), staff="small", stage="event"),
    )
    split = compute_split(DealJourney(deal=_deal(), touches=touches), Policy(floor=0.2, cap=0.5))
    by = {a.id: a for a in split.allocations}
    assert by["big"].share == pytest.approx(0.5)
    assert "cap" in by["big"].explanation.adjustments
    assert "capped" in by["big"].explanation.text
    assert by["small"].share >= 0.2 - 1e-12
    assert sum(a.amount for a in split.allocations) == 100_000


def test_a_journey_over_the_item_cap_is_split_on_its_most_recent_items() -> None:
    """A poisoned customer with more touches than MAX_JOURNEY_ITEMS: only the most recent
    MAX_JOURNEY_ITEMS in the window count; each older one is not counted, as ``over_limit``."""
    from contribnet.domain.limits import MAX_JOURNEY_ITEMS

    extra = 5
    touches = tuple(
        _touch(f"t-{i:05d}", CLOSE - timedelta(hours=i + 1), staff=f"s-{i % 7}")
        for i in range(MAX_JOURNEY_ITEMS + extra)
    )
    journey = DealJourney(deal=_deal(), touches=touches)
    prepared = qualifying_touches(journey, Policy())
    counted = [t.id for t in prepared.touches if t.id != "d"]
    assert len(counted) == MAX_JOURNEY_ITEMS
    over = {d.id for d in prepared.dropped if d.code == "over_limit"}
    oldest = {f"t-{i:05d}" for i in range(MAX_JOURNEY_ITEMS, MAX_JOURNEY_ITEMS + extra)}
    assert over == oldest
    split = compute_split(journey, Policy(), "linear")
    not_counted = {n.id: n for n in split.not_counted if n.code == "over_limit"}
    assert set(not_counted) == oldest
    assert all(str(MAX_JOURNEY_ITEMS) in n.reason.replace(",", "") for n in not_counted.values())
    assert sum(a.amount for a in split.allocations) == 100_000

"""The fraud rules as pure functions: their edges (what is not flagged), stable ids, thresholds,
and the docstring examples (each rule's definition with a worked example) run as tests."""

from __future__ import annotations

import doctest
import importlib
from datetime import UTC, date, datetime, timedelta

import pytest

from contribnet.credit.flags import (
    find_flags,
    flagged_deals,
    grab,
    impossible_travel,
    late_log,
    outside_employment,
    referral_ring,
    touch_burst,
)
from contribnet.domain.events import Deal, Referral, Staff, Touch
from contribnet.domain.flags import FlagInputs, FlagRules, flag_id

T0 = datetime(2025, 1, 6, 2, tzinfo=UTC)
CITIES = {"st-sh": "Shanghai", "st-bj": "Beijing"}


def touch(id: str, minutes: float, **more: object) -> Touch:
    fields = {"staff": "sf-1", "customer": "c-1", "store": "st-sh", "stage": "reception"}
    return Touch.model_validate({"id": id, "at": T0 + timedelta(minutes=minutes), **fields, **more})


def deal(id: str, minutes: float, staff: str = "sf-2", customer: str = "c-1") -> Deal:
    return Deal(
        id=id,
        customer=customer,
        store="st-sh",
        staff=staff,
        closed_at=T0 + timedelta(minutes=minutes),
        amount=100,
        reward_pool=10,
    )


@pytest.mark.parametrize(
    "name", ["contribnet.credit.flags", "contribnet.domain.flags", "contribnet.services.flags"]
)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def test_late_log_needs_a_received_time_and_a_later_record_received_earlier() -> None:
    late = touch("t-1", 0)
    after = touch("t-2", 60 * 24 * 10)
    rules = FlagRules()
    # no received times: skipped
    assert late_log(FlagInputs([late, after]), rules) == []
    # received late, but with the rest of the history (a bulk load in time order): not flagged
    loaded = T0 + timedelta(days=400)
    assert late_log(FlagInputs([late, after], recorded={"t-1": loaded, "t-2": loaded}), rules) == []
    # received late, after a later touch: flagged; within the threshold: not
    recorded = {"t-1": loaded + timedelta(seconds=1), "t-2": loaded}
    assert [f.id for f in late_log(FlagInputs([late, after], recorded=recorded), rules)] == [
        flag_id("late_log", ["t-1"])
    ]
    assert late_log(FlagInputs([late, after], recorded=recorded), FlagRules(late_days=500)) == []


def test_outside_employment_skips_staff_with_no_spell_and_counts_the_business_day() -> None:
    spell = Staff(id="sf-1", name="Li", store="st-sh", role="advisor", **{"from": date(2025, 1, 7)})
    # 2025-01-06 16:30 UTC is 00:30 on the 7th in China: employed
    night = touch("t-1", 14 * 60 + 30)
    early = touch("t-2", 0)
    inputs = FlagInputs([night, early], spells={"sf-1": [spell]})
    assert [f.suspects for f in outside_employment(inputs, FlagRules())] == [("t-2",)]
    assert outside_employment(FlagInputs([early]), FlagRules()) == []


def test_impossible_travel_ignores_remote_channels_and_slow_trips() -> None:
    sh = touch("t-1", 0)
    bj_call = touch("t-2", 30, store="st-bj", channel="phone")
    bj_later = touch("t-3", 180, store="st-bj")
    inputs = FlagInputs([sh, bj_call, bj_later], cities=CITIES)
    assert impossible_travel(inputs, FlagRules()) == []
    assert [f.records for f in impossible_travel(inputs, FlagRules(travel_hours=4))] == [
        ("t-1", "t-3")
    ]


def test_touch_burst_is_one_flag_per_run() -> None:
    rules = FlagRules(burst_touches=3, burst_minutes=10)
    touches = [touch(f"t-{i}", i) for i in range(5)] + [touch("t-late", 60)]
    (flag,) = touch_burst(FlagInputs(touches), rules)
    assert flag.records == ("t-0", "t-1", "t-2", "t-3", "t-4") and flag.suspects[0] == "t-1"
    assert touch_burst(FlagInputs(touches[:3]), rules) == []


def test_referral_ring_needs_both_directions() -> None:
    one_way = [
        Referral(id="r-1", at=T0, customer="c-1", to_store="s", referrer_staff="sf-1"),
    ]
    deals = [deal("d-1", 60, staff="sf-2"), deal("d-2", 60, staff="sf-1", customer="c-2")]
    assert referral_ring(FlagInputs(deals=deals, referrals=one_way), FlagRules()) == []
    back = [Referral(id="r-2", at=T0, customer="c-2", to_store="s", referrer_staff="sf-2")]
    (flag,) = referral_ring(FlagInputs(deals=deals, referrals=one_way + back), FlagRules())
    assert flag.records == ("r-1", "r-2") and flag.staff == ("sf-1", "sf-2")
    assert flagged_deals([flag]) == {"d-1", "d-2"}


def test_grab_spares_the_closer_later_stages_and_known_staff() -> None:
    closes = [deal("d-1", 60)]
    rules = FlagRules()
    by_closer = touch("t-1", 50, staff="sf-2", stage="test_drive")
    delivery = touch("t-2", 30, staff="sf-3", stage="delivery")
    known = [touch("t-3", -600, staff="sf-4"), touch("t-4", 50, staff="sf-4", stage="test_drive")]
    too_early = touch("t-5", -61, staff="sf-5", stage="test_drive")
    inputs = FlagInputs([by_closer, delivery, *known, too_early], closes)
    assert grab(inputs, rules) == []
    assert [f.records for f in grab(inputs, FlagRules(grab_minutes=200))] == [("t-5", "d-1")]


def test_find_flags_runs_the_chosen_rules_in_time_order() -> None:
    inputs = FlagInputs([touch(f"t-{i}", i) for i in range(7)])
    assert [f.kind for f in find_flags(inputs)] == ["touch_burst"]
    assert find_flags(inputs, kinds=["grab"]) == []


def test_flag_rules_parse_names_a_bad_rule() -> None:
    assert FlagRules.parse("") == FlagRules()
    assert FlagRules.parse("burst_touches=7").burst_touches == 7
    for bad, message in (
        ("speed=3", "unknown flag rule 'speed'"),
        ("travel_hours=fast", "travel_hours: 'fast' is not a number"),
        ("grab_minutes=0", "grab_minutes: must be positive"),
        ("burst_touches=2.5", "burst_touches: '2.5' is not a number"),
    ):
        with pytest.raises(ValueError, match=message):
            FlagRules.parse(bad)


US = timedelta(microseconds=1)


def test_rules_screen_every_touch_exactly_at_the_thresholds() -> None:
    """The rules screen the touches as arrays of microseconds before looking closer: a flag one
    microsecond inside a threshold is found, one on or past it is not."""
    rules = FlagRules(burst_touches=2, burst_minutes=10)
    window = timedelta(minutes=10)
    burst = [touch("t-0", 0), touch("t-1", 5), touch("t-2", 0, at=T0 + window)]
    assert [f.records for f in touch_burst(FlagInputs(burst), rules)] == [("t-0", "t-1", "t-2")]
    burst[2] = touch("t-2", 0, at=T0 + window + US)
    assert touch_burst(FlagInputs(burst), rules) == []

    two_hours = timedelta(hours=2)
    # Shanghai, Shanghai again, then Beijing: the second and third are the impossible pair
    trip = [touch("t-1", 0), touch("t-2", 30), touch("t-3", 0, at=T0 + two_hours - US)]
    trip[2] = trip[2].model_copy(update={"store": "st-bj"})
    assert [f.records for f in impossible_travel(FlagInputs(trip, cities=CITIES), FlagRules())] == [
        ("t-2", "t-3")
    ]
    trip[2] = trip[2].model_copy(update={"at": T0 + timedelta(minutes=30) + two_hours})
    assert impossible_travel(FlagInputs(trip, cities=CITIES), FlagRules()) == []

    closes = [deal("d-1", 60)]
    just = touch("t-9", 0, at=T0 + timedelta(minutes=60) - timedelta(hours=1) + US, stage="lead")
    assert [f.records for f in grab(FlagInputs([just], closes), FlagRules())] == [("t-9", "d-1")]
    at_close = just.model_copy(update={"at": T0 + timedelta(minutes=60)})
    assert [f.records for f in grab(FlagInputs([at_close], closes), FlagRules())] == [
        ("t-9", "d-1")
    ]
    on_edge = just.model_copy(update={"at": T0})
    assert grab(FlagInputs([on_edge], closes), FlagRules()) == []


def test_late_log_finds_a_touch_received_behind_a_record_two_steps_later() -> None:
    day = timedelta(days=1)
    history = [touch("t-1", 0), touch("t-2", 60 * 24), touch("t-3", 2 * 60 * 24)]
    recorded = {"t-1": T0 + 20 * day, "t-2": T0 + 25 * day, "t-3": T0 + 3 * day}
    found = late_log(FlagInputs(history, recorded=recorded), FlagRules())
    assert [f.suspects for f in found] == [("t-1",), ("t-2",)]


def test_outside_employment_checks_each_spell_of_a_staff_member_who_moved() -> None:
    spells = [
        Staff(id="sf-1", name="Li", store="st-sh", role="advisor", to=date(2025, 1, 5)),
        Staff(id="sf-1", name="Li", store="st-bj", role="advisor", **{"from": date(2025, 1, 8)}),
    ]
    # T0 is 10:00 on 6 January in China: between the spells; two days later: in the second
    touches = [touch("t-1", 0), touch("t-2", 2 * 60 * 24)]
    found = outside_employment(FlagInputs(touches, spells={"sf-1": spells}), FlagRules())
    assert [f.suspects for f in found] == [("t-1",)]


def test_touch_columns_hold_each_instant_to_the_microsecond() -> None:
    from contribnet.domain.flags import TouchColumns, microseconds

    instants = [
        T0 + timedelta(days=d, microseconds=u)
        for d in (-40_000, -1, 0, 3, 36_500)
        for u in (0, 1, 499_999, 500_001, 999_999)
    ]
    touches = [touch(f"t-{i}", 0, at=at) for i, at in enumerate(instants)]
    columns = TouchColumns.of(touches)
    assert columns.at.tolist() == [microseconds(at) for at in instants]
    assert columns.customers == ["c-1"] and columns.customer.tolist() == [0] * len(instants)

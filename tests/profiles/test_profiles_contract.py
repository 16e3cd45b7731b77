"""Profiles, leaderboards and the at-risk list on SQLite and on Neo4j: every figure of the small
network of ``conftest.py`` computed by hand.

The settlements (default policy, stage_weighted; weights test drive 25, reception 10, order 15):

- d-1 (400,000): Xu's test drive 25 and Yang's order 15 of 40 -> Xu 250,000, Yang 150,000;
- d-2 (200,000): Xu's reception 10 and test drive 25, Zhao's order 15 of 50 -> Xu 40,000 +
  100,000, Zhao 60,000;
- d-3 (100,000): Wu's reception 10 and order 15 of 25 -> Wu 40,000 + 60,000.

The East's advisors (the peers) are Xu, Yang and Zhao; Ma is a store manager, Wu in the South.
"""

from __future__ import annotations

import doctest
from datetime import date
from typing import Any

import pytest
from tests.profiles.conftest import Profiles, activity, touch

from contribnet.domain.errors import NotFound
from contribnet.domain.settlement import InvalidRequest
from contribnet.graph import profiles as graph_profiles
from contribnet.services import profiles as service
from contribnet.services.ingest import ingest_events

JANUARY = (date(2025, 1, 1), date(2025, 1, 31))


def _figures(view: service.ProfileStageView) -> dict[str, Any]:
    return {
        name: getattr(view, name).value
        for name in (
            "touches",
            "customers",
            "deals",
            "converted",
            "conversion",
            "credit",
            "assists_given",
            "assists_received",
        )
    }


def test_the_figures_docstring_examples_run() -> None:
    result = doctest.testmod(graph_profiles)
    assert result.attempted > 0 and result.failed == 0


def test_xus_profile_equals_hand_computation(profiles: Profiles) -> None:
    view = service.staff_profile(profiles.store, "sf-x", *JANUARY)
    assert (view.name, view.store, view.brand, view.region, view.peers) == (
        "Xu",
        "st-a",
        "nio",
        "East",
        3,
    )
    stages = {s.stage: s for s in view.stages}
    assert [s.stage for s in view.stages] == ["reception", "test_drive", "order"]
    # reception: t-2 (c-2) and t-4 (c-3); only d-2 credits it: 40,000 on Zhao's deal.
    assert _figures(stages["reception"]) == {
        "touches": 2,
        "customers": 2,
        "deals": 1,
        "converted": 1,  # c-2: t-2 counted on d-2; c-3 bought nothing
        "conversion": 0.5,
        "credit": 40_000,
        "assists_given": 40_000,
        "assists_received": 0,
    }
    # test drive: t-1 (c-1) and t-3 (c-2); d-1 and d-2: 250,000 + 100,000, both others' deals.
    assert _figures(stages["test_drive"]) == {
        "touches": 2,
        "customers": 2,
        "deals": 2,
        "converted": 2,  # c-1 (t-1 on d-1) and c-2 (t-3 on d-2)
        "conversion": 1.0,
        "credit": 350_000,
        "assists_given": 350_000,
        "assists_received": 0,
    }
    # Xu closed nothing, so no order stage of his; peers have it (Yang's and Zhao's orders).
    assert _figures(stages["order"])["credit"] == 0 and stages["order"].conversion.value is None
    # in all: customers c-1, c-2, c-3 counted once; deals d-1 and d-2.
    assert _figures(view.total) == {
        "touches": 4,
        "customers": 3,
        "deals": 2,
        "converted": 2,
        "conversion": 2 / 3,
        "credit": 390_000,
        "assists_given": 390_000,
        "assists_received": 0,
    }
    # points: WeChat add 2 + store invitation 5 + test-drive invitation 8.
    assert view.points.value == 15
    # activity: 4 touches + 3 activities.
    assert view.activities.value == 7


def test_region_average_and_top_decile_by_hand(profiles: Profiles) -> None:
    view = service.staff_profile(profiles.store, "sf-y", *JANUARY)
    stages = {s.stage: s for s in view.stages}
    # Yang: test drive t-5 on c-3, no deal from it; his order on d-1 earns 150,000, and Xu's
    # 250,000 test drive on d-1 is help he received.
    td = stages["test_drive"]
    assert (td.touches.value, td.customers.value, td.deals.value) == (1, 1, 0)
    assert td.conversion.value == 0.0
    assert td.assists_received.value == 250_000
    # The East's test-drive credit: Xu 350,000, Yang 0, Zhao 0 -> mean 116,666.67; the 90th
    # percentile by nearest rank of 3 values is the ceil(2.7) = 3rd smallest: 350,000.
    assert td.credit.average == pytest.approx(350_000 / 3)
    assert td.credit.top_decile == 350_000
    # Conversion at the test drive: Xu 2/2 = 1, Yang 0/1 = 0, Zhao undefined -> mean 0.5.
    assert td.conversion.average == pytest.approx(0.5)
    # Credit in all: Xu 390,000, Yang 150,000, Zhao 60,000.
    assert view.total.credit.value == 150_000
    assert view.total.credit.average == pytest.approx(200_000)
    assert view.total.credit.top_decile == 390_000
    # Assists received in all: Yang 250,000 (from Xu on d-1), Zhao 140,000 (d-2), Xu 0.
    assert view.total.assists_received.value == 250_000
    assert view.total.assists_received.average == pytest.approx(130_000)
    # Points: Xu 15, Yang 0, Zhao 0.
    assert (view.points.value, view.points.average, view.points.top_decile) == (0, 5, 15)


def test_assists_given_equal_assists_received_over_everyone(profiles: Profiles) -> None:
    board = service.profile_board(profiles.store, *JANUARY)
    given = sum(f.assists_given for f in board.figures.values())
    received = sum(f.assists_received for f in board.figures.values())
    assert given == received == 390_000
    # every staff member's stages sum to their credit, and all credit is the three pools
    assert sum(f.credit for f in board.figures.values()) == 400_000 + 200_000 + 100_000


def test_a_period_without_the_deals_has_no_credit(profiles: Profiles) -> None:
    view = service.staff_profile(profiles.store, "sf-x", date(2025, 1, 1), date(2025, 1, 9))
    # d-1 closes on 10 January: outside; the touches of 4-7 January are inside.
    assert view.total.credit.value == 0 and view.total.touches.value == 4
    # the test-drive invitation of 9 January is inside, the period ends that day
    assert view.points.value == 15


def test_voided_touches_and_activities_count_for_nothing(profiles: Profiles) -> None:
    ingest_events(
        profiles.store,
        [
            {"type": "void", "id": "v-1", "target": "t-4", "reason": "logged twice"},
            {"type": "void", "id": "v-2", "target": "a-1", "reason": "never happened"},
        ],
    )
    view = service.staff_profile(profiles.store, "sf-x", *JANUARY)
    reception = next(s for s in view.stages if s.stage == "reception")
    # t-4 (c-3) gone: one touch of c-2, who converted
    assert (reception.touches.value, reception.customers.value) == (1, 1)
    assert reception.conversion.value == 1.0
    # the WeChat add (2 points) gone: 5 + 8
    assert view.points.value == 13 and view.activities.value == 3 + 2


def test_an_unknown_staff_member_is_not_found(profiles: Profiles) -> None:
    with pytest.raises(NotFound):
        service.staff_profile(profiles.store, "sf-nobody", *JANUARY)


def test_leaderboards_rank_advisors_and_filter(profiles: Profiles) -> None:
    store = profiles.store

    def ranked(metric: str, **filters: Any) -> list[tuple[str, Any]]:
        board = service.leaderboard(store, metric, *JANUARY, **filters)
        return [(r.staff, r.value) for r in board.rows]

    assert ranked("credit") == [
        ("sf-x", 390_000),
        ("sf-y", 150_000),
        ("sf-w", 100_000),
        ("sf-z", 60_000),
    ]
    assert ranked("credit", region="East") == [
        ("sf-x", 390_000),
        ("sf-y", 150_000),
        ("sf-z", 60_000),
    ]
    assert ranked("credit", brand="onvo") == [("sf-z", 60_000)]
    assert ranked("credit", region="South", brand="onvo") == []
    # Ma (a store manager) touched c-5 but is no advisor: not ranked. Ties by id.
    assert ranked("touches") == [("sf-x", 4), ("sf-w", 1), ("sf-y", 1), ("sf-z", 0)]
    assert ranked("deals") == [("sf-x", 2), ("sf-w", 1), ("sf-y", 1), ("sf-z", 1)]
    assert ranked("points") == [("sf-x", 15), ("sf-w", 0), ("sf-y", 0), ("sf-z", 0)]
    # conversion: Wu 1/1 (c-4), Xu 2/3, Yang 0/1 (c-3 bought nothing; his order on d-1 is no
    # touch of a customer he touched); Zhao touched no one: not ranked.
    assert ranked("conversion") == [("sf-w", 1.0), ("sf-x", pytest.approx(2 / 3)), ("sf-y", 0.0)]
    board = service.leaderboard(store, "credit", *JANUARY, limit=2)
    assert [(r.rank, r.staff, r.name, r.store, r.region) for r in board.rows] == [
        (1, "sf-x", "Xu", "st-a", "East"),
        (2, "sf-y", "Yang", "st-a", "East"),
    ]


def test_an_unknown_metric_is_refused_naming_it(profiles: Profiles) -> None:
    with pytest.raises(InvalidRequest) as caught:
        service.leaderboard(profiles.store, "charm", *JANUARY)
    assert caught.value.problems[0][0] == "metric"


def test_at_risk_lists_a_crafted_drop(profiles: Profiles) -> None:
    store = profiles.store
    # Windows of one week: 1-7 January before, 8-14 January after.
    # Xu: before t-1..t-4 and a-1, a-2 = 6; after a-3 = 1 -> fall 5/6.
    # Wu: before t-6 = 1; after 0 -> fall 1. Yang: nothing before (t-5 is on 8 January).
    # Ma: a store manager, not an advisor.
    found = service.at_risk(store, 0.5, weeks=1, end=date(2025, 1, 14))
    assert (found.before_from, found.before_to, found.from_, found.to) == (
        date(2025, 1, 1),
        date(2025, 1, 7),
        date(2025, 1, 8),
        date(2025, 1, 14),
    )
    assert [(r.staff, r.before, r.after) for r in found.rows] == [("sf-w", 1, 0), ("sf-x", 6, 1)]
    assert found.rows[1].fall == pytest.approx(5 / 6)
    # a higher threshold keeps only the steeper fall
    assert [r.staff for r in service.at_risk(store, 0.9, 1, end=date(2025, 1, 14)).rows] == ["sf-w"]
    # Xu picks up again in the recent window: 6 more touches, no longer at risk
    ingest_events(
        store,
        [touch(f"t-back-{n}", 13, "c-3", "sf-x", "st-a", "consultation") for n in range(6)]
        + [activity("a-back", 13, "wechat_add")],
    )
    again = service.at_risk(store, 0.5, weeks=1, end=date(2025, 1, 14))
    assert [r.staff for r in again.rows] == ["sf-w"]
    # an explicit recent window: 8-10 January against 5-7 January
    window = service.at_risk(store, 0.5, start=date(2025, 1, 8), end=date(2025, 1, 10))
    assert (window.before_from, window.before_to) == (date(2025, 1, 5), date(2025, 1, 7))
    assert [(r.staff, r.before, r.after) for r in window.rows] == [
        ("sf-w", 1, 0),
        ("sf-x", 5, 1),
    ]


def test_at_risk_refuses_bad_parameters_naming_them(profiles: Profiles) -> None:
    for kwargs, field in (
        ({"drop": 1.5}, "drop"),
        ({"drop": 0.5, "weeks": 0}, "weeks"),
        ({"drop": 0.5, "start": date(2025, 2, 1), "end": date(2025, 1, 1)}, "to"),
        ({"drop": 0.5, "end": date(1, 1, 2)}, "to"),  # the earlier window: before year 1
        ({"drop": 0.5, "start": date(1, 1, 2), "end": date(1, 1, 5)}, "from"),
    ):
        with pytest.raises(InvalidRequest) as caught:
            service.at_risk(profiles.store, **kwargs)
        assert caught.value.problems[0][0] == field

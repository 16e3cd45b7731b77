"""Staff profiles and the farmers' leaderboard on the hand-built network (conftest.py)."""

from __future__ import annotations

from contribnet.graph import EARLY_STAGES, StaffCredit, farmers, staff_credit, store_contributors


def test_staff_credit_profiles(rows) -> None:
    by_id = {s.staff: s for s in staff_credit(rows)}
    assert sorted(by_id) == ["n1x", "n1z", "n2y", "o1a", "o2h"]  # owner c9 left out
    assert by_id["n1x"] == StaffCredit(
        staff="n1x",
        store="n1",
        brand="nio",
        city="Shanghai",
        region="East",
        credit=800,
        own=400,
        assists=400,
        assist_ratio=0.5,
        other_stores=350,  # d1 300 for n1 on o1's deal, d4 50 for o1 on n1's deal
        other_brands=350,
        deals_credited=3,
        deals_assisted=2,
        closers_helped=2,
    )
    o1a = by_id["o1a"]
    assert (o1a.credit, o1a.own, o1a.assists, o1a.other_brands) == (450, 200, 250, 250)
    assert o1a.assist_ratio == 250 / 450
    assert by_id["o2h"].assist_ratio == 1.0
    assert (by_id["o2h"].other_stores, by_id["o2h"].closers_helped) == (200, 2)


#: (deal, staff) credited for early-stage work. o2h's two assists are deliveries (a delivery
#: specialist: 100% of their credit on others' deals, and no farmer); n1z test-drove d4, which
#: they closed themselves.
EARLY = {("d1", "n1x"), ("d2", "n1x"), ("d4", "n1x"), ("d1", "o1a"), ("d4", "o1a"), ("d4", "n1z")}


def test_farmers_are_staff_whose_early_work_others_closed(rows) -> None:
    board = farmers(rows, EARLY)
    assert [(f.staff, f.farmed_deals, f.farmed, f.early_deals) for f in board] == [
        ("n1x", 2, 400, 3),  # d1 (300) and d4 (50 + 50); d2 they closed themselves
        ("o1a", 1, 250, 2),  # d4; d1 they closed
    ]
    assert board[0].farmed_share == 2 / 3
    assert board[0].profile.assists == 400  # the credit profile rides along
    assert "o2h" not in {f.staff for f in board}  # deliveries are not early work
    assert "n1z" not in {f.staff for f in board}  # early work on their own close only
    assert [f.staff for f in farmers(rows, EARLY, min_deals=2)] == ["n1x"]
    assert [f.staff for f in farmers(rows, EARLY, limit=1)] == ["n1x"]
    assert farmers(rows, set()) == []


def test_early_stages_are_the_queries_default() -> None:
    """One definition: the analysts' farmers query defaults to the same early stages."""
    from contribnet.services.queries import get_query

    (param,) = [p for p in get_query("farmers").parameters if p.name == "early_stages"]
    assert tuple(param.default) == EARLY_STAGES


def test_store_contributors_count_only_credit_for_that_store(rows) -> None:
    people = store_contributors(rows, "o1")
    assert [(s.staff, s.credit, s.own, s.assists) for s in people] == [
        ("o1a", 450, 200, 250),
        ("n1x", 50, 0, 50),  # the joint event's o1 half
    ]
    assert store_contributors(rows, "nowhere") == []

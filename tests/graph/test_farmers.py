"""Staff profiles and the farmers' leaderboard on the hand-built network (conftest.py)."""

from __future__ import annotations

from contribnet.graph import StaffCredit, farmers, staff_credit, store_contributors


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


def test_farmers_are_ranked_by_credit_earned_on_others_deals(rows) -> None:
    board = farmers(rows)
    assert [(f.staff, f.assists) for f in board] == [("n1x", 400), ("o1a", 250), ("o2h", 200)]
    assert [f.staff for f in farmers(rows, min_ratio=0.6)] == ["o2h"]
    assert [f.staff for f in farmers(rows, min_deals=2)] == ["n1x", "o2h"]
    assert [f.staff for f in farmers(rows, limit=1)] == ["n1x"]
    everyone = farmers(rows, min_ratio=0.0, min_deals=0, limit=None)
    assert [(f.staff, f.assists) for f in everyone][3:] == [("n1z", 0), ("n2y", 0)]


def test_store_contributors_count_only_credit_for_that_store(rows) -> None:
    people = store_contributors(rows, "o1")
    assert [(s.staff, s.credit, s.own, s.assists) for s in people] == [
        ("o1a", 450, 200, 250),
        ("n1x", 50, 0, 50),  # the joint event's o1 half
    ]
    assert store_contributors(rows, "nowhere") == []

"""Period, region and brand filters on the hand-built network (conftest.py)."""

from __future__ import annotations

from datetime import date

from contribnet.graph import collaboration_graph, filter_rows


def _deals(rows) -> list[str]:
    return sorted({r.deal for r in rows})


def test_period_is_inclusive(rows) -> None:
    feb = list(filter_rows(rows, start=date(2025, 2, 1), end=date(2025, 2, 28)))
    assert _deals(feb) == ["d3", "d4", "d5"]
    assert _deals(filter_rows(rows, start=date(2025, 1, 20), end=date(2025, 2, 5))) == ["d2", "d3"]
    assert _deals(filter_rows(rows, end=date(2025, 1, 10))) == ["d1"]


def test_region_keeps_credit_touching_it_either_way(rows) -> None:
    east = list(filter_rows(rows, region="East"))
    assert _deals(east) == ["d1", "d2", "d4"]
    G = collaboration_graph(east, "store")
    assert sorted(G) == ["n1", "o1", "o2"]  # o2 (South) fed n1's deal d2
    south = list(filter_rows(rows, region="South"))
    assert [(r.deal, r.contributor) for r in south] == [("d2", "o2h"), ("d5", "o2h")]


def test_brand_and_region_together(rows) -> None:
    onvo = list(filter_rows(rows, brand="onvo"))
    assert len(onvo) == 6  # d1's two rows, o2h twice, o1a on d4, n1x's o1 half of d4
    east_onvo = list(filter_rows(rows, region="East", brand="onvo"))
    assert sorted((r.deal, r.contributor, r.store) for r in east_onvo) == [
        ("d1", "n1x", "n1"),
        ("d1", "o1a", "o1"),
        ("d4", "n1x", "o1"),
        ("d4", "o1a", "o1"),
    ]

"""Graphs and flow matrices of the hand-built network (conftest.py): exact answers."""

from __future__ import annotations

import pytest

from contribnet.graph import collaboration_graph, credit_summary, flow_matrix


def _edges(G):
    return {(a, b): (d["amount"], d["deals"]) for a, b, d in G.edges(data=True)}


def test_store_graph_edges_are_credit_earned_on_the_other_stores_deals(rows) -> None:
    G = collaboration_graph(rows, "store")
    assert sorted(G) == ["n1", "n2", "o1", "o2"]
    assert _edges(G) == {
        ("n1", "o1"): (300, 1),  # d1: the NIO referrer on ONVO's deal
        ("o1", "o1"): (200, 1),
        ("n1", "n1"): (700, 2),  # d2 400 + d4 250 + the joint event's n1 half 50
        ("o2", "n1"): (100, 1),  # d2: the holiday assist
        ("o1", "n1"): (300, 1),  # d4: o1a 250 + the joint event's o1 half 50
        ("n2", "n2"): (800, 2),
        ("o2", "n2"): (100, 1),
    }
    assert sum(d["amount"] for *_, d in G.edges(data=True)) == 2_500  # owners' points left out


def test_store_graph_node_attributes_and_crossings(rows) -> None:
    G = collaboration_graph(rows, "store")
    assert G.nodes["o2"] == {
        "brand": "onvo",
        "city": "Haikou",
        "region": "South",
        "deals_closed": 0,
        "deals_credited": 2,
    }
    assert (G.nodes["n1"]["deals_closed"], G.nodes["n1"]["deals_credited"]) == (2, 3)
    crossing = {(a, b): (d["cross_brand"], d["cross_city"]) for a, b, d in G.edges(data=True)}
    assert crossing[("n1", "o1")] == (True, False)
    assert crossing[("o2", "n1")] == (True, True)
    assert crossing[("o2", "n2")] == (True, True)
    assert crossing[("n1", "n1")] == (False, False)


def test_staff_graph_links_contributor_to_closer(rows) -> None:
    G = collaboration_graph(rows, "staff")
    assert _edges(G) == {
        ("n1x", "o1a"): (300, 1),
        ("o1a", "o1a"): (200, 1),
        ("n1x", "n1x"): (400, 1),
        ("o2h", "n1x"): (100, 1),
        ("n2y", "n2y"): (800, 2),
        ("o1a", "n1z"): (250, 1),
        ("n1z", "n1z"): (250, 1),
        ("n1x", "n1z"): (100, 1),  # two rows (one per joint-event store), one deal
        ("o2h", "n2y"): (100, 1),
    }
    # n1x earned 750 for n1 and 50 for o1: home is n1
    assert G.nodes["n1x"]["store"] == "n1"
    assert G.nodes["n1x"]["brand"] == "nio"
    assert G.nodes["n1z"]["store"] == "n1"


def test_brand_and_city_graphs(rows) -> None:
    brands = collaboration_graph(rows, "brand")
    assert _edges(brands) == {
        ("nio", "onvo"): (300, 1),
        ("onvo", "onvo"): (200, 1),
        ("nio", "nio"): (1_500, 4),
        ("onvo", "nio"): (500, 3),
    }
    assert brands.edges["onvo", "nio"]["cross_brand"] is True
    cities = collaboration_graph(rows, "city")
    assert _edges(cities) == {
        ("Shanghai", "Shanghai"): (1_500, 3),
        ("Haikou", "Shanghai"): (100, 1),
        ("Beijing", "Beijing"): (800, 2),
        ("Haikou", "Beijing"): (100, 1),
    }
    assert cities.nodes["Haikou"]["region"] == "South"
    assert cities.edges["Haikou", "Beijing"]["cross_city"] is True


def test_flow_matrices(rows) -> None:
    m = flow_matrix(rows, "brand")
    assert m.labels == ["nio", "onvo"]
    assert m.amounts == [[1_500, 300], [500, 200]]
    assert m.deals == [[4, 1], [3, 1]]
    assert (m.total(), m.between()) == (2_500, 800)
    c = flow_matrix(rows, "city")
    assert c.labels == ["Beijing", "Haikou", "Shanghai"]
    assert c.amounts == [[800, 0, 0], [100, 0, 100], [0, 0, 1_500]]
    assert (c.total(), c.between()) == (2_500, 200)
    r = flow_matrix(rows, "region")
    assert r.labels == ["East", "North", "South"]
    assert r.amounts == [[1_500, 0, 0], [0, 800, 0], [100, 100, 0]]


def test_summary(rows) -> None:
    s = credit_summary(rows)
    assert (s.deals, s.contributors, s.credit) == (5, 5, 2_500)
    assert (s.cross_store, s.cross_brand, s.cross_city) == (800, 800, 200)


def test_empty_and_unknown_levels() -> None:
    assert len(collaboration_graph([], "store")) == 0
    assert flow_matrix([], "brand").labels == []
    with pytest.raises(ValueError, match="unknown level"):
        collaboration_graph([], "mall")
    with pytest.raises(ValueError, match="unknown level"):
        flow_matrix([], "staff")


def test_same_rows_in_any_order_give_the_same_graph(rows) -> None:
    a = collaboration_graph(rows, "store")
    b = collaboration_graph(list(reversed(rows)), "store")
    assert list(a.nodes(data=True)) == list(b.nodes(data=True))
    assert list(a.edges(data=True)) == list(b.edges(data=True))

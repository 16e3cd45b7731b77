"""Node measures of the hand-built network (conftest.py): exact answers."""

from __future__ import annotations

import networkx as nx
import pytest

from contribnet.graph import (
    Flow,
    NodeMeasures,
    assist_ratio,
    brokerage_centrality,
    collaboration_graph,
    collaboration_strength,
    communities,
    flows,
    node_measures,
)


@pytest.fixture
def G(rows) -> nx.DiGraph:
    return collaboration_graph(rows, "store")


def test_node_measures_of_every_store(G) -> None:
    m = node_measures(G)
    # undirected ties: o1-n1 600, n1-o2 100, o2-n2 100 -- a chain o1 - n1 - o2 - n2, so n1 and
    # o2 each lie on 2 of the 6 shortest paths: betweenness 2 / ((4-1)(4-2)/2) = 2/3
    assert m["n1"] == NodeMeasures(
        credit=1_000,
        own=700,
        assists=300,
        received=400,
        assist_ratio=0.3,
        partners=2,
        centrality=pytest.approx(2 / 3),
        community=0,
    )
    assert m["o1"] == NodeMeasures(500, 200, 300, 300, 0.6, 1, 0.0, 0)
    assert m["o2"] == NodeMeasures(200, 0, 200, 0, 1.0, 2, pytest.approx(2 / 3), 1)
    assert m["n2"] == NodeMeasures(800, 800, 0, 100, 0.0, 1, 0.0, 1)


def test_credit_adds_up(G) -> None:
    m = node_measures(G)
    assert sum(x.credit for x in m.values()) == 2_500
    assert sum(x.assists for x in m.values()) == sum(x.received for x in m.values()) == 800


def test_communities_split_the_chain_at_its_weak_middle(G) -> None:
    # modularity (m = 800): {n1, o1} {n2, o2} gives 0.1797; all in one 0; {n1, o1, o2} {n2} < 0
    assert communities(G) == [["n1", "o1"], ["n2", "o2"]]
    assert communities(G) == communities(G.copy())  # deterministic


def test_collaboration_strength_sums_both_directions() -> None:
    G = nx.DiGraph()
    G.add_edge("a", "b", amount=300, deals=1)
    G.add_edge("b", "a", amount=100, deals=2)
    G.add_edge("a", "a", amount=50, deals=1)
    U = collaboration_strength(G)
    assert list(U.edges(data=True)) == [
        ("a", "b", {"amount": 400, "deals": 3, "distance": 1 / 400})
    ]


def test_brokerage_follows_the_strongest_ties() -> None:
    # a-b-c strongly, a-c weakly: the path a-b-c (1/10 + 1/10) is shorter than a-c (1/1)
    G = nx.DiGraph()
    G.add_edge("a", "b", amount=10)
    G.add_edge("b", "c", amount=10)
    G.add_edge("a", "c", amount=1)
    assert brokerage_centrality(G) == {"a": 0.0, "b": 1.0, "c": 0.0}
    G.edges["a", "c"]["amount"] = 100  # now the direct tie is shortest
    assert brokerage_centrality(G) == {"a": 0.0, "b": 0.0, "c": 0.0}


def test_brokerage_is_sampled_deterministically_on_large_graphs() -> None:
    G = nx.DiGraph()
    for i in range(60):
        G.add_edge(f"s{i:02d}", f"s{(i + 1) % 60:02d}", amount=1 + i % 7)
    exact = brokerage_centrality(G)
    sampled = brokerage_centrality(G, sample=20, seed=3)
    assert sampled == brokerage_centrality(G, sample=20, seed=3)
    assert sampled != exact
    assert set(sampled) == set(G)


def test_edge_cases() -> None:
    assert node_measures(nx.DiGraph()) == {}
    lone = nx.DiGraph()
    lone.add_edge("a", "a", amount=5)
    assert node_measures(lone) == {"a": NodeMeasures(5, 5, 0, 0, 0.0, 0, 0.0, 0)}
    empty = nx.DiGraph()
    empty.add_node("a")
    assert assist_ratio(empty) == {"a": 0.0}
    assert flows(lone, "nowhere") == ([], [])


def test_flows_of_a_store(G) -> None:
    inflows, outflows = flows(G, "n1")
    assert inflows == [Flow("o1", 300, 1), Flow("o2", 100, 1)]
    assert outflows == [Flow("o1", 300, 1)]

"""Measures of a collaboration graph's nodes: own credit, assists, flows, brokerage, communities.

Every function takes the directed graph of :func:`~contribnet.graph.networks.collaboration_graph`
(edge ``A -> B``: credit ``A`` earned on deals ``B`` closed, in the ``amount`` attribute).
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

__all__ = [
    "Flow",
    "NodeMeasures",
    "assist_credit",
    "assist_ratio",
    "brokerage_centrality",
    "collaboration_strength",
    "communities",
    "flows",
    "node_measures",
    "own_credit",
    "received_credit",
]

#: Betweenness is exact up to this many nodes, estimated from this many sampled sources beyond.
BROKERAGE_SAMPLE = 120


def own_credit(G: nx.DiGraph[str]) -> dict[str, int]:
    """Credit each node earned on the deals it closed itself: the self-loop's amount.

    >>> G = nx.DiGraph([("a", "a", {"amount": 5}), ("a", "b", {"amount": 3})])
    >>> own_credit(G)
    {'a': 5, 'b': 0}
    """
    return {n: G.edges[n, n]["amount"] if G.has_edge(n, n) else 0 for n in G}


def assist_credit(G: nx.DiGraph[str]) -> dict[str, int]:
    """Credit each node earned on deals others closed: its outflow, the sum of its out-edges
    but the self-loop.

    >>> G = nx.DiGraph([("a", "a", {"amount": 5}), ("a", "b", {"amount": 3})])
    >>> assist_credit(G)
    {'a': 3, 'b': 0}
    """
    return {n: sum(d["amount"] for _, m, d in G.out_edges(n, data=True) if m != n) for n in G}


def received_credit(G: nx.DiGraph[str]) -> dict[str, int]:
    """Credit others earned on the deals each node closed: its inflow, the sum of its in-edges
    but the self-loop.

    >>> G = nx.DiGraph([("a", "a", {"amount": 5}), ("a", "b", {"amount": 3})])
    >>> received_credit(G)
    {'a': 0, 'b': 3}
    """
    return {n: sum(d["amount"] for m, _, d in G.in_edges(n, data=True) if m != n) for n in G}


def assist_ratio(G: nx.DiGraph[str]) -> dict[str, float]:
    """The part of each node's credit earned on deals others closed: ``assists / (own +
    assists)``, 0 for a node that earned nothing.

    A ratio near 1 marks a *farmer* (种地): the early work -- leads, receptions, test drives,
    referrals -- is theirs, the closing someone else's.

    >>> G = nx.DiGraph([("a", "a", {"amount": 5}), ("a", "b", {"amount": 15})])
    >>> assist_ratio(G)
    {'a': 0.75, 'b': 0.0}
    """
    own, assists = own_credit(G), assist_credit(G)
    return {n: assists[n] / (own[n] + assists[n]) if own[n] + assists[n] > 0 else 0.0 for n in G}


def collaboration_strength(G: nx.DiGraph[str]) -> nx.Graph[str]:
    """The undirected graph of how much two nodes work together.

    The edge ``{A, B}`` carries ``amount`` = credit ``A`` earned on ``B``'s deals plus credit
    ``B`` earned on ``A``'s, ``deals`` likewise, and ``distance = 1 / amount`` (strong ties are
    short, for path-based measures). Self-loops are dropped; every node is kept.

    >>> G = nx.DiGraph([("a", "b", {"amount": 3, "deals": 1}), ("b", "a", {"amount": 1,
    ...                 "deals": 1}), ("a", "a", {"amount": 9, "deals": 2})])
    >>> sorted(collaboration_strength(G).edges(data="amount"))
    [('a', 'b', 4)]
    """
    U: nx.Graph[str] = nx.Graph()
    U.add_nodes_from(sorted(G))
    for a, b, d in sorted(G.edges(data=True), key=lambda e: (e[0], e[1])):
        if a == b:
            continue
        if U.has_edge(a, b):
            U.edges[a, b]["amount"] += d["amount"]
            U.edges[a, b]["deals"] += d.get("deals", 0)
        else:
            U.add_edge(a, b, amount=d["amount"], deals=d.get("deals", 0))
    for _, _, d in U.edges(data=True):
        d["distance"] = 1.0 / d["amount"] if d["amount"] > 0 else float("inf")
    return U


def brokerage_centrality(
    G: nx.DiGraph[str], sample: int = BROKERAGE_SAMPLE, seed: int = 0
) -> dict[str, float]:
    """How much each node brokers collaboration between others: weighted betweenness.

    The normalised betweenness centrality of each node in :func:`collaboration_strength`,
    where a tie's length is ``1 / credit`` -- the shortest paths run along the strongest
    collaborations, as in Newman's weighted collaboration networks [1]_. A high value marks a
    bridge: the NIO store in a mall shared with ONVO, the Hainan store that links holiday
    customers to their home cities. It is chosen over degree or PageRank because those mostly
    restate how much credit a node has, which the page shows already by node size.

    Parameters
    ----------
    G : networkx.DiGraph
        A collaboration graph.
    sample : int
        Exact when ``G`` has at most this many nodes; beyond, estimated from ``sample`` source
        nodes drawn with ``seed`` (Brandes & Pich [2]_), so large staff graphs stay fast.
    seed : int
        The sampling seed: the same graph gives the same values.

    Returns
    -------
    dict
        Node to betweenness in ``[0, 1]``; all 0 when ``G`` has fewer than three nodes.

    Examples
    --------
    ``b`` is the only link between ``a`` and ``c``:

    >>> G = nx.DiGraph([("a", "b", {"amount": 2}), ("c", "b", {"amount": 1})])
    >>> brokerage_centrality(G)
    {'a': 0.0, 'b': 1.0, 'c': 0.0}

    References
    ----------
    .. [1] Newman, M. E. J. (2001). Scientific collaboration networks. II. Shortest paths,
       weighted networks, and centrality. *Physical Review E* 64, 016132.
    .. [2] Brandes, U., & Pich, C. (2007). Centrality estimation in large networks.
       *International Journal of Bifurcation and Chaos* 17(7), 2303-2318.
    """
    if len(G) <= 2:
        return {n: 0.0 for n in G}
    U = collaboration_strength(G)
    k = sample if len(U) > sample else None
    values = nx.betweenness_centrality(U, k=k, normalized=True, weight="distance", seed=seed)
    return {n: float(values[n]) for n in G}


def communities(G: nx.DiGraph[str], seed: int = 0, resolution: float = 1.0) -> list[list[str]]:
    """Groups of nodes that work together more than with the rest.

    Louvain modularity maximisation [1]_ on :func:`collaboration_strength` weighted by credit,
    with a fixed ``seed`` over nodes inserted in sorted order, so the same rows always give the
    same communities. A node that collaborated with no one is a community of its own.

    Returns
    -------
    list of lists
        Each community's nodes sorted; the communities largest first (then by first node).

    Examples
    --------
    Two pairs that work together, one weak link between them:

    >>> G = nx.DiGraph([("a", "b", {"amount": 10}), ("b", "a", {"amount": 8}),
    ...                 ("c", "d", {"amount": 9}), ("b", "c", {"amount": 1})])
    >>> communities(G)
    [['a', 'b'], ['c', 'd']]

    References
    ----------
    .. [1] Blondel, V. D., Guillaume, J.-L., Lambiotte, R., & Lefebvre, E. (2008). Fast
       unfolding of communities in large networks. *J. Stat. Mech.* P10008.
    """
    if len(G) == 0:
        return []
    U = collaboration_strength(G)
    found = nx.community.louvain_communities(U, weight="amount", resolution=resolution, seed=seed)
    return sorted((sorted(c) for c in found), key=lambda c: (-len(c), c[0]))


@dataclass(frozen=True)
class NodeMeasures:
    """One node's measures; money in fen.

    ``credit = own + assists``; ``received`` is what others earned on the node's deals;
    ``partners`` the other nodes it earned credit from or gave credit to; ``centrality`` is
    :func:`brokerage_centrality`; ``community`` the index in :func:`communities`.
    """

    credit: int
    own: int
    assists: int
    received: int
    assist_ratio: float
    partners: int
    centrality: float
    community: int


def node_measures(G: nx.DiGraph[str], seed: int = 0) -> dict[str, NodeMeasures]:
    """Every measure of every node of a collaboration graph.

    Examples
    --------
    >>> G = nx.DiGraph([("a", "a", {"amount": 5}), ("a", "b", {"amount": 15}),
    ...                 ("b", "b", {"amount": 20})])
    >>> node_measures(G)["a"]
    NodeMeasures(credit=20, own=5, assists=15, received=0, assist_ratio=0.75, partners=1, \
centrality=0.0, community=0)
    """
    own, assists, received = own_credit(G), assist_credit(G), received_credit(G)
    ratio = assist_ratio(G)
    centrality = brokerage_centrality(G, seed=seed)
    community = {n: i for i, c in enumerate(communities(G, seed=seed)) for n in c}
    return {
        n: NodeMeasures(
            credit=own[n] + assists[n],
            own=own[n],
            assists=assists[n],
            received=received[n],
            assist_ratio=ratio[n],
            partners=len((set(G.successors(n)) | set(G.predecessors(n))) - {n}),
            centrality=centrality[n],
            community=community[n],
        )
        for n in G
    }


@dataclass(frozen=True)
class Flow:
    """Credit between a node and one partner: ``amount`` fen over ``deals`` deals."""

    partner: str
    amount: int
    deals: int


def flows(G: nx.DiGraph[str], node: str) -> tuple[list[Flow], list[Flow]]:
    """A node's inflows (credit partners earned on its deals) and outflows (credit it earned on
    theirs), largest first, self-loop excluded.

    >>> G = nx.DiGraph([("a", "b", {"amount": 3, "deals": 1}), ("c", "b", {"amount": 7,
    ...                 "deals": 2}), ("b", "a", {"amount": 1, "deals": 1})])
    >>> inflows, outflows = flows(G, "b")
    >>> [(f.partner, f.amount) for f in inflows], [(f.partner, f.amount) for f in outflows]
    ([('c', 7), ('a', 3)], [('a', 1)])
    """
    if node not in G:
        return [], []
    inflows = [
        Flow(m, d["amount"], d.get("deals", 0))
        for m, _, d in G.in_edges(node, data=True)
        if m != node
    ]
    outflows = [
        Flow(m, d["amount"], d.get("deals", 0))
        for _, m, d in G.out_edges(node, data=True)
        if m != node
    ]

    def order(f: Flow) -> tuple[int, str]:
        return -f.amount, f.partner

    return sorted(inflows, key=order), sorted(outflows, key=order)

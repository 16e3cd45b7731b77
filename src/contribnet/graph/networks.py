"""Collaboration graphs from settled credit: who earned credit on whose deals.

Stores, staff, brands and cities are the nodes. A directed edge ``A -> B`` carries the credit
that ``A`` earned on deals that ``B`` closed; a self-loop ``A -> A`` is ``A``'s credit on its own
deals. Owner referrers are paid in points, not cash, and belong to no store: the graphs are of
staff credit in fen.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import networkx as nx

from contribnet.domain.credit_rows import CreditRow

__all__ = ["FLOW_LEVELS", "LEVELS", "FlowMatrix", "collaboration_graph", "flow_matrix"]

#: The levels a collaboration graph can be drawn at.
LEVELS: tuple[str, ...] = ("store", "staff", "brand", "city")
#: The levels a flow matrix can be drawn at.
FLOW_LEVELS: tuple[str, ...] = ("brand", "city", "region")

_Key = Callable[[CreditRow], str | None]

#: Per level: the node that earned a row's credit, and the node whose deal it was.
_ENDS: dict[str, tuple[_Key, _Key]] = {
    "store": (lambda r: r.store, lambda r: r.deal_store),
    "staff": (lambda r: r.contributor, lambda r: r.closer),
    "brand": (lambda r: r.brand, lambda r: r.deal_brand),
    "city": (lambda r: r.city, lambda r: r.deal_city),
    "region": (lambda r: r.region, lambda r: r.deal_region),
}


def _place(r: CreditRow, closing: bool) -> tuple[str | None, str | None, str | None, str | None]:
    """(store, brand, city, region) of the deal's closing side or of the credited side."""
    if closing:
        return r.deal_store, r.deal_brand, r.deal_city, r.deal_region
    return r.store, r.brand, r.city, r.region


def _cash_rows(rows: Iterable[CreditRow], level: str) -> Iterable[tuple[str, str, CreditRow]]:
    """(earner, closer, row) of each staff row whose two ends are known at ``level``."""
    if level not in _ENDS:
        raise ValueError(f"unknown level {level!r}; one of {', '.join(_ENDS)}")
    earner, closer = _ENDS[level]
    for r in rows:
        if r.kind != "staff":
            continue
        a, b = earner(r), closer(r)
        if a is not None and b is not None:
            yield a, b, r


def collaboration_graph(rows: Iterable[CreditRow], level: str = "store") -> nx.DiGraph[str]:
    """The directed graph of credit earned on one another's deals.

    Nodes are the stores (or staff, brands, cities) that earned credit or closed a deal. The
    edge ``A -> B`` is the credit ``A`` earned on deals ``B`` closed, so following the arrows
    shows who feeds whom; the self-loop ``A -> A`` is ``A``'s credit on its own deals.

    Parameters
    ----------
    rows : iterable of CreditRow
        Settled credit (see :func:`~contribnet.graph.filters.filter_rows` to pick a period,
        region or brand). Owner rows, and rows whose end at ``level`` is unknown, are skipped.
    level : {"store", "staff", "brand", "city"}
        ``staff`` links the contributor to the deal's closer.

    Returns
    -------
    networkx.DiGraph
        Node attributes: ``brand``, ``city``, ``region`` (and ``store``, the staff member's home:
        the store most of their credit was earned for, or where they closed deals);
        ``deals_closed`` and ``deals_credited``, the distinct deals the node closed and earned
        credit on. Edge attributes: ``amount`` (fen), ``deals`` (distinct deals),
        ``cross_brand`` and ``cross_city`` (the two ends' brands or cities differ; false when
        either is unknown). Nodes and edges are inserted in sorted order, so every algorithm that
        depends on order gives the same answer for the same rows.

    Raises
    ------
    ValueError
        An unknown level.

    See Also
    --------
    flow_matrix : the same sums as a matrix.
    contribnet.graph.measures.node_measures : own credit, assists, ratio, centrality, community.

    Examples
    --------
    Advisor ``x`` of NIO store ``n1`` test-drove the customer; ONVO store ``o1`` closed the deal:

    >>> from datetime import UTC, datetime
    >>> def row(contributor, store, brand, amount, closer="y", deal_store="o1"):
    ...     return CreditRow(settlement="s", deal="d1", closed_at=datetime(2025, 1, 5, tzinfo=UTC),
    ...         deal_store=deal_store, deal_brand="onvo", deal_city="Shanghai", deal_region="East",
    ...         closer=closer, kind="staff", contributor=contributor, store=store, brand=brand,
    ...         city="Shanghai", region="East", amount=amount, points=0, share=amount / 500)
    >>> G = collaboration_graph([row("x", "n1", "nio", 300), row("y", "o1", "onvo", 200)])
    >>> sorted(G.edges(data="amount"))
    [('n1', 'o1', 300), ('o1', 'o1', 200)]
    >>> G.edges["n1", "o1"]["cross_brand"], G.nodes["o1"]["deals_closed"]
    (True, 1)
    """
    amounts: Counter[tuple[str, str]] = Counter()
    edge_deals: defaultdict[tuple[str, str], set[str]] = defaultdict(set)
    closed: defaultdict[str, set[str]] = defaultdict(set)
    credited: defaultdict[str, set[str]] = defaultdict(set)
    # per node, per known place (store, brand, city, region): how much credit speaks for it
    places: defaultdict[str, Counter[tuple[str | None, ...]]] = defaultdict(Counter)
    for a, b, r in _cash_rows(rows, level):
        amounts[a, b] += r.amount
        edge_deals[a, b].add(r.deal)
        closed[b].add(r.deal)
        credited[a].add(r.deal)
        # a node's place: where it earned its credit, and where it closed (weighted lightly,
        # so that a closer who earned nothing still has one)
        places[a][_place(r, closing=False)] += r.amount + 1
        places[b][_place(r, closing=True)] += 0
    G: nx.DiGraph[str] = nx.DiGraph(level=level)
    for n in sorted(set(closed) | set(credited)):
        seen = places[n]
        # the best-supported place; ties broken by the place itself, for determinism
        store, brand, city, region = max(seen, key=lambda p: (seen[p], tuple(x or "" for x in p)))
        if level == "brand":
            brand, city, region = n, None, None
        elif level == "city":
            brand, city = None, n
        attrs: dict[str, object] = {"brand": brand, "city": city, "region": region}
        if level == "staff":
            attrs["store"] = store
        G.add_node(
            n, **attrs, deals_closed=len(closed.get(n, ())), deals_credited=len(credited.get(n, ()))
        )
    for (a, b), amount in sorted(amounts.items()):
        na, nb = G.nodes[a], G.nodes[b]
        G.add_edge(
            a,
            b,
            amount=amount,
            deals=len(edge_deals[a, b]),
            cross_brand=_differ(na["brand"], nb["brand"]),
            cross_city=_differ(na["city"], nb["city"]),
        )
    return G


def _differ(x: object, y: object) -> bool:
    return x is not None and y is not None and x != y


@dataclass(frozen=True)
class FlowMatrix:
    """Credit between groups: ``amounts[i][j]`` fen earned by group ``labels[i]`` on deals
    closed by group ``labels[j]``, over ``deals[i][j]`` distinct deals; the diagonal is credit
    earned within a group."""

    level: str
    labels: list[str]
    amounts: list[list[int]]
    deals: list[list[int]]

    def total(self) -> int:
        return sum(map(sum, self.amounts))

    def between(self) -> int:
        """Credit earned across groups (off the diagonal)."""
        return self.total() - sum(self.amounts[i][i] for i in range(len(self.labels)))


def flow_matrix(rows: Iterable[CreditRow], level: str = "brand") -> FlowMatrix:
    """The matrix of credit earned by one brand (or city, region) on deals closed by another.

    Parameters
    ----------
    rows : iterable of CreditRow
        Settled credit; owner rows and rows with an unknown group are skipped.
    level : {"brand", "city", "region"}

    Returns
    -------
    FlowMatrix
        Rows are the groups that earned credit, columns the groups that closed the deals; labels
        sorted, every group that appears on either side labelling both a row and a column.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> def row(brand, deal_brand, amount, deal="d1"):
    ...     return CreditRow(settlement="s", deal=deal, closed_at=datetime(2025, 1, 5, tzinfo=UTC),
    ...         deal_store="st", deal_brand=deal_brand, deal_city=None, deal_region=None,
    ...         closer="y", kind="staff", contributor="x", store="st", brand=brand, city=None,
    ...         region=None, amount=amount, points=0, share=0.5)
    >>> m = flow_matrix([row("nio", "onvo", 300), row("onvo", "onvo", 200), row("nio", "nio", 50,
    ...                  deal="d2")])
    >>> m.labels, m.amounts, m.between()
    (['nio', 'onvo'], [[50, 300], [0, 200]], 300)
    """
    if level not in FLOW_LEVELS:
        raise ValueError(f"unknown level {level!r}; one of {', '.join(FLOW_LEVELS)}")
    amounts: Counter[tuple[str, str]] = Counter()
    deals: defaultdict[tuple[str, str], set[str]] = defaultdict(set)
    for a, b, r in _cash_rows(rows, level):
        amounts[a, b] += r.amount
        deals[a, b].add(r.deal)
    labels = sorted({x for pair in deals for x in pair})
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    counts = [[0] * len(labels) for _ in labels]
    for (a, b), amount in amounts.items():
        matrix[index[a]][index[b]] = amount
        counts[index[a]][index[b]] = len(deals[a, b])
    return FlowMatrix(level=level, labels=labels, amounts=matrix, deals=counts)

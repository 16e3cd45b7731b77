"""``/v1/graph``: the collaboration graph of settled credit, flows between brands and cities, the
farmers' leaderboard, one store's collaborators, the monthly trend and the directory the page
searches. Leaders and admins only."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from contribnet.api.auth import require_roles
from contribnet.api.deps import StoreDep
from contribnet.domain.credit_rows import CreditRow
from contribnet.graph import (
    EARLY_STAGES,
    business_day,
    collaboration_graph,
    credit_summary,
    farmers,
    filter_rows,
    flow_matrix,
    flows,
    in_scope,
    monthly_summary,
    node_measures,
    staff_credit,
    store_contributors,
)
from contribnet.graph.farmers import Farmer, StaffCredit
from contribnet.graph.measures import NodeMeasures
from contribnet.services.collaboration import early_work_pairs
from contribnet.services.settlement import credit_rows
from contribnet.store.base import Store

router = APIRouter(
    prefix="/v1/graph", tags=["graph"], dependencies=[Depends(require_roles("leader"))]
)

#: Where settled credit comes from: ``(store, start, end) -> rows`` of deals closed in the period.
CreditRowsSource = Callable[[Store, date | None, date | None], Iterable[CreditRow]]


def settled_credit_rows() -> CreditRowsSource:
    """The source of settled credit: the current settlements
    (:func:`contribnet.services.settlement.credit_rows`).

    A dependency, so that a test can read credit from elsewhere
    (``app.dependency_overrides[settled_credit_rows] = ...``).
    """
    return credit_rows


RowsSource = Annotated[CreditRowsSource, Depends(settled_credit_rows)]

#: Where early work comes from: ``(store, start, end) -> {(deal, staff)}`` (see
#: :func:`contribnet.graph.early_work`).
EarlyWorkSource = Callable[[Store, date | None, date | None], set[tuple[str, str]]]


def settled_early_work() -> EarlyWorkSource:
    """The source of early work: the current settlements' explanations
    (:func:`contribnet.services.collaboration.early_work_pairs`); a dependency, like
    :func:`settled_credit_rows`."""
    return early_work_pairs


EarlySource = Annotated[EarlyWorkSource, Depends(settled_early_work)]
From = Annotated[
    date | None,
    Query(alias="from", description="first day of the period (China Standard Time), inclusive"),
]
To = Annotated[
    date | None, Query(description="last day of the period (China Standard Time), inclusive")
]
Region = Annotated[
    str | None,
    Query(description="only credit in which the credited or the closing store is in this region"),
]
Brand = Annotated[
    str | None,
    Query(description="only credit in which the credited or the closing store is of this brand"),
]


# --- response models ------------------------------------------------------------------------


class GraphFilters(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: date | None = Field(None, alias="from")
    to: date | None = None
    region: str | None = None
    brand: str | None = None


class GraphNode(BaseModel):
    """A store (staff member, brand, city) and its measures; money in fen.

    ``credit = own + assists``: credit earned on its own deals and on deals others closed;
    ``received`` is what others earned on its deals; ``assist_ratio = assists / credit``;
    ``centrality`` is weighted betweenness (how much it brokers collaboration between others);
    ``community`` the index of the group of nodes it works with most (Louvain, fixed seed).
    ``in_scope`` is false for a partner outside the region/brand filter, whose measures count
    only its credit with the nodes in scope.
    """

    id: str
    name: str | None = Field(None, description="the store's or staff member's recorded name")
    brand: str | None = None
    city: str | None = None
    region: str | None = None
    store: str | None = Field(None, description="staff level: the member's home store")
    in_scope: bool = True
    credit: int
    own: int
    assists: int
    received: int
    assist_ratio: float
    deals_closed: int
    deals_credited: int
    partners: int
    centrality: float
    community: int


class GraphEdge(BaseModel):
    """``source`` earned ``amount`` fen on ``deals`` deals that ``target`` closed."""

    source: str
    target: str
    amount: int
    deals: int
    cross_brand: bool
    cross_city: bool


class Summary(BaseModel):
    """Totals of the credit shown; ``cross_*`` is credit earned across a store, brand or city
    line (the credited store's differs from the closing store's)."""

    deals: int
    contributors: int
    credit: int
    cross_store: int
    cross_brand: int
    cross_city: int


class Available(BaseModel):
    """What the filters can choose from, over the period asked (all regions and brands)."""

    regions: list[str]
    brands: list[str]
    first_day: date | None = None
    last_day: date | None = None


_NODE_EXAMPLE: dict[str, Any] = {
    "id": "st-sh-nio-1",
    "name": "NIO House Shanghai · Jing'an Kerry Centre",
    "brand": "nio",
    "city": "Shanghai",
    "region": "East",
    "store": None,
    "in_scope": True,
    "credit": 2450000,
    "own": 1710000,
    "assists": 740000,
    "received": 615000,
    "assist_ratio": 0.302,
    "deals_closed": 14,
    "deals_credited": 21,
    "partners": 6,
    "centrality": 0.082,
    "community": 0,
}
_EDGE_EXAMPLE: dict[str, Any] = {
    "source": "st-sh-onvo-1",
    "target": "st-sh-nio-1",
    "amount": 312500,
    "deals": 3,
    "cross_brand": True,
    "cross_city": False,
}


class Collaboration(BaseModel):
    """Nodes with their measures and the directed edges of credit between them. Self-loops
    (credit on one's own deals) are in each node's ``own``, not in ``edges``."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "level": "store",
                    "filters": {"from": "2025-01-01", "to": "2025-03-31", "region": "East"},
                    "summary": {
                        "deals": 212,
                        "contributors": 164,
                        "credit": 106000000,
                        "cross_store": 31800000,
                        "cross_brand": 7420000,
                        "cross_city": 2120000,
                    },
                    "communities": 5,
                    "nodes": [_NODE_EXAMPLE],
                    "edges": [_EDGE_EXAMPLE],
                    "available": {
                        "regions": ["East", "North", "South"],
                        "brands": ["nio", "onvo"],
                        "first_day": "2024-11-02",
                        "last_day": "2025-03-31",
                    },
                }
            ]
        }
    )

    level: Literal["store", "staff", "brand", "city"]
    filters: GraphFilters
    summary: Summary
    communities: int
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    available: Available


class FlowMatrixOut(BaseModel):
    """``amounts[i][j]``: fen earned by ``labels[i]`` on deals closed by ``labels[j]`` (over
    ``deals[i][j]`` deals); the diagonal is credit earned within a group. ``between`` is the
    credit off the diagonal."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "level": "brand",
                    "filters": {"from": None, "to": None, "region": None, "brand": None},
                    "labels": ["nio", "onvo"],
                    "amounts": [[198000000, 2600000], [9100000, 61000000]],
                    "deals": [[392, 21], [58, 131]],
                    "total": 270700000,
                    "between": 11700000,
                }
            ]
        }
    )

    level: Literal["brand", "city", "region"]
    filters: GraphFilters
    labels: list[str]
    amounts: list[list[int]]
    deals: list[list[int]]
    total: int
    between: int


class StaffCreditOut(BaseModel):
    """A staff member's credit: ``own`` on deals they closed, ``assists`` on deals others
    closed; ``other_stores``/``other_brands`` the part earned for a store/brand other than the
    closing one; home ``store`` where most of it was earned."""

    staff: str
    name: str | None = None
    store: str | None = None
    store_name: str | None = None
    brand: str | None = None
    city: str | None = None
    region: str | None = None
    credit: int
    own: int
    assists: int
    assist_ratio: float
    other_stores: int
    other_brands: int
    deals_credited: int
    deals_assisted: int
    closers_helped: int


_FARMER_EXAMPLE: dict[str, Any] = {
    "staff": "sf-sh-onvo-1-3",
    "name": "Lin Xia",
    "store": "st-sh-onvo-1",
    "store_name": "ONVO Center Shanghai · Jing'an Kerry Centre",
    "brand": "onvo",
    "city": "Shanghai",
    "region": "East",
    "credit": 1210000,
    "own": 150000,
    "assists": 1060000,
    "assist_ratio": 0.876,
    "other_stores": 980000,
    "other_brands": 910000,
    "deals_credited": 17,
    "deals_assisted": 15,
    "closers_helped": 9,
}


class FarmerOut(StaffCreditOut):
    """A farmer: their credit profile and their early work. ``early_deals``: deals on which
    early-stage work of theirs earned credit; ``farmed_deals``: those someone else closed;
    ``farmed``: the fen those paid them; ``farmed_share = farmed_deals / early_deals``."""

    early_deals: int
    farmed_deals: int
    farmed: int
    farmed_share: float


class Farmers(BaseModel):
    """Farmers (种地): staff whose early-stage work (a touch at lead, reception, consultation,
    test drive or event that earned them credit) was on deals someone else closed. Ranked by
    those deals (``farmed_deals``), then the fen they paid (``farmed``), then id."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "filters": {"from": "2025-01-01", "to": None, "region": None, "brand": None},
                    "early_stages": list(EARLY_STAGES),
                    "min_deals": 1,
                    "farmers": [
                        {
                            **_FARMER_EXAMPLE,
                            "early_deals": 16,
                            "farmed_deals": 14,
                            "farmed": 1010000,
                            "farmed_share": 0.875,
                        }
                    ],
                }
            ]
        }
    )

    filters: GraphFilters
    early_stages: list[str]
    min_deals: int
    farmers: list[FarmerOut]


class FlowOut(BaseModel):
    """Credit between a store and one partner."""

    store: str
    name: str | None = None
    brand: str | None = None
    city: str | None = None
    amount: int
    deals: int


class StoreCollaborators(BaseModel):
    """One store: its measures in the store graph of the period, the staff who earned credit for
    it, the partners that earned credit on its deals (``inflows``) and on whose deals it earned
    (``outflows``)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "filters": {"from": None, "to": None, "region": None, "brand": None},
                    "store": _NODE_EXAMPLE,
                    "contributors": [_FARMER_EXAMPLE],
                    "inflows": [
                        {
                            "store": "st-sh-onvo-1",
                            "name": "ONVO Center Shanghai · Jing'an Kerry Centre",
                            "brand": "onvo",
                            "city": "Shanghai",
                            "amount": 312500,
                            "deals": 3,
                        }
                    ],
                    "outflows": [],
                }
            ]
        }
    )

    filters: GraphFilters
    store: GraphNode
    contributors: list[StaffCreditOut]
    inflows: list[FlowOut]
    outflows: list[FlowOut]


# --- reads ------------------------------------------------------------------------------------


def _period_rows(
    source: CreditRowsSource, store: Store, start: date | None, end: date | None
) -> list[CreditRow]:
    if start is not None and end is not None and start > end:
        raise HTTPException(422, f"from ({start}) is after to ({end})")
    return list(source(store, start, end))


def _all(store: Store, kind: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = store.list(kind, offset, 1000)
        items += page.items
        offset += len(page.items)
        if not page.items or offset >= page.total:
            return items


def _names(store: Store, kind: str) -> dict[str, str]:
    """Recorded names of every store or staff member."""
    return {i["id"]: i["name"] for i in _all(store, kind) if i.get("name")}


def _staff_out(s: StaffCredit, staff: dict[str, str], stores: dict[str, str]) -> StaffCreditOut:
    return StaffCreditOut(
        **{k: getattr(s, k) for k in StaffCreditOut.model_fields if hasattr(s, k)},
        name=staff.get(s.staff),
        store_name=stores.get(s.store) if s.store else None,
    )


def _filters(
    start: date | None, end: date | None, region: str | None = None, brand: str | None = None
) -> GraphFilters:
    return GraphFilters(from_=start, to=end, region=region, brand=brand)


def _node(
    n: str, attrs: dict[str, Any], m: NodeMeasures, name: str | None, scoped: bool
) -> GraphNode:
    return GraphNode(
        id=n,
        name=name,
        brand=attrs["brand"],
        city=attrs["city"],
        region=attrs["region"],
        store=attrs.get("store"),
        in_scope=scoped,
        deals_closed=attrs["deals_closed"],
        deals_credited=attrs["deals_credited"],
        **{k: getattr(m, k) for k in GraphNode.model_fields if hasattr(m, k)},
    )


def _node_in_scope(
    level: str, attrs: dict[str, Any], region: str | None, brand: str | None
) -> bool:
    """Whether a node matches the filters that apply at its level (a brand spans regions; a
    city, brands)."""
    return in_scope(
        attrs["brand"],
        attrs["region"],
        want_brand=brand if level != "city" else None,
        want_region=region if level != "brand" else None,
    )


@router.get(
    "/collaboration",
    operation_id="getCollaborationGraph",
    response_model=Collaboration,
    summary="The collaboration graph: stores (staff, brands, cities) and the credit between them",
)
def get_collaboration(
    store: StoreDep,
    source: RowsSource,
    level: Annotated[
        Literal["store", "staff", "brand", "city"], Query(description="what the nodes are")
    ] = "store",
    start: From = None,
    to: To = None,
    region: Region = None,
    brand: Brand = None,
) -> Collaboration:
    """The collaboration graph: who earned credit on whose deals, with each node's measures.

    The edge ``A -> B`` is the credit ``A`` earned on deals ``B`` closed. Filters keep credit
    in which the credited or the closing store matches (so partners outside a region or brand
    appear, flagged ``in_scope: false``)."""
    rows = _period_rows(source, store, start, to)
    available = Available(
        regions=sorted({x for r in rows for x in (r.region, r.deal_region) if x}),
        brands=sorted({x for r in rows for x in (r.brand, r.deal_brand) if x}),
        first_day=min((business_day(r.closed_at) for r in rows), default=None),
        last_day=max((business_day(r.closed_at) for r in rows), default=None),
    )
    kept = list(filter_rows(rows, region=region, brand=brand))
    G = collaboration_graph(kept, level)
    measures = node_measures(G)
    names: dict[str, str] = {}
    if level in ("store", "staff"):
        names = _names(store, "stores" if level == "store" else "staff")
    nodes = [
        _node(n, attrs, measures[n], names.get(n), _node_in_scope(level, attrs, region, brand))
        for n, attrs in G.nodes(data=True)
    ]
    edges = [GraphEdge(source=a, target=b, **d) for a, b, d in G.edges(data=True) if a != b]
    s = credit_summary(kept)
    return Collaboration(
        level=level,
        filters=_filters(start, to, region, brand),
        summary=Summary(**s.__dict__),
        communities=len({m.community for m in measures.values()}),
        nodes=nodes,
        edges=edges,
        available=available,
    )


@router.get(
    "/flows",
    operation_id="getCreditFlows",
    response_model=FlowMatrixOut,
    summary="Credit earned by each brand (city, region) on deals closed by each",
)
def get_flows(
    store: StoreDep,
    source: RowsSource,
    level: Annotated[
        Literal["brand", "city", "region"], Query(description="the groups compared")
    ] = "brand",
    start: From = None,
    to: To = None,
    region: Region = None,
    brand: Brand = None,
) -> FlowMatrixOut:
    """The flow matrix: credit earned by each brand (city, region) on deals closed by each."""
    kept = filter_rows(_period_rows(source, store, start, to), region=region, brand=brand)
    m = flow_matrix(kept, level)
    return FlowMatrixOut(
        level=level,
        filters=_filters(start, to, region, brand),
        labels=m.labels,
        amounts=m.amounts,
        deals=m.deals,
        total=m.total(),
        between=m.between(),
    )


@router.get(
    "/farmers",
    operation_id="listFarmers",
    response_model=Farmers,
    summary="The farmers' leaderboard: staff whose early-stage work others closed",
)
def get_farmers(
    store: StoreDep,
    source: RowsSource,
    early_source: EarlySource,
    start: From = None,
    to: To = None,
    region: Region = None,
    brand: Brand = None,
    min_deals: Annotated[
        int, Query(ge=1, description="least number of deals farmed (closed by someone else)")
    ] = 1,
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
) -> Farmers:
    """The farmers' leaderboard (种地): staff whose early-stage work -- a touch at lead,
    reception, consultation, test drive or event that earned them credit -- was on deals someone
    else closed; ranked by those deals, then the credit they paid, then id. The analysts'
    ``farmers`` query answers the same question in Cypher."""
    kept = filter_rows(_period_rows(source, store, start, to), region=region, brand=brand)
    ranked = farmers(kept, early_source(store, start, to), min_deals=min_deals, limit=limit)
    staff, stores = _names(store, "staff"), _names(store, "stores")
    return Farmers(
        filters=_filters(start, to, region, brand),
        early_stages=list(EARLY_STAGES),
        min_deals=min_deals,
        farmers=[_farmer_out(f, staff, stores) for f in ranked],
    )


def _farmer_out(f: Farmer, staff: dict[str, str], stores: dict[str, str]) -> FarmerOut:
    return FarmerOut(
        **_staff_out(f.profile, staff, stores).model_dump(),
        early_deals=f.early_deals,
        farmed_deals=f.farmed_deals,
        farmed=f.farmed,
        farmed_share=f.farmed_share,
    )


@router.get(
    "/stores/{store_id}",
    response_model=StoreCollaborators,
    summary="One store: its measures, top contributors, inflows and outflows",
    responses={404: {"description": "The store earned and closed nothing in the period."}},
)
def get_store_collaborators(
    store_id: Annotated[str, Path(examples=["st-sh-nio-1"])],
    store: StoreDep,
    source: RowsSource,
    start: From = None,
    to: To = None,
    region: Region = None,
    brand: Brand = None,
    limit: Annotated[int, Query(ge=1, le=100, description="contributors shown")] = 10,
) -> StoreCollaborators:
    """One store in the period and under the region and brand filters (the same credit the
    collaboration graph draws for them): its measures, its top contributors, its inflows and
    outflows."""
    rows = list(filter_rows(_period_rows(source, store, start, to), region=region, brand=brand))
    G = collaboration_graph(rows, "store")
    if store_id not in G:
        raise HTTPException(404, f"store {store_id!r} has no settled credit under these filters")
    m = node_measures(G)[store_id]
    stores = _names(store, "stores")
    scoped = _node_in_scope("store", G.nodes[store_id], region, brand)
    node = _node(store_id, G.nodes[store_id], m, stores.get(store_id), scoped)
    people = store_contributors(rows, store_id, limit=limit)
    staff = _names(store, "staff") if people else {}
    inflows, outflows = flows(G, store_id)

    def out(f: Any) -> FlowOut:
        p = G.nodes[f.partner]
        return FlowOut(
            store=f.partner,
            name=stores.get(f.partner),
            brand=p["brand"],
            city=p["city"],
            amount=f.amount,
            deals=f.deals,
        )

    return StoreCollaborators(
        filters=_filters(start, to, region, brand),
        store=node,
        contributors=[_staff_out(s, staff, stores) for s in people],
        inflows=[out(f) for f in inflows],
        outflows=[out(f) for f in outflows],
    )


class TrendMonth(Summary):
    """One month's :class:`Summary` (``month`` is ``YYYY-MM`` of the close, China Standard
    Time)."""

    month: str


class Trend(BaseModel):
    """Credit and its cross-store, cross-brand and cross-city parts month by month, for the
    whole network under the filters and, with ``store``, for the credit earned for that store
    or on its deals."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "filters": {"from": None, "to": None, "region": None, "brand": None},
                    "store": None,
                    "months": [
                        {
                            "month": "2025-01",
                            "deals": 98,
                            "contributors": 141,
                            "credit": 49000000,
                            "cross_store": 9100000,
                            "cross_brand": 2300000,
                            "cross_city": 800000,
                        }
                    ],
                    "store_months": [],
                }
            ]
        }
    )

    filters: GraphFilters
    store: str | None = None
    months: list[TrendMonth]
    store_months: list[TrendMonth]


@router.get(
    "/trend",
    operation_id="getCreditTrend",
    response_model=Trend,
    summary="Credit and its cross-store, cross-brand and cross-city parts, month by month",
)
def get_trend(
    store: StoreDep,
    source: RowsSource,
    start: From = None,
    to: To = None,
    region: Region = None,
    brand: Brand = None,
    store_id: Annotated[
        str | None, Query(alias="store", description="also the months of this store")
    ] = None,
) -> Trend:
    """Month by month: credit settled and how much of it crossed a store, brand or city line,
    for the network under the filters and, with ``store``, for that store."""
    kept = list(filter_rows(_period_rows(source, store, start, to), region=region, brand=brand))

    def months(rows: list[CreditRow], only: str | None) -> list[TrendMonth]:
        return [TrendMonth(month=m, **s.__dict__) for m, s in monthly_summary(rows, only)]

    return Trend(
        filters=_filters(start, to, region, brand),
        store=store_id,
        months=months(kept, None),
        store_months=months(kept, store_id) if store_id else [],
    )


class DirectoryStore(BaseModel):
    id: str
    name: str | None = None
    brand: str | None = None
    city: str | None = None
    region: str | None = None


class DirectoryStaff(BaseModel):
    id: str
    name: str | None = None
    store: str | None = Field(None, description="the home store: where most of their credit was")


class Directory(BaseModel):
    """What the page's search finds: the stores and staff with settled credit under the
    filters (staff with the store they earned most for)."""

    filters: GraphFilters
    stores: list[DirectoryStore]
    staff: list[DirectoryStaff]


@router.get(
    "/directory",
    operation_id="getGraphDirectory",
    response_model=Directory,
    summary="The stores and staff with settled credit under the filters, for search",
)
def get_directory(
    store: StoreDep,
    source: RowsSource,
    start: From = None,
    to: To = None,
    region: Region = None,
    brand: Brand = None,
) -> Directory:
    """The stores (with brand, city, region) and staff (with their home store) that the
    collaboration graph draws under these filters."""
    kept = list(filter_rows(_period_rows(source, store, start, to), region=region, brand=brand))
    G = collaboration_graph(kept, "store")
    stores, staff = _names(store, "stores"), _names(store, "staff")
    return Directory(
        filters=_filters(start, to, region, brand),
        stores=[
            DirectoryStore(
                id=n,
                name=stores.get(n),
                brand=G.nodes[n]["brand"],
                city=G.nodes[n]["city"],
                region=G.nodes[n]["region"],
            )
            for n in sorted(G.nodes)
        ],
        staff=[
            DirectoryStaff(id=p.staff, name=staff.get(p.staff), store=p.store)
            for p in staff_credit(kept)
        ],
    )

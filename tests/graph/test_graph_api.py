"""``/v1/graph`` over the hand-built network (conftest.py): roles, exact answers, filters."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from contribnet.api.app import create_app
from contribnet.api.routers.graph import settled_credit_rows, settled_early_work
from contribnet.domain.credit_rows import CreditRow
from contribnet.graph import business_day
from contribnet.services.keys import create_key
from contribnet.settings import Settings
from contribnet.store import open_store

NAMES = {"n1": "NIO House Shanghai", "o1": "ONVO Center Shanghai"}
#: (deal, staff) credited for early-stage work (o2h only delivered): see test_farmers.py
EARLY = {("d1", "n1x"), ("d2", "n1x"), ("d4", "n1x"), ("d1", "o1a"), ("d4", "o1a"), ("d4", "n1z")}
STAFF = [
    {"type": "staff", "id": "n1x", "name": "Wang Fang", "store": "n1", "role": "advisor"},
    {"type": "staff", "id": "o1a", "name": "Li Na", "store": "o1", "role": "advisor"},
]


@pytest.fixture
def client(tmp_path: Path, rows: list[CreditRow], stores) -> Iterator[TestClient]:
    def source(_store, start: date | None, end: date | None) -> Iterator[CreditRow]:
        # the signature of contribnet.services.settlement.credit_rows
        for r in rows:
            day = business_day(r.closed_at)
            if (start is None or day >= start) and (end is None or day <= end):
                yield r

    events = [
        {
            "type": "store",
            "id": s,
            "name": NAMES.get(s, s.upper()),
            "brand": b,
            "city": c,
            "region": r,
        }
        for s, (b, c, r) in stores.items()
    ] + STAFF
    store = open_store(f"sqlite:///{tmp_path / 'graph.db'}")
    app = create_app(store=store, settings=Settings(admin_key="boot"))
    app.dependency_overrides[settled_credit_rows] = lambda: source
    app.dependency_overrides[settled_early_work] = lambda: lambda _store, _start, _end: EARLY
    with TestClient(app) as c:
        assert (
            c.post("/v1/events", json={"events": events}, headers=_auth("boot")).status_code == 200
        )
        c.headers["Authorization"] = f"Bearer {create_key(store, 'leader')}"
        c.store = store  # type: ignore[attr-defined]
        yield c
    store.close()


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_only_leaders_and_admins(client: TestClient) -> None:
    path = "/v1/graph/collaboration"
    assert client.get(path, headers={"Authorization": ""}).status_code == 401
    for role in ("analyst", "ingest"):
        assert client.get(path, headers=_auth(create_key(client.store, role))).status_code == 403
    staff = create_key(client.store, "staff", staff="n1x")
    for p in (path, "/v1/graph/flows", "/v1/graph/farmers", "/v1/graph/stores/n1"):
        assert client.get(p, headers=_auth(staff)).status_code == 403
    assert client.get(path, headers=_auth("boot")).status_code == 200
    assert client.get(path).status_code == 200  # the leader key


def test_store_collaboration(client: TestClient) -> None:
    body = client.get("/v1/graph/collaboration").json()
    assert body["level"] == "store"
    assert body["summary"] == {
        "deals": 5,
        "contributors": 5,
        "credit": 2500,
        "cross_store": 800,
        "cross_brand": 800,
        "cross_city": 200,
    }
    assert body["communities"] == 2
    assert body["available"] == {
        "regions": ["East", "North", "South"],
        "brands": ["nio", "onvo"],
        "first_day": "2025-01-10",
        "last_day": "2025-02-20",
    }
    n1 = next(n for n in body["nodes"] if n["id"] == "n1")
    assert n1 == {
        "id": "n1",
        "name": "NIO House Shanghai",
        "brand": "nio",
        "city": "Shanghai",
        "region": "East",
        "store": None,
        "in_scope": True,
        "credit": 1000,
        "own": 700,
        "assists": 300,
        "received": 400,
        "assist_ratio": 0.3,
        "deals_closed": 2,
        "deals_credited": 3,
        "partners": 2,
        "centrality": pytest.approx(2 / 3),
        "community": 0,
    }
    edges = {(e["source"], e["target"]): e for e in body["edges"]}
    assert set(edges) == {("n1", "o1"), ("o1", "n1"), ("o2", "n1"), ("o2", "n2")}  # no self-loops
    assert edges["o2", "n1"] == {
        "source": "o2",
        "target": "n1",
        "amount": 100,
        "deals": 1,
        "cross_brand": True,
        "cross_city": True,
    }


def test_filters_mark_partners_outside_the_region(client: TestClient) -> None:
    body = client.get("/v1/graph/collaboration", params={"region": "East"}).json()
    scope = {n["id"]: n["in_scope"] for n in body["nodes"]}
    assert scope == {"n1": True, "o1": True, "o2": False}
    assert body["summary"]["deals"] == 3
    assert body["filters"] == {"from": None, "to": None, "region": "East", "brand": None}
    feb = client.get("/v1/graph/collaboration", params={"from": "2025-02-01", "to": "2025-02-28"})
    assert feb.json()["summary"]["deals"] == 3
    assert feb.json()["filters"]["from"] == "2025-02-01"
    brand = client.get("/v1/graph/collaboration", params={"level": "brand", "brand": "onvo"}).json()
    assert {n["id"]: n["in_scope"] for n in brand["nodes"]} == {"nio": False, "onvo": True}


def test_staff_brand_and_city_levels(client: TestClient) -> None:
    staff = client.get("/v1/graph/collaboration", params={"level": "staff"}).json()
    by_id = {n["id"]: n for n in staff["nodes"]}
    assert (by_id["n1x"]["name"], by_id["n1x"]["store"], by_id["n1x"]["credit"]) == (
        "Wang Fang",
        "n1",
        800,
    )
    cities = client.get("/v1/graph/collaboration", params={"level": "city"}).json()
    assert sorted(n["id"] for n in cities["nodes"]) == ["Beijing", "Haikou", "Shanghai"]
    haikou = next(n for n in cities["nodes"] if n["id"] == "Haikou")
    assert (haikou["assists"], haikou["assist_ratio"], haikou["region"]) == (200, 1.0, "South")


def test_flows(client: TestClient) -> None:
    brands = client.get("/v1/graph/flows").json()
    assert brands == {
        "level": "brand",
        "filters": {"from": None, "to": None, "region": None, "brand": None},
        "labels": ["nio", "onvo"],
        "amounts": [[1500, 300], [500, 200]],
        "deals": [[4, 1], [3, 1]],
        "total": 2500,
        "between": 800,
    }
    cities = client.get("/v1/graph/flows", params={"level": "city", "to": "2025-01-31"}).json()
    assert cities["labels"] == ["Haikou", "Shanghai"]
    assert cities["amounts"] == [[0, 100], [0, 900]]
    assert client.get("/v1/graph/flows", params={"level": "staff"}).status_code == 422


def test_farmers(client: TestClient) -> None:
    body = client.get("/v1/graph/farmers").json()
    assert body["early_stages"] == ["lead", "reception", "consultation", "test_drive", "event"]
    assert [(f["staff"], f["farmed_deals"], f["farmed"]) for f in body["farmers"]] == [
        ("n1x", 2, 400),
        ("o1a", 1, 250),
    ]
    first = body["farmers"][0]
    assert (first["name"], first["store_name"], first["other_brands"], first["early_deals"]) == (
        "Wang Fang",
        "NIO House Shanghai",
        350,
        3,
    )
    strict = client.get("/v1/graph/farmers", params={"min_deals": 2, "limit": 5}).json()
    assert [f["staff"] for f in strict["farmers"]] == ["n1x"]
    assert client.get("/v1/graph/farmers", params={"min_deals": 0}).status_code == 422
    east = client.get("/v1/graph/farmers", params={"region": "North"}).json()
    assert east["farmers"] == []


def test_store_detail_under_filters(client: TestClient) -> None:
    """The detail of a store is the credit the graph draws under the same filters."""
    whole = client.get("/v1/graph/stores/o1").json()["store"]
    nio = client.get("/v1/graph/stores/o1", params={"brand": "nio"}).json()
    assert (whole["credit"], nio["store"]["credit"]) == (500, 300)  # o1's own d1 share is out
    assert nio["store"]["in_scope"] is False and nio["filters"]["brand"] == "nio"
    r = client.get("/v1/graph/stores/n2", params={"region": "East"})
    assert r.status_code == 404


def test_trend_and_directory(client: TestClient) -> None:
    trend = client.get("/v1/graph/trend", params={"store": "n2"}).json()
    assert [(m["month"], m["credit"]) for m in trend["months"]] == [
        ("2025-01", 1000),
        ("2025-02", 1500),
    ]
    assert [(m["month"], m["credit"]) for m in trend["store_months"]] == [
        ("2025-02", 900),
    ]
    found = client.get("/v1/graph/directory", params={"region": "North"}).json()
    assert [s["id"] for s in found["stores"]] == ["n2", "o2"]
    assert {p["id"]: p["store"] for p in found["staff"]} == {"n2y": "n2", "o2h": "o2"}


def test_store_collaborators(client: TestClient) -> None:
    body = client.get("/v1/graph/stores/n1").json()
    assert body["store"]["credit"] == 1000 and body["store"]["received"] == 400
    assert [(f["store"], f["name"], f["amount"], f["deals"]) for f in body["inflows"]] == [
        ("o1", "ONVO Center Shanghai", 300, 1),
        ("o2", "O2", 100, 1),
    ]
    assert [(f["store"], f["amount"]) for f in body["outflows"]] == [("o1", 300)]
    assert [(s["staff"], s["name"], s["credit"]) for s in body["contributors"]] == [
        ("n1x", "Wang Fang", 750),
        ("n1z", None, 250),
    ]
    r = client.get("/v1/graph/stores/nowhere")
    assert r.status_code == 404 and "nowhere" in r.json()["detail"]
    jan = client.get("/v1/graph/stores/n2", params={"to": "2025-01-31"})
    assert jan.status_code == 404


def test_period_must_be_in_order(client: TestClient) -> None:
    r = client.get("/v1/graph/collaboration", params={"from": "2025-03-01", "to": "2025-02-01"})
    assert r.status_code == 422


def test_openapi_documents_the_graph_with_examples(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path in ("collaboration", "flows", "farmers", "stores/{store_id}", "trend", "directory"):
        assert f"/v1/graph/{path}" in spec["paths"]
    for model in ("Collaboration", "FlowMatrixOut", "Farmers", "StoreCollaborators"):
        assert spec["components"]["schemas"][model]["examples"]

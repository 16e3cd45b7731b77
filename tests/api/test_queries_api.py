"""``/v1/queries`` and ``/v1/cypher`` over a real Neo4j: roles, results, errors, refusals."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import neo4j
import pytest
from fastapi.testclient import TestClient

from contribnet.api.app import create_app
from contribnet.demo.scenarios import all_events
from contribnet.services.ingest import ingest_stream
from contribnet.services.keys import create_key
from contribnet.settings import Settings
from contribnet.store import Store, open_store

ADMIN = "boot-admin-key"


def _url(server: Any) -> str:
    parts = urlsplit(server.uri)
    auth = f"{quote(server.user)}:{quote(server.password, safe='')}"
    return f"{parts.scheme}://{auth}@{parts.hostname}:{parts.port}"


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _counts(driver: neo4j.Driver) -> tuple[int, int]:
    records, _, _ = driver.execute_query(
        "CALL () { MATCH (n) RETURN count(n) AS nodes } "
        "CALL () { MATCH ()-[r]->() RETURN count(r) AS rels } RETURN nodes, rels",
        database_="neo4j",
    )
    return records[0]["nodes"], records[0]["rels"]


@pytest.fixture(scope="module")
def api(neo4j_server: Any, neo4j_driver: neo4j.Driver) -> Iterator[tuple[TestClient, Store]]:
    with neo4j_driver.session(database="neo4j") as session:
        session.run(
            "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
        ).consume()
    url = _url(neo4j_server)
    store = open_store(url)
    ingest_stream(store, all_events())
    app = create_app(store=store, settings=Settings(store_url=url, admin_key=ADMIN))
    with TestClient(app) as client:
        yield client, store
    store.close()


@pytest.fixture(scope="module")
def keys(api: tuple[TestClient, Store]) -> dict[str, str]:
    _, store = api
    return {
        "admin": ADMIN,
        "analyst": create_key(store, "analyst"),
        "leader": create_key(store, "leader"),
        "ingest": create_key(store, "ingest"),
        "staff": create_key(store, "staff", staff="sf-nio-sh-ma"),
    }


def test_only_analysts_and_admins_may_query(api, keys) -> None:
    client, _ = api
    body = {"params": {"handover": "h-s3-1"}}
    cypher = {"query": "RETURN 1 AS one"}
    for role in ("analyst", "admin"):
        headers = _auth(keys[role])
        assert client.get("/v1/queries", headers=headers).status_code == 200
        ran = client.post("/v1/queries/handover_conversion", json=body, headers=headers)
        assert ran.status_code == 200, ran.text
        assert client.post("/v1/cypher", json=cypher, headers=headers).json()["rows"] == [
            {"one": 1}
        ]
    for role in ("leader", "staff", "ingest"):
        headers = _auth(keys[role])
        assert client.get("/v1/queries", headers=headers).status_code == 403, role
        assert (
            client.post("/v1/queries/handover_conversion", json=body, headers=headers).status_code
            == 403
        )
        assert client.post("/v1/cypher", json=cypher, headers=headers).status_code == 403
    assert client.get("/v1/queries").status_code == 401
    assert client.post("/v1/cypher", json=cypher).status_code == 401


def test_list_describes_each_query(api, keys) -> None:
    client, _ = api
    listed = client.get("/v1/queries", headers=_auth(keys["analyst"])).json()["queries"]
    by_name = {q["name"]: q for q in listed}
    assert {"customer_journey", "farmers", "owner_referral_chains"} <= set(by_name)
    touches = by_name["touches_before_deal"]
    assert touches["question"].startswith("Which touches came before a deal")
    assert touches["parameters"] == [
        {"name": "deal", "type": "STRING", "required": True, "default": None,
         "description": "the deal's id"},
        {"name": "days", "type": "INTEGER", "required": False, "default": 90,
         "description": "how many days before the close to look back"},
    ]  # fmt: skip
    assert touches["returns"][:3] == ["at", "days_before", "stage"]
    assert "d-0000163" in touches["example"] and "MATCH" in touches["cypher"]
    assert touches["example_params"] == {"deal": "d-0000163", "days": 30}


def test_run_a_library_query(api, keys) -> None:
    client, _ = api
    ran = client.post(
        "/v1/queries/touches_before_deal",
        json={"params": {"deal": "d-s5-1", "days": "7"}},
        headers=_auth(keys["analyst"]),
    )
    assert ran.status_code == 200, ran.text
    result = ran.json()
    assert result["columns"][:3] == ["at", "days_before", "stage"]
    assert [r["stage"] for r in result["rows"]] == ["quote", "order"]
    assert result["row_count"] == 2 and result["truncated"] is False
    period = client.post(
        "/v1/queries/cross_brand_referrals",
        json={"params": {"from": "2025-02-01T00:00:00Z"}},
        headers=_auth(keys["analyst"]),
    ).json()
    assert [(r["from_brand"], r["to_brand"]) for r in period["rows"]] == [("onvo", "nio")]
    capped = client.post(
        "/v1/queries/customer_journey",
        json={"params": {"customer": "c-s5-qian"}, "max_rows": 2},
        headers=_auth(keys["analyst"]),
    ).json()
    assert capped["row_count"] == 2 and capped["truncated"] is True
    # no body at all: every parameter of handover_conversion has a default
    bare = client.post("/v1/queries/handover_conversion", headers=_auth(keys["analyst"]))
    assert bare.status_code == 200 and bare.json()["rows"][0]["converted"] == 2


def test_query_errors(api, keys) -> None:
    client, _ = api
    headers = _auth(keys["analyst"])
    unknown = client.post("/v1/queries/no_such_query", json={}, headers=headers)
    assert unknown.status_code == 404 and "no_such_query" in unknown.json()["detail"]
    for params, field in [
        ({"deal": "d-s5-1", "dayz": 3}, "params.dayz"),
        ({"days": 3}, "params.deal"),
        ({"deal": "d-s5-1", "days": "a week"}, "params.days"),
    ]:
        bad = client.post(
            "/v1/queries/touches_before_deal", json={"params": params}, headers=headers
        )
        assert bad.status_code == 422, bad.text
        assert bad.json()["errors"][0]["field"] == field
        assert bad.json()["detail"].startswith(field)
    extra = client.post("/v1/queries/handover_conversion", json={"parms": {}}, headers=headers)
    assert extra.status_code == 422 and "parms" in extra.json()["detail"]
    too_many = client.post(
        "/v1/queries/handover_conversion", json={"max_rows": 10**9}, headers=headers
    )
    assert too_many.status_code == 422 and "max_rows" in too_many.json()["detail"]
    negative = client.post("/v1/queries/farmers", json={"params": {"limit": -1}}, headers=headers)
    assert negative.status_code == 400 and negative.json()["code"].startswith("Neo.ClientError")


def test_free_cypher(api, keys, neo4j_driver: neo4j.Driver) -> None:
    client, _ = api
    headers = _auth(keys["analyst"])
    ok = client.post(
        "/v1/cypher",
        json={
            "query": "MATCH (s:Store {brand: $brand}) RETURN s.id AS store ORDER BY store",
            "params": {"brand": "onvo"},
        },
        headers=headers,
    )
    assert ok.status_code == 200, ok.text
    assert [r["store"] for r in ok.json()["rows"]] == [
        "st-onvo-bj-1",
        "st-onvo-sh-1",
        "st-onvo-sh-2",
    ]
    capped = client.post(
        "/v1/cypher", json={"query": "UNWIND range(1, 10000000) AS x RETURN x", "max_rows": 5},
        headers=headers,
    ).json()  # fmt: skip
    assert capped["truncated"] is True and capped["row_count"] == 5
    before = _counts(neo4j_driver)
    for text in (
        "CREATE (:Intruder)",
        "MATCH (d:Deal) SET d.amount = 0",
        "CALL db.createLabel('Intruder')",
        "MATCH (n) RETURN n; MATCH (n) DETACH DELETE n",
        "LOAD CSV FROM 'file:///etc/passwd' AS line RETURN line",
        "CALL () { CREATE (:Intruder) }",
    ):
        refused = client.post("/v1/cypher", json={"query": text}, headers=headers)
        assert refused.status_code == 400, text
        assert refused.json()["detail"].startswith("query refused")
    assert _counts(neo4j_driver) == before
    syntax = client.post("/v1/cypher", json={"query": "MATCH (n RETURN n"}, headers=headers)
    assert syntax.status_code == 400
    assert syntax.json()["code"] == "Neo.ClientError.Statement.SyntaxError"
    assert "Invalid input" in syntax.json()["detail"]
    slow = client.post(
        "/v1/cypher",
        json={
            "query": "UNWIND range(1, 100000000) AS x UNWIND range(1, 100) AS y RETURN count(*)",
            "timeout_seconds": 1,
        },
        headers=headers,
    )
    assert slow.status_code == 400 and "timeout" in slow.json()["detail"]
    missing = client.post("/v1/cypher", json={"params": {}}, headers=headers)
    assert missing.status_code == 422 and "query" in missing.json()["detail"]


def test_openapi_documents_the_routes(api) -> None:
    client, _ = api
    spec = client.get("/openapi.json").json()
    assert {"/v1/queries", "/v1/queries/{name}", "/v1/cypher"} <= set(spec["paths"])
    cypher = spec["paths"]["/v1/cypher"]["post"]
    assert {"200", "400", "409", "422"} <= set(cypher["responses"])
    assert "QueryResultOut" in spec["components"]["schemas"]
    assert spec["components"]["schemas"]["CypherIn"]["examples"]


def test_sqlite_store_answers_409(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'q.db'}"
    store = open_store(url)
    app = create_app(store=store, settings=Settings(store_url=url, admin_key=ADMIN))
    with TestClient(app) as client:
        listed = client.get("/v1/queries", headers=_auth(ADMIN))
        assert listed.status_code == 200  # the library itself is files
        ran = client.post("/v1/queries/farmers", json={}, headers=_auth(ADMIN))
        assert ran.status_code == 409 and "needs the Neo4j store" in ran.json()["detail"]
        cypher = client.post("/v1/cypher", json={"query": "RETURN 1"}, headers=_auth(ADMIN))
        assert cypher.status_code == 409
    store.close()

"""The OpenAPI document is a contract clients can generate from, and the API keeps to it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import neo4j
import pytest
from fastapi.testclient import TestClient

from contribnet.api.app import create_app
from contribnet.domain.policy import MODEL_NAMES
from contribnet.services.queries import to_json
from contribnet.settings import Settings
from contribnet.store import open_store

ADMIN = "contract-admin-key-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {ADMIN}"}
ERROR_REF = "#/components/schemas/ErrorBody"
# fmt: off
EVENTS = [
    {"type": "store", "id": "st-1", "name": "NIO Shanghai", "brand": "nio", "city": "Shanghai", "region": "East"},  # noqa: E501
    {"type": "store", "id": "st-2", "name": "NIO Beijing", "brand": "nio", "city": "Beijing", "region": "North"},  # noqa: E501
    {"type": "staff", "id": "sf-1", "name": "Wang", "store": "st-1", "role": "advisor"},
    {"type": "staff", "id": "sf-2", "name": "Zhao", "store": "st-2", "role": "advisor"},
    {"type": "customer", "id": "c-1"},
    {"type": "customer", "id": "c-2"},
    {"type": "deal", "id": "d-1", "customer": "c-1", "store": "st-1", "staff": "sf-1", "closed_at": "2025-01-10T00:00:00Z", "amount": 100, "reward_pool": 10},  # noqa: E501
    {"type": "deal", "id": "d-2", "customer": "c-2", "store": "st-2", "staff": "sf-2", "closed_at": "2025-02-10T00:00:00Z", "amount": 100, "reward_pool": 10},  # noqa: E501
]
# fmt: on


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    url = f"sqlite:///{tmp_path / 'contract.db'}"
    store = open_store(url)
    with TestClient(
        create_app(store=store, settings=Settings(store_url=url, admin_key=ADMIN))
    ) as c:
        yield c
    store.close()


@pytest.fixture
def spec(client: TestClient) -> dict[str, Any]:
    return client.get("/openapi.json").json()


def _operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            yield path, method, operation


def test_no_default_validation_error_schema(spec: dict[str, Any]) -> None:
    text = json.dumps(spec)
    assert "HTTPValidationError" not in text
    assert "#/$defs/" not in text  # every reference resolves in the document
    assert {"ErrorBody", "FieldError"} <= set(spec["components"]["schemas"])


def test_operation_ids_are_camel_case_and_unique(spec: dict[str, Any]) -> None:
    ids = [op["operationId"] for _, _, op in _operations(spec)]
    assert all(re.fullmatch(r"[a-z][a-zA-Z0-9]*", i) for i in ids), ids
    assert len(ids) == len(set(ids))
    by_route = {(p, m): op["operationId"] for p, m, op in _operations(spec)}
    assert by_route["/v1/deals/{deal_id}/credit", "get"] == "getDealCredit"
    assert by_route["/v1/deals", "get"] == "listDeals"
    assert by_route["/v1/events", "post"] == "postEvents"


def test_every_operation_declares_its_errors_with_the_error_body(spec: dict[str, Any]) -> None:
    secured = 0
    for path, method, op in _operations(spec):
        responses = op["responses"]
        assert "422" in responses, (method, path)
        if op.get("security"):
            secured += 1
            assert {"401", "503"} <= set(responses), (method, path)
            assert set(op["x-roles"]) <= {"admin", "ingest", "analyst", "leader", "staff"}
        if "{" in path:
            assert "404" in responses, (method, path)
        for status, response in responses.items():
            if int(status) >= 400:
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": ERROR_REF}, (method, path, status)
    assert secured >= 25
    settle = spec["paths"]["/v1/deals/{deal_id}/settlements"]["post"]["responses"]
    assert {"401", "403", "404", "409", "422", "503"} <= set(settle)
    assert "x-roles" not in spec["paths"]["/health"]["get"]


def test_events_are_a_discriminated_union_by_type(spec: dict[str, Any]) -> None:
    body = spec["paths"]["/v1/events"]["post"]["requestBody"]["content"]["application/json"]
    items = body["schema"]["properties"]["events"]["items"]
    assert items["discriminator"]["propertyName"] == "type"
    mapping = items["discriminator"]["mapping"]
    assert set(mapping) >= {"brand", "store", "staff", "customer", "touch", "deal", "void"}
    deal = spec["components"]["schemas"][mapping["deal"].rsplit("/", 1)[-1]]
    assert "type" in deal["required"] and deal["properties"]["amount"]["type"] == "integer"


def test_model_parameters_are_enums(spec: dict[str, Any]) -> None:
    params = spec["paths"]["/v1/deals/{deal_id}/credit"]["get"]["parameters"]
    model = next(p for p in params if p["name"] == "model")["schema"]
    enums = [s["enum"] for s in model["anyOf"] if "enum" in s]
    assert enums == [list(MODEL_NAMES)]
    settle = spec["components"]["schemas"]["SettleRequest"]["properties"]["model"]
    assert any(s.get("enum") == list(MODEL_NAMES) for s in settle["anyOf"])
    assert spec["components"]["schemas"]["Role"]["enum"] == [
        "admin",
        "ingest",
        "analyst",
        "leader",
        "staff",
    ]


def test_one_path_parameter_naming(spec: dict[str, Any]) -> None:
    assert not [p for p in spec["paths"] if "{item_id}" in p]
    assert {"/v1/deals/{deal_id}", "/v1/staff/{staff_id}", "/v1/stores/{store_id}"} <= set(
        spec["paths"]
    )


def test_unknown_query_parameter_is_a_422_naming_it(client: TestClient) -> None:
    r = client.get("/v1/stores", params={"stroe": "st-1", "limit": 5}, headers=AUTH)
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["query.stroe"]
    assert "stroe" in r.json()["detail"]
    assert client.get("/v1/stores", params={"limit": 5}, headers=AUTH).status_code == 200
    # an alias is a declared name: ``from`` is known, ``start`` (the Python name) is not
    assert client.get("/v1/rollups", params={"from": "2025-01-01"}, headers=AUTH).status_code == 200
    bad = client.get("/v1/rollups", params={"start": "2025-01-01"}, headers=AUTH)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.start"


def test_deals_filtered_by_store_staff_and_period(client: TestClient) -> None:
    assert client.post("/v1/events", json={"events": EVENTS}, headers=AUTH).status_code == 200

    def ids(**params: str) -> list[str]:
        r = client.get("/v1/deals", params=params, headers=AUTH)
        assert r.status_code == 200, r.text
        return [d["id"] for d in r.json()["items"]]

    assert ids() == ["d-1", "d-2"]
    assert ids(store="st-1") == ["d-1"]
    assert ids(staff="sf-2") == ["d-2"]
    assert ids(**{"from": "2025-02-01"}) == ["d-2"]
    assert ids(**{"to": "2025-01-31"}) == ["d-1"]
    assert ids(store="st-1", **{"from": "2025-02-01"}) == []
    r = client.get("/v1/deals", params={"from": "2025-02-01", "to": "2025-01-01"}, headers=AUTH)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.to"


def test_paths_renamed_still_read(client: TestClient) -> None:
    assert client.post("/v1/events", json={"events": EVENTS}, headers=AUTH).status_code == 200
    assert client.get("/v1/deals/d-1", headers=AUTH).json()["id"] == "d-1"
    assert client.get("/v1/staff/sf-1", headers=AUTH).status_code == 200
    assert client.get("/v1/stores/st-1", headers=AUTH).json()["name"] == "NIO Shanghai"
    missing = client.get("/v1/stores/nope", headers=AUTH)
    assert missing.status_code == 404 and "detail" in missing.json()


def test_cypher_row_timestamps_are_utc_with_z() -> None:
    shanghai = timezone(timedelta(hours=8))
    at = neo4j.time.DateTime(2025, 1, 10, 8, 0, 0, tzinfo=shanghai)
    assert to_json(at) == "2025-01-10T00:00:00Z"
    precise = neo4j.time.DateTime(2025, 1, 10, 0, 0, 0, 123456789, tzinfo=UTC)
    assert to_json(precise) == "2025-01-10T00:00:00.123456789Z"
    assert to_json({"at": datetime(2025, 1, 10, tzinfo=UTC)}) == {"at": "2025-01-10T00:00:00Z"}
    assert to_json(neo4j.time.DateTime(2025, 1, 10, 0, 0, 0)) == "2025-01-10T00:00:00.000000000"


def test_statement_csv_timestamps_are_utc_with_z(client: TestClient) -> None:
    assert client.post("/v1/events", json={"events": EVENTS}, headers=AUTH).status_code == 200
    assert client.post("/v1/deals/d-1/settlements", headers=AUTH).status_code == 201
    r = client.get("/v1/staff/sf-1/statement", params={"format": "csv"}, headers=AUTH)
    assert r.status_code == 200
    assert "2025-01-10T00:00:00Z" in r.text and "+00:00" not in r.text

"""The HTTP contract of ingest and reads (SQLite behind; the stores have their own suite)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from contribnet.api.app import create_app
from contribnet.settings import Settings
from contribnet.store import open_store

TOUCH = {
    "type": "touch",
    "id": "t-1",
    "at": "2025-01-05T10:00:00Z",
    "customer": "c-1",
    "staff": "sf-1",
    "store": "st-1",
    "stage": "test_drive",
}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    store = open_store(f"sqlite:///{tmp_path / 'api.db'}")
    app = create_app(store=store, settings=Settings(admin_key="test-admin"))
    with TestClient(app, headers={"Authorization": "Bearer test-admin"}) as test_client:
        yield test_client
    store.close()


def test_accepts_then_reports_duplicates(client: TestClient) -> None:
    first = client.post("/v1/events", json={"events": [TOUCH]})
    assert first.status_code == 200 and first.json() == {"accepted": 1, "duplicates": 0}
    again = client.post("/v1/events", json={"events": [TOUCH, TOUCH]})
    assert again.json() == {"accepted": 0, "duplicates": 2}


def test_invalid_events_are_422_naming_index_id_and_field(client: TestClient) -> None:
    good = {"type": "customer", "id": "c-1"}
    bad_stage = dict(TOUCH, id="t-2", stage="teleport")
    bad_type = {"type": "rumour", "id": "x-1"}
    missing = {
        "type": "deal",
        "id": "d-1",
        "customer": "c-1",
        "store": "st-1",
        "staff": "sf-1",
        "closed_at": "2025-01-06T00:00:00Z",
        "amount": -5,
    }
    response = client.post("/v1/events", json={"events": [good, bad_type, missing]})
    assert response.status_code == 422
    errors = {(e["index"], e["id"], e["field"]) for e in response.json()["errors"]}
    assert errors == {(1, "x-1", "type"), (2, "d-1", "amount"), (2, "d-1", "reward_pool")}
    response = client.post("/v1/events", json={"events": [good, bad_stage]})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "index": 1,
            "id": "t-2",
            "field": "stage",
            "message": response.json()["errors"][0]["message"],
        }
    ]
    assert "teleport" in response.json()["errors"][0]["message"]
    assert client.get("/v1/customers/c-1/journey").status_code == 404  # nothing was written


def test_conflicting_reuse_of_an_id_is_409(client: TestClient) -> None:
    client.post("/v1/events", json={"events": [TOUCH]})
    response = client.post("/v1/events", json={"events": [dict(TOUCH, stage="quote")]})
    assert response.status_code == 409
    assert response.json()["ids"] == ["t-1"]
    assert "t-1" in response.json()["detail"]


@pytest.mark.parametrize(
    "body, field",
    [(b"not json", "body"), (b'{"evts": []}', "events"), (b'{"events": {}}', "events")],
)
def test_malformed_bodies_are_422(client: TestClient, body: bytes, field: str) -> None:
    response = client.post("/v1/events", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


def test_more_than_ten_thousand_events_is_422(client: TestClient) -> None:
    events = [dict(TOUCH, id=f"t-{i}") for i in range(10_001)]
    response = client.post("/v1/events", json={"events": events})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "events"


def test_journey_and_reads(client: TestClient) -> None:
    events = [
        {
            "type": "store",
            "id": "st-1",
            "name": "NIO House",
            "brand": "nio",
            "city": "Hefei",
            "region": "East",
        },
        {"type": "staff", "id": "sf-1", "name": "Wang", "store": "st-1", "role": "advisor"},
        TOUCH,
        {
            "type": "deal",
            "id": "d-1",
            "customer": "c-1",
            "store": "st-1",
            "staff": "sf-1",
            "closed_at": "2025-01-06T00:00:00Z",
            "amount": 25000000,
            "reward_pool": 300000,
        },
    ]
    assert client.post("/v1/events", json={"events": events}).status_code == 200
    journey = client.get("/v1/customers/c-1/journey").json()
    assert set(journey) == {
        "customer",
        "touches",
        "referrals",
        "handovers",
        "joint_events",
        "deals",
        "lead_assignments",
        "holdings",
    }
    assert (
        journey["touches"][0]["stage"] == "test_drive" and journey["touches"][0]["voided"] is False
    )
    assert client.get("/v1/stores/st-1").json()["city"] == "Hefei"
    assert client.get("/v1/staff/sf-1").json()["employment"][0]["store"] == "st-1"
    assert client.get("/v1/deals/d-1").json()["reward_pool"] == 300000
    assert client.get("/v1/deals?limit=1").json()["total"] == 1
    assert client.get("/v1/stores/nope").status_code == 404
    bad_page = client.get("/v1/stores?limit=0")
    assert bad_page.status_code == 422 and "limit" in bad_page.json()["detail"]


def test_openapi_documents_the_event_body(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    body = spec["paths"]["/v1/events"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["examples"][0]["events"][0]["type"] == "brand"
    assert client.get("/health").json() == {"status": "ok"}


# --- issue 12: money fields accept integers only ----------------------------------------------

DEAL = {
    "type": "deal",
    "id": "d-9",
    "customer": "c-1",
    "store": "st-1",
    "staff": "sf-1",
    "closed_at": "2025-01-06T00:00:00Z",
    "amount": 25000000,
    "reward_pool": 300000,
}


@pytest.mark.parametrize("field", ["amount", "reward_pool", "points_pool"])
@pytest.mark.parametrize("value", ["100", 100.5, 100.0, True, "1e2"])
def test_money_is_an_integer_of_fen_never_a_string_or_float(
    client: TestClient, field: str, value: object
) -> None:
    response = client.post("/v1/events", json={"events": [dict(DEAL, **{field: value})]})
    assert response.status_code == 422
    assert [(e["id"], e["field"]) for e in response.json()["errors"]] == [("d-9", field)]
    assert client.get("/v1/deals/d-9").status_code == 404


def test_integer_money_is_accepted_up_to_the_maximum(client: TestClient) -> None:
    deal = dict(DEAL, amount=10**15, reward_pool=10**15, points_pool=0)
    response = client.post("/v1/events", json={"events": [deal]})
    assert response.status_code == 200, response.text
    assert client.get("/v1/deals/d-9").json()["reward_pool"] == 10**15
    too_big = dict(DEAL, id="d-10", reward_pool=10**15 + 1)
    assert client.post("/v1/events", json={"events": [too_big]}).status_code == 422


def test_ndjson_files_with_integer_money_still_load_and_strings_do_not(tmp_path: Path) -> None:
    import json

    from contribnet.domain.errors import InvalidEvents
    from contribnet.services.ingest import ingest_file

    store = open_store("sqlite://:memory:")
    try:
        good = tmp_path / "good.jsonl"
        good.write_text(json.dumps(DEAL) + "\n")
        assert ingest_file(store, good).accepted == 1
        bad = tmp_path / "bad.jsonl"
        bad.write_text(json.dumps(dict(DEAL, id="d-11", reward_pool="300000")) + "\n")
        with pytest.raises(InvalidEvents) as raised:
            ingest_file(store, bad)
        assert [(e.line, e.field) for e in raised.value.errors] == [(1, "reward_pool")]
    finally:
        store.close()


def test_a_policy_with_absurd_weights_is_422_when_stored(client: TestClient) -> None:
    toml = "effective_from = 2025-03-01\n[stage_weights]\ntest_drive = 1e308\n"
    response = client.post(
        "/v1/policies", content=toml, headers={"Content-Type": "application/toml"}
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["policy.stage_weights.test_drive"]
    strings = {"effective_from": "2025-03-01", "stage_weights": {"test_drive": "25"}}
    response = client.post("/v1/policies", json=strings)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["policy.stage_weights.test_drive"]
    not_utf8 = b"effective_from = 2025-03-01\ndescription = '\xff'\n"
    response = client.post(
        "/v1/policies", content=not_utf8, headers={"Content-Type": "application/toml"}
    )
    assert response.status_code == 422 and "UTF-8" in response.json()["detail"]
    assert [p["id"] for p in client.get("/v1/policies").json()] == ["default@1"]  # bootstrap

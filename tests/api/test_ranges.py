"""Every parameter has a range: out-of-range input is a 422 naming it, never a 500 (#13, 4).

Offsets past int64, periods whose bounds leave years 1-9999 after the time-zone conversion,
event instants outside years 1-9999 in UTC, and query parameters outside int64 all answered
500 before; here they must be refused with the field named.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from contribnet.api.app import create_app
from contribnet.demo.scenarios import all_events
from contribnet.services.ingest import ingest_stream
from contribnet.settings import Settings
from contribnet.store import open_store

ADMIN = "ranges-admin"
STAFF = "sf-nio-bj-li"  # a staff member of the demo scenarios
STORE = "st-nio-bj-1"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    path: Path = tmp_path_factory.mktemp("ranges") / "ranges.db"
    store = open_store(f"sqlite:///{path}")
    ingest_stream(store, all_events())
    app = create_app(store=store, settings=Settings(admin_key=ADMIN))
    headers = {"Authorization": f"Bearer {ADMIN}"}
    # A 500 must show as a status here, not as the server's exception re-raised in the test.
    with TestClient(app, headers=headers, raise_server_exceptions=False) as test_client:
        yield test_client
    store.close()


def _fields(response: Any) -> set[str]:
    return {e["field"] for e in response.json().get("errors") or ()}


@pytest.mark.parametrize("path", ["/v1/stores", "/v1/staff", "/v1/customers", "/v1/deals"])
def test_an_offset_past_int64_is_a_422_naming_offset(client: TestClient, path: str) -> None:
    response = client.get(path, params={"offset": 2**63})
    assert response.status_code == 422, response.text
    assert _fields(response) == {"query.offset"}
    # the largest offset allowed still answers, with an empty page
    assert client.get(path, params={"offset": 10**9}).json()["items"] == []


PERIOD_GETS = [
    "/v1/deals",
    "/v1/rollups",
    f"/v1/staff/{STAFF}/statement",
    "/v1/settlements",  # the payroll listing
    "/v1/graph/collaboration",
    "/v1/graph/flows",
    "/v1/graph/farmers",
    f"/v1/graph/stores/{STORE}",
]
EDGES = [("from", "0001-01-01"), ("to", "9999-12-31")]


@pytest.mark.parametrize(("name", "day"), EDGES)
@pytest.mark.parametrize("path", PERIOD_GETS)
def test_a_period_leaving_years_1_to_9999_is_a_422_naming_it(
    client: TestClient, path: str, name: str, day: str
) -> None:
    response = client.get(path, params={name: day})
    assert response.status_code == 422, response.text
    assert _fields(response) == {name}
    assert day in response.json()["detail"]


@pytest.mark.parametrize("path", PERIOD_GETS)
def test_the_first_and_last_days_allowed_still_answer(client: TestClient, path: str) -> None:
    response = client.get(path, params={"from": "0001-01-02", "to": "9999-12-30"})
    # nothing is settled yet: one store's graph says so with a 404
    expected = 404 if path.startswith("/v1/graph/stores/") else 200
    assert response.status_code == expected, response.text


@pytest.mark.parametrize(("name", "day"), EDGES)
def test_a_batch_settlement_period_out_of_range_is_a_422(
    client: TestClient, name: str, day: str
) -> None:
    response = client.post("/v1/settlements:batch", json={name: day})
    assert response.status_code == 422, response.text
    assert _fields(response) == {name}


@pytest.mark.parametrize(("name", "day"), EDGES)
def test_a_simulation_period_out_of_range_is_a_422(client: TestClient, name: str, day: str) -> None:
    body = {"policy_a": "default", "policy_b": "default", name: day}
    response = client.post("/v1/simulations", json=body)
    assert response.status_code == 422, response.text
    assert _fields(response) == {name}


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00-05:00"])
def test_an_event_instant_outside_years_1_to_9999_in_utc_is_a_422_naming_at(
    client: TestClient, at: str
) -> None:
    touch = {
        "type": "touch",
        "id": "t-ranges-1",
        "at": at,
        "customer": "c-ranges",
        "staff": STAFF,
        "store": STORE,
        "stage": "test_drive",
    }
    response = client.post("/v1/events", json={"events": [touch]})
    assert response.status_code == 422, response.text
    assert {(e["index"], e["field"]) for e in response.json()["errors"]} == {(0, "at")}


def test_a_library_query_integer_outside_int64_is_a_422_naming_it(client: TestClient) -> None:
    # Checked before the store is asked: a 422 even on SQLite (where the library itself is a 409).
    body = {"params": {"deal": "d-1", "days": 2**63}}
    response = client.post("/v1/queries/touches_before_deal", json=body)
    assert response.status_code == 422, response.text
    assert _fields(response) == {"params.days"}


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, [1, 2**64], {"deep": [10**30]}])
def test_a_cypher_integer_outside_int64_is_a_422_naming_it(client: TestClient, value: Any) -> None:
    body = {"query": "RETURN $n AS n", "params": {"n": value}}
    response = client.post("/v1/cypher", json=body)
    assert response.status_code == 422, response.text
    assert _fields(response) == {"params.n"}


def test_int64_edges_pass_the_check(client: TestClient) -> None:
    # On SQLite the query library answers 409 (it needs Neo4j): past the range check.
    body = {"query": "RETURN $n AS n", "params": {"n": [2**63 - 1, -(2**63)]}}
    assert client.post("/v1/cypher", json=body).status_code == 409

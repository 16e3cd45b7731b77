"""The fraud signals over HTTP, on SQLite and on Neo4j: leaders (and admins) list and review
flags, every other role is refused (403), and each 4xx names its field."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.flags.conftest import NETWORK, Flags, touch

from contribnet.api.app import create_app
from contribnet.services.ingest import ingest_events
from contribnet.services.keys import create_key
from contribnet.settings import Settings

ADMIN = "flags-admin-key-0123456789"


@pytest.fixture
def api(flags: Flags) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    """A client (admin by default) on the network and a grab, and a key per role."""
    store = flags.store
    ingest_events(store, NETWORK)
    ingest_events(store, [touch("t-grab", "2025-01-10T03:45:00Z", "c-1", "sf-z")])
    keys = {
        "leader": create_key(store, "leader"),
        "analyst": create_key(store, "analyst"),
        "ingest": create_key(store, "ingest"),
        "staff": create_key(store, "staff", "sf-z"),
    }
    headers = {role: {"Authorization": f"Bearer {key}"} for role, key in keys.items()}
    app = create_app(store=store, settings=Settings(admin_key=ADMIN))
    with TestClient(app, headers={"Authorization": f"Bearer {ADMIN}"}) as client:
        yield client, headers


def _fields(response: Any) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


def _grab(client: TestClient) -> dict[str, Any]:
    response = client.get("/v1/flags", params={"kind": "grab"})
    assert response.status_code == 200, response.text
    (flag,) = response.json()["flags"]
    return dict(flag)


def test_a_leader_lists_flags_as_json_and_csv(api) -> None:
    client, headers = api
    response = client.get("/v1/flags", headers=headers["leader"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == len(body["flags"]) >= 1
    grab = _grab(client)
    assert grab["records"] == ["t-grab", "d-1"] and grab["suspects"] == ["t-grab"]
    assert grab["review"] is None and "before sf-y closed deal d-1" in grab["reason"]
    assert _grab(client)["id"] == grab["id"]  # stable
    period = client.get("/v1/flags", params={"from": "2025-02-01", "kind": "grab"})
    assert period.json() == {"flags": [], "total": 0}
    response = client.get("/v1/flags", params={"format": "csv", "kind": "grab"})
    assert response.headers["content-type"].startswith("text/csv")
    (row,) = list(csv.DictReader(io.StringIO(response.text)))
    assert row["id"] == grab["id"] and row["records"] == "t-grab;d-1" and row["review"] == ""


@pytest.mark.parametrize("role", ["analyst", "ingest", "staff"])
def test_other_roles_may_neither_list_nor_review_flags(api, role: str) -> None:
    client, headers = api
    flag = _grab(client)["id"]
    assert client.get("/v1/flags", headers=headers[role]).status_code == 403
    response = client.post(
        f"/v1/flags/{flag}/review",
        json={"decision": "dismiss", "reason": "fine"},
        headers=headers[role],
    )
    assert response.status_code == 403
    assert client.get("/v1/flags", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_bad_requests_name_their_field(api) -> None:
    client, headers = api
    assert "query.kind.0" in _fields(client.get("/v1/flags", params={"kind": "teleport"}))
    assert _fields(client.get("/v1/flags", params={"from": "2025-13-01"})) == ["query.from"]
    response = client.get("/v1/flags", params={"from": "2025-02-01", "to": "2025-01-01"})
    assert response.status_code == 422 and _fields(response) == ["to"]
    flag = _grab(client)["id"]
    url = f"/v1/flags/{flag}/review"
    response = client.post(url, json={"decision": "approve", "reason": "x"})
    assert response.status_code == 422 and _fields(response) == ["body.decision"]
    assert _fields(client.post(url, json={"decision": "dismiss"})) == ["body.reason"]
    assert _fields(client.post(url, json={"decision": "dismiss", "reason": ""})) == ["body.reason"]
    response = client.post(url, json={"decision": "dismiss", "reason": "x", "extra": 1})
    assert _fields(response) == ["body.extra"]
    response = client.post(
        "/v1/flags/fl-grab-0000000000000000/review", json={"decision": "dismiss", "reason": "x"}
    )
    assert response.status_code == 404


def test_a_leader_confirms_a_flag_once(api) -> None:
    client, headers = api
    flag = _grab(client)["id"]
    body = {"decision": "confirm", "reason": "Zhao was off that day"}
    response = client.post(f"/v1/flags/{flag}/review", json=body, headers=headers["leader"])
    assert response.status_code == 201, response.text
    review = response.json()
    assert review["voids"] == [f"v-{flag}-1"] and review["reviewed_by"].startswith("leader")
    again = client.post(f"/v1/flags/{flag}/review", json=body, headers=headers["leader"])
    assert again.status_code == 200 and again.json() == review
    other = client.post(f"/v1/flags/{flag}/review", json={**body, "decision": "dismiss"})
    assert other.status_code == 409
    shown = _grab(client)
    assert shown["review"] == review
    journey = client.get("/v1/customers/c-1/journey").json()
    assert [t["voided"] for t in journey["touches"] if t["id"] == "t-grab"] == [True]

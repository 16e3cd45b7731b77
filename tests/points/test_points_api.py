"""The points API over HTTP, on SQLite and on Neo4j: activities through ``POST /v1/events``, the
ledger as JSON and CSV, redemptions and reversals, points policies; each 4xx names its field, and
a staff key reads only its own points."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.points.conftest import NETWORK, Points, activity

from contribnet.api.app import create_app
from contribnet.services.ingest import ingest_events
from contribnet.services.keys import create_key
from contribnet.settings import Settings

ADMIN = "points-admin-key-0123456789"


@pytest.fixture
def api(points: Points) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    """A client (admin by default), and the headers of a key per role; the network and Xu's
    activities sent through the API."""
    store = points.store
    ingest_events(store, NETWORK)
    keys = {
        "leader": create_key(store, "leader"),
        "analyst": create_key(store, "analyst"),
        "ingest": create_key(store, "ingest"),
        "staff": create_key(store, "staff", "sf-x"),
        "other": create_key(store, "staff", "sf-y"),
    }
    headers = {role: {"Authorization": f"Bearer {key}"} for role, key in keys.items()}
    app = create_app(store=store, settings=Settings(admin_key=ADMIN))
    with TestClient(app, headers={"Authorization": f"Bearer {ADMIN}"}) as client:
        events = [
            *(
                activity(f"a-{n}", f"2025-01-{n + 1:02d}T10:00:00Z", "deposit_taken")
                for n in range(5)
            ),
            activity("a-w", "2025-01-06T10:00:00+08:00", "wechat_add", customer="c-1"),
        ]
        response = client.post("/v1/events", json={"events": events}, headers=headers["ingest"])
        assert response.status_code == 200, response.text
        assert response.json() == {"accepted": 6, "duplicates": 0}
        yield client, headers


def _fields(response: Any) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


def test_activities_through_the_api_name_a_bad_action(api) -> None:
    client, headers = api
    bad = activity("a-9", "2025-01-07T10:00:00Z", "teleport")
    response = client.post("/v1/events", json={"events": [bad]}, headers=headers["ingest"])
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert (error["index"], error["id"], error["field"]) == (0, "a-9", "action")
    assert "unknown action 'teleport'" in error["message"] and "wechat_add" in error["message"]
    no_staff = {k: v for k, v in activity("a-10", "2025-01-07T10:00:00Z", "wechat_add").items()}
    del no_staff["staff"]
    response = client.post("/v1/events", json={"events": [no_staff]})
    assert response.status_code == 422 and _fields(response) == ["staff"]


def test_the_ledger_as_json_and_csv(api) -> None:
    client, headers = api
    response = client.get("/v1/staff/sf-x/points", headers=headers["staff"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["available"] == body["balance"] == 102 and body["earned"] == 102
    assert body["name"] == "Xu" and body["from"] is None
    first = body["entries"][0]
    assert first["at"] == "2025-01-01T10:00:00Z"
    assert (first["kind"], first["action"], first["points"], first["policy"]) == (
        "activity", "deposit_taken", 20, "points@1"
    )  # fmt: skip
    response = client.get(
        "/v1/staff/sf-x/points",
        params={"from": "2025-01-03", "to": "2025-01-06", "format": "csv", "bom": "true"},
        headers=headers["leader"],
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "points-sf-x-2025-01-03-2025-01-06.csv" in response.headers["content-disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [r["kind"] for r in rows] == ["opening", *["activity"] * 4, "closing"]
    assert [r["balance"] for r in rows] == ["40", "60", "80", "100", "102", "102"]
    assert rows[4]["day"] == "2025-01-06" and rows[4]["customer"] == "c-1"
    assert rows[4]["note"] == "wechat_add: 2 points (points@1)"


def test_redeem_reverse_and_read_back(api) -> None:
    client, headers = api
    body = {"id": "rd-1", "staff": "sf-x", "points": 60, "reason": "10 extra leads"}
    created = client.post("/v1/points/redemptions", json=body, headers=headers["leader"])
    assert created.status_code == 201, created.text
    assert created.json()["kind"] == "staff" and created.json()["requested_by"].startswith("leader")
    again = client.post("/v1/points/redemptions", json=body, headers=headers["leader"])
    assert again.status_code == 200 and again.json() == created.json()
    conflict = client.post(
        "/v1/points/redemptions", json=body | {"points": 61}, headers=headers["leader"]
    )
    assert conflict.status_code == 409 and conflict.json()["id"] == "rd-1"
    over = client.post(
        "/v1/points/redemptions",
        json={"id": "rd-2", "staff": "sf-x", "points": 43, "reason": "more"},
        headers=headers["leader"],
    )
    assert over.status_code == 422 and _fields(over) == ["points"]
    assert "holds 42 points" in over.json()["detail"]
    reversal = client.post(
        "/v1/points/redemptions/rd-1/reversal", json={"reason": "never assigned"}
    )
    assert reversal.status_code == 201 and reversal.json()["points"] == 60
    assert (
        client.post(
            "/v1/points/redemptions/rd-1/reversal", json={"reason": "never assigned"}
        ).status_code
        == 200
    )
    assert (
        client.post("/v1/points/redemptions/rd-1/reversal", json={"reason": "other"}).status_code
        == 409
    )
    missing = client.post("/v1/points/redemptions/rd-404/reversal", json={"reason": "x"})
    assert missing.status_code == 404
    read = client.get("/v1/points/redemptions/rd-1", headers=headers["analyst"])
    assert read.status_code == 200 and read.json()["reversal"]["reason"] == "never assigned"
    assert client.get("/v1/points/redemptions/rd-404").status_code == 404
    ledger = client.get("/v1/staff/sf-x/points").json()
    assert ledger["available"] == 102 and ledger["redeemed"] == 60 and ledger["reversed"] == 60


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"id": "rd-1", "staff": "sf-x", "reason": "r"}, "body.points"),
        ({"id": "rd-1", "staff": "sf-x", "points": "10", "reason": "r"}, "body.points"),
        ({"id": "rd-1", "staff": "sf-x", "points": 10.0, "reason": "r"}, "body.points"),
        ({"id": "rd-1", "staff": "sf-x", "points": 0, "reason": "r"}, "body.points"),
        ({"id": "rd-1", "staff": "sf-x", "points": 10}, "body.reason"),
        ({"id": "rd 1", "staff": "sf-x", "points": 10, "reason": "r"}, "body.id"),
        ({"id": "rd-1", "points": 10, "reason": "r"}, "staff"),
        ({"id": "rd-1", "staff": "sf-x", "owner": "c-1", "points": 10, "reason": "r"}, "staff"),
        ({"id": "rd-1", "staff": "sf-x", "points": 10, "reason": "r", "extra": 1}, "body.extra"),
    ],
)
def test_a_bad_redemption_names_its_field(api, body: dict[str, Any], field: str) -> None:
    client, headers = api
    response = client.post("/v1/points/redemptions", json=body, headers=headers["leader"])
    assert response.status_code == 422, response.text
    assert _fields(response) == [field]


def test_who_may_read_and_redeem(api) -> None:
    client, headers = api
    assert client.get("/v1/staff/sf-x/points", headers=headers["staff"]).status_code == 200
    assert client.get("/v1/staff/sf-x/points", headers=headers["other"]).status_code == 403
    assert client.get("/v1/staff/sf-x/points", headers=headers["ingest"]).status_code == 403
    assert client.get("/v1/staff/sf-x/points", headers=headers["analyst"]).status_code == 200
    assert client.get("/v1/customers/c-owner/points", headers=headers["staff"]).status_code == 403
    body = {"id": "rd-s", "staff": "sf-x", "points": 1, "reason": "mine"}
    for role in ("staff", "analyst", "ingest"):
        response = client.post("/v1/points/redemptions", json=body, headers=headers[role])
        assert response.status_code == 403, role
    assert client.get("/v1/staff/sf-404/points").status_code == 404
    period = client.get("/v1/staff/sf-x/points", params={"from": "2025-02-01", "to": "2025-01-01"})
    assert period.status_code == 422 and _fields(period) == ["to"]


def test_points_policies_are_added_never_edited(api) -> None:
    client, headers = api
    (default,) = client.get("/v1/points/policies", headers=headers["staff"]).json()
    assert default["id"] == "points@1" and default["policy"]["actions"]["deposit_taken"] == 20
    toml = "effective_from = 2025-01-03\n[region_actions.East]\nwechat_add = 4\n"
    added = client.post(
        "/v1/points/policies", content=toml, headers={"Content-Type": "application/toml"}
    )
    assert added.status_code == 201, added.text
    assert added.json()["id"] == "points@2" and added.json()["source"] == toml
    again = client.post(
        "/v1/points/policies", content=toml, headers={"Content-Type": "application/toml"}
    )
    assert again.status_code == 200 and again.json()["id"] == "points@2"
    # Xu is in the East on 6 January: the WeChat add is worth 4 under version 2
    entries = client.get("/v1/staff/sf-x/points").json()["entries"]
    assert [e["points"] for e in entries if e["id"] == "a-w"] == [4]
    bad = client.post(
        "/v1/points/policies",
        json={"effective_from": "2025-04-01", "actions": {"teleport": 5, "wechat_add": "2"}},
    )
    assert bad.status_code == 422
    assert sorted(_fields(bad)) == ["policy.actions.wechat_add"]
    unknown = client.post(
        "/v1/points/policies", json={"effective_from": "2025-04-01", "actions": {"teleport": 5}}
    )
    assert unknown.status_code == 422 and _fields(unknown) == ["policy.actions.teleport"]
    missing = client.post("/v1/points/policies", json={"daily_caps": {"wechat_add": 1}})
    assert missing.status_code == 422 and _fields(missing) == ["policy.effective_from"]
    edited = client.post(
        "/v1/points/policies", json={"version": "2", "effective_from": "2025-01-04"}
    )
    assert edited.status_code == 409
    leader = client.post(
        "/v1/points/policies", json={"effective_from": "2025-04-01"}, headers=headers["leader"]
    )
    assert leader.status_code == 403

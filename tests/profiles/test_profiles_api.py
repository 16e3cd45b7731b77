"""The profiles API over HTTP, on SQLite and on Neo4j: who may read what (a staff key only its own
profile, and no leaderboard or at-risk list), bad parameters named, and ``/v1/staff/at-risk``
not taken for a staff member's id."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from tests.profiles.conftest import Profiles

from contribnet.api.app import create_app
from contribnet.services.keys import create_key
from contribnet.settings import Settings

ADMIN = "profiles-admin-key-0123456789"
JANUARY = {"from": "2025-01-01", "to": "2025-01-31"}


@pytest.fixture
def api(profiles: Profiles) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    """A client (admin by default), and the headers of a key per role."""
    store = profiles.store
    keys = {
        "leader": create_key(store, "leader"),
        "analyst": create_key(store, "analyst"),
        "ingest": create_key(store, "ingest"),
        "xu": create_key(store, "staff", "sf-x"),
        "yang": create_key(store, "staff", "sf-y"),
    }
    headers = {role: {"Authorization": f"Bearer {key}"} for role, key in keys.items()}
    settings = Settings(admin_key=ADMIN, at_risk_drop=0.9)
    app = create_app(store=store, settings=settings)
    with TestClient(app, headers={"Authorization": f"Bearer {ADMIN}"}) as client:
        yield client, headers


def test_a_profile_is_read_by_its_staff_member_leaders_analysts_and_admins(api) -> None:
    client, headers = api
    url = "/v1/staff/sf-x/profile"
    for who in ("xu", "leader", "analyst"):
        response = client.get(url, params=JANUARY, headers=headers[who])
        assert response.status_code == 200, (who, response.text)
        body = response.json()
        assert (body["staff"], body["region"], body["from"], body["to"]) == (
            "sf-x",
            "East",
            "2025-01-01",
            "2025-01-31",
        )
        assert body["total"]["credit"] == {"value": 390000, "average": 200000, "top_decile": 390000}
    assert client.get(url, params=JANUARY).status_code == 200  # the admin key
    for who in ("yang", "ingest"):
        assert client.get(url, params=JANUARY, headers=headers[who]).status_code == 403, who


def test_profile_errors_name_the_field(api) -> None:
    client, _ = api
    response = client.get(
        "/v1/staff/sf-x/profile", params={"from": "2025-02-01", "to": "2025-01-01"}
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["to"]
    response = client.get("/v1/staff/sf-x/profile", params={"from": "January"})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["query.from"]
    assert client.get("/v1/staff/sf-nobody/profile").status_code == 404


def test_leaderboards_over_http(api) -> None:
    client, headers = api
    response = client.get(
        "/v1/leaderboards",
        params={"metric": "credit", "region": "East", "limit": 2, **JANUARY},
        headers=headers["leader"],
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["metric"], body["region"], body["from"]) == ("credit", "East", "2025-01-01")
    assert [
        (r["rank"], r["staff"], r["name"], r["store"], r["region"], r["value"])
        for r in body["rows"]
    ] == [
        (1, "sf-x", "Xu", "st-a", "East", 390000),
        (2, "sf-y", "Yang", "st-a", "East", 150000),
    ]
    bad = client.get("/v1/leaderboards", params={"metric": "charm"})
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["query.metric"]
    missing = client.get("/v1/leaderboards")
    assert missing.status_code == 422 and [e["field"] for e in missing.json()["errors"]] == [
        "query.metric"
    ]
    for who in ("xu", "ingest"):
        assert client.get("/v1/leaderboards?metric=credit", headers=headers[who]).status_code == 403


def test_at_risk_over_http_is_not_a_staff_id(api) -> None:
    client, headers = api
    # the default threshold comes from the settings (0.9 here): only Wu's fall of 1 exceeds it
    response = client.get(
        "/v1/staff/at-risk", params={"weeks": 1, "to": "2025-01-14"}, headers=headers["analyst"]
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["from"], body["to"], body["drop"]) == ("2025-01-08", "2025-01-14", 0.9)
    assert [(r["staff"], r["before"], r["after"], r["fall"]) for r in body["rows"]] == [
        ("sf-w", 1, 0, 1.0)
    ]
    response = client.get("/v1/staff/at-risk", params={"weeks": 1, "to": "2025-01-14", "drop": 0.5})
    assert [r["staff"] for r in response.json()["rows"]] == ["sf-w", "sf-x"]
    for params, field in (
        ({"drop": 1.5}, "query.drop"),
        ({"weeks": 0}, "query.weeks"),
        ({"from": "2025-02-01", "to": "2025-01-01"}, "to"),
    ):
        bad = client.get("/v1/staff/at-risk", params=params)
        assert bad.status_code == 422, params
        assert [e["field"] for e in bad.json()["errors"]] == [field]
    assert client.get("/v1/staff/at-risk", headers=headers["xu"]).status_code == 403
    # a staff member's record is still served by its own route
    assert client.get("/v1/staff/sf-x").json()["name"] == "Xu"

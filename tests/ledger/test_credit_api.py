"""The credit API over HTTP, on SQLite and on Neo4j: every route refuses the roles that may not use
it, errors name their field, and the formats (CSV statements, TOML policies, NDJSON batches)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from contribnet.api.app import create_app
from contribnet.services.keys import create_key, hash_key, key_id
from contribnet.settings import Settings

Ledger = Any  # tests/ledger/conftest.py: kind, url, store, open()
ROLES = ("admin", "ingest", "analyst", "leader", "staff", "other-staff")


@pytest.fixture
def api(ledger: Ledger) -> Iterator[tuple[TestClient, dict[str, str], dict[str, str]]]:
    """A client, a key per role, and ids to use: a deal, its first staff contributor, another."""
    store = ledger.store
    deal = store.ledger.closed_deals(datetime(2024, 12, 1, tzinfo=UTC), None, limit=1)[0].id
    staff = next(t.staff for t in store.deal_journeys([deal])[deal].touches)
    other = next(p["id"] for p in store.list("staff", 0, 50).items if p["id"] != staff)
    keys = {"admin": "boot"}
    for role in ("ingest", "analyst", "leader"):
        keys[role] = create_key(store, role)
    keys["staff"] = create_key(store, "staff", staff)
    keys["other-staff"] = create_key(store, "staff", other)
    app = create_app(store=store, settings=Settings(admin_key="boot"))
    with TestClient(app) as client:
        yield client, keys, {"deal": deal, "staff": staff, "other": other}


def _as(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _routes(ids: dict[str, str]) -> list[tuple[str, str, Any, set[str]]]:
    deal, staff = ids["deal"], ids["staff"]
    readers = {"admin", "analyst", "leader"}
    return [
        ("GET", f"/v1/deals/{deal}/credit", None, readers),
        ("POST", f"/v1/deals/{deal}/settlements", {}, {"admin", "leader"}),
        ("GET", f"/v1/deals/{deal}/settlements", None, readers),
        ("GET", "/v1/settlements/stl-none", None, readers),
        (
            "POST",
            "/v1/settlements:batch",
            {"from": "2024-12-01", "to": "2024-12-01"},
            {"admin", "leader"},
        ),
        (
            "POST",
            f"/v1/deals/{deal}/adjustments",
            {"from_staff": staff, "to_staff": ids["other"], "amount": 1, "reason": "test"},
            {"admin", "leader"},
        ),
        ("GET", f"/v1/deals/{deal}/adjustments", None, readers),
        ("POST", "/v1/policies", {"effective_from": "2026-01-01"}, {"admin"}),
        ("GET", "/v1/policies", None, readers | {"staff", "other-staff"}),
        ("GET", "/v1/policies/default@1", None, readers | {"staff", "other-staff"}),
        ("GET", f"/v1/staff/{staff}/statement", None, {"admin", "leader", "staff"}),
        ("GET", f"/v1/staff/{staff}/statement?format=csv", None, {"admin", "leader", "staff"}),
        ("GET", "/v1/rollups?level=brand", None, readers),
        (
            "POST",
            "/v1/simulations",
            {
                "policy_a": "default@1",
                "policy_b": "default@1",
                "from": "2024-12-01",
                "to": "2024-12-05",
            },
            readers,
        ),
    ]


def test_every_role_is_refused_what_it_may_not_see(api: Any) -> None:
    client, keys, ids = api
    for method, path, body, allowed in _routes(ids):
        assert client.request(method, path, json=body).status_code == 401, path
        for role in ROLES:
            status = client.request(method, path, json=body, headers=_as(keys[role])).status_code
            if role in allowed:
                assert status not in (401, 403) and status < 500, (role, method, path, status)
            else:
                assert status == 403, (role, method, path, status)


def test_errors_name_their_field(api: Any) -> None:
    client, keys, ids = api
    admin = _as(keys["admin"])
    deal = ids["deal"]

    def field(response: Any) -> str:
        return response.json()["errors"][0]["field"]

    assert client.get("/v1/deals/nope/credit", headers=admin).status_code == 404
    bad_model = client.get(f"/v1/deals/{deal}/credit?model=guess", headers=admin)
    assert (bad_model.status_code, field(bad_model)) == (422, "model")
    bad_policy = client.get(f"/v1/deals/{deal}/credit?policy=nope@9", headers=admin)
    assert (bad_policy.status_code, field(bad_policy)) == (422, "policy")
    first = client.post(f"/v1/deals/{deal}/settlements", headers=admin)
    assert first.status_code == 201
    assert client.post(f"/v1/deals/{deal}/settlements", headers=admin).json() == first.json()
    changed = client.post(f"/v1/deals/{deal}/settlements", json={"model": "shapley"}, headers=admin)
    assert (changed.status_code, changed.json()["field"]) == (409, "reason")
    assert changed.json()["current"] == first.json()["id"]
    redone = client.post(
        f"/v1/deals/{deal}/settlements",
        json={"model": "shapley", "reason": "try shapley"},
        headers=admin,
    )
    assert redone.status_code == 201 and redone.json()["supersedes"] == first.json()["id"]
    history = client.get(f"/v1/deals/{deal}/settlements", headers=admin).json()
    assert [s["id"] for s in history["settlements"]] == [first.json()["id"], redone.json()["id"]]
    assert history["current"] == redone.json()["id"]
    unknown = client.post(f"/v1/deals/{deal}/settlements", json={"colour": "red"}, headers=admin)
    assert (unknown.status_code, field(unknown)) == (422, "body.colour")
    backwards = client.post(
        "/v1/settlements:batch", json={"from": "2025-02-01", "to": "2025-01-01"}, headers=admin
    )
    assert (backwards.status_code, field(backwards)) == (422, "to")
    not_a_day = client.post("/v1/settlements:batch", json={"from": "soon"}, headers=admin)
    assert (not_a_day.status_code, field(not_a_day)) == (422, "body.from")
    level = client.get("/v1/rollups?level=planet", headers=admin)
    assert (level.status_code, field(level)) == (422, "query.level")
    lone = client.post(
        f"/v1/deals/{deal}/adjustments",
        json={"from_staff": "sf-nobody", "to_staff": ids["staff"], "amount": 5, "reason": "x"},
        headers=admin,
    )
    assert (lone.status_code, field(lone)) == (422, "from_staff")
    assert client.get("/v1/staff/sf-nobody/statement", headers=admin).status_code == 404


def test_records_name_the_key_that_asked(api: Any) -> None:
    """A settlement and an adjustment record the role and the id of the key used, which
    ``key_id`` derives from the stored hash alone; the bootstrap key is named as such."""
    client, keys, ids = api
    leader = keys["leader"]
    settled = client.post(f"/v1/deals/{ids['deal']}/settlements", json={}, headers=_as(leader))
    assert settled.status_code in (200, 201), settled.text
    expected = f"leader ({key_id(hash_key(leader))})"
    assert settled.json()["requested_by"] == expected
    moved = client.post(
        f"/v1/deals/{ids['deal']}/adjustments",
        json={"from_staff": ids["staff"], "to_staff": ids["other"], "amount": 1, "reason": "t"},
        headers=_as(keys["admin"]),
    )
    assert moved.status_code in (200, 201), moved.text
    assert moved.json()["requested_by"] == "admin (bootstrap)"


def test_policies_from_toml_or_json(api: Any) -> None:
    client, keys, _ = api
    admin = _as(keys["admin"])
    assert [p["id"] for p in client.get("/v1/policies", headers=admin).json()] == ["default@1"]
    toml = "effective_from = 2025-03-01\n[stage_weights]\ntest_drive = 40.0\n"
    added = client.post(
        "/v1/policies", content=toml, headers={**admin, "Content-Type": "application/toml"}
    )
    assert added.status_code == 201
    assert (added.json()["id"], added.json()["source"]) == ("default@2", toml)
    again = client.post(
        "/v1/policies", content=toml, headers={**admin, "Content-Type": "application/toml"}
    )
    assert (again.status_code, again.json()["id"]) == (200, "default@2")
    listed = client.get("/v1/policies", headers=admin).json()
    assert [(p["id"], p["in_force_until"]) for p in listed] == [
        ("default@1", "2025-03-01"),
        ("default@2", None),
    ]
    assert [p["id"] for p in client.get("/v1/policies?at=2025-02-28", headers=admin).json()] == [
        "default@1"
    ]
    assert client.get("/v1/policies/default", headers=admin).json()["id"] == "default@2"
    assert client.get("/v1/policies/default@7", headers=admin).status_code == 404
    for body, content_type, expected in (
        ("effective_from = [", "application/toml", "policy"),
        (
            '{"effective_from": "2025-04-01", "stage_wieghts": {}}',
            "application/json",
            "policy.stage_wieghts",
        ),
        ('{"stage_weights": {"test_drive": 1}}', "application/json", "policy.effective_from"),
        ('{"effective_from": "2025-04-01", "floor": 2}', "application/json", "policy.floor"),
        ("not json", "application/json", "policy"),
    ):
        refused = client.post(
            "/v1/policies", content=body, headers={**admin, "Content-Type": content_type}
        )
        assert refused.status_code == 422, body
        assert refused.json()["errors"][0]["field"] == expected, body
    edited = client.post(
        "/v1/policies", json={"version": "2", "effective_from": "2025-03-01"}, headers=admin
    )
    assert (edited.status_code, edited.json()["id"]) == (409, "default@2")


def test_statement_csv_and_batch_progress_stream(api: Any) -> None:
    client, keys, ids = api
    leader = _as(keys["leader"])
    response = client.post(
        "/v1/settlements:batch",
        json={"from": "2024-12-01", "to": "2025-06-30"},
        headers={**leader, "Accept": "application/x-ndjson"},
    )
    assert response.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert lines[0]["done"] == 0 and lines[-1]["finished"] is True
    assert lines[-1]["created"] == lines[0]["total"] > 0
    statement = client.get(f"/v1/staff/{ids['staff']}/statement", headers=_as(keys["staff"]))
    body = statement.json()
    assert body["totals"]["settled"] == sum(line["amount"] for line in body["lines"]) > 0
    exported = client.get(
        f"/v1/staff/{ids['staff']}/statement?format=csv", headers=_as(keys["staff"])
    )
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["deal"] for r in rows if r["kind"] == "settlement"] == [
        line["deal"] for line in body["lines"]
    ]
    assert rows[-1]["kind"] == "total"
    assert {(r["staff"], r["name"]) for r in rows} == {(ids["staff"], body["name"])}
    assert body["name"]  # a person, not only an id
    assert int(rows[-1]["amount_fen"]) == body["totals"]["total"]
    openapi = client.get("/openapi.json").json()
    assert "examples" in openapi["components"]["schemas"]["Settlement"]
    assert "/v1/settlements:batch" in openapi["paths"]

"""Lead pools over HTTP and from the command line, on SQLite and on Neo4j: assignments through
``POST /v1/events`` (a 422 names the field), ``POST /v1/leads:reclaim`` (leaders and admins),
``GET /v1/leads/{customer}`` and the journey's ``holdings``; ``contribnet import`` names the line
of a bad assignment, ``contribnet leads reclaim`` and ``leads history``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.leads.conftest import NETWORK, T0, Leads, assignment, iso

from contribnet.api.app import create_app
from contribnet.cli import main
from contribnet.services.ingest import ingest_events
from contribnet.services.keys import create_key
from contribnet.settings import Settings

ADMIN = "leads-admin-key-0123456789"


@pytest.fixture
def api(leads: Leads, tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    """A client (admin by default) under a pool policy of 48 hours everywhere, and the headers
    of a key per role."""
    store = leads.store
    ingest_events(store, NETWORK)
    policy = tmp_path / "pool.toml"
    policy.write_text("follow_up_hours = 48\n", encoding="utf-8")
    headers = {
        role: {"Authorization": f"Bearer {create_key(store, role)}"}
        for role in ("leader", "analyst", "ingest")
    }
    app = create_app(store=store, settings=Settings(admin_key=ADMIN, pool_policy=policy))
    with TestClient(app, headers={"Authorization": f"Bearer {ADMIN}"}) as client:
        yield client, headers


def _fields(response: Any) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


def test_bad_assignments_are_422_naming_the_field(api: Any) -> None:
    client, headers = api
    events = [
        assignment("la-1", T0, "c-1", "stolen"),
        assignment("la-2", T0, "c-2", "assigned", None),
        {**assignment("la-3", T0, "c-3"), "at": "yesterday"},
    ]
    response = client.post("/v1/events", json={"events": events}, headers=headers["ingest"])
    assert response.status_code == 422, response.text
    assert _fields(response) == ["reason", "staff", "at"]
    assert client.get("/v1/leads/c-1").json()["holdings"] == []


def test_reclaim_and_history_over_http(api: Any) -> None:
    client, headers = api
    sent = client.post(
        "/v1/events",
        json={
            "events": [assignment("la-1", T0, "c-1"), assignment("la-2", T0, "c-2", staff="sf-k")]
        },
        headers=headers["ingest"],
    )
    assert sent.json() == {"accepted": 2, "duplicates": 0}
    at = {"at": iso(T0.replace(day=3, hour=1))}  # 49 hours on
    assert client.post("/v1/leads:reclaim", json=at, headers=headers["analyst"]).status_code == 403
    first = client.post("/v1/leads:reclaim", json=at, headers=headers["leader"])
    assert first.status_code == 200, first.text
    body = first.json()
    assert [(r["lead"], r["staff"], r["at"], r["hours"]) for r in body["reclaimed"]] == [
        ("c-1", "sf-h", "2025-01-03T00:00:00Z", 48.0),
        ("c-2", "sf-k", "2025-01-03T00:00:00Z", 48.0),
    ]
    assert (body["accepted"], body["duplicates"]) == (2, 0)
    again = client.post("/v1/leads:reclaim", json=at)  # admin
    assert (again.json()["reclaimed"], again.json()["accepted"]) == ([], 0)

    history = client.get("/v1/leads/c-1", headers=headers["analyst"]).json()
    assert history["holder"] is None
    assert [(h["staff"], h["from"], h["to"], h["ended_by"]) for h in history["holdings"]] == [
        ("sf-h", "2025-01-01T00:00:00Z", "2025-01-03T00:00:00Z", "reclaimed")
    ]
    journey = client.get("/v1/customers/c-1/journey").json()
    assert journey["holdings"] == history["holdings"]
    assert [a["reason"] for a in journey["lead_assignments"]] == ["assigned", "reclaimed"]
    assert client.get("/v1/leads/c-nobody").status_code == 404


def test_a_bad_reclaim_instant_is_422_naming_at(api: Any) -> None:
    client, _ = api
    response = client.post("/v1/leads:reclaim", json={"at": "soon"})
    assert response.status_code == 422, response.text
    assert "at" in response.text
    assert client.post("/v1/leads:reclaim", json={"when": "2025-01-01"}).status_code == 422


def test_the_cli_names_the_line_of_a_bad_assignment_and_reclaims(
    leads: Leads, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ingest_events(leads.store, NETWORK)
    path = tmp_path / "leads.jsonl"
    rows = [assignment("la-1", T0, "c-1"), assignment("la-2", T0, "c-2", "reassigned", None)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert main(["import", str(path), "--store", leads.url]) == 2
    err = capsys.readouterr().err
    assert "line 2" in err and "staff" in err
    assert leads.store.journey("c-1").lead_assignments == []

    path.write_text(json.dumps(rows[0]) + "\n", encoding="utf-8")
    assert main(["import", str(path), "--store", leads.url]) == 0
    capsys.readouterr()
    args = ["leads", "reclaim", "--at", "2025-01-05T00:00:00", "--store", leads.url, "--json"]
    assert main(args) == 0
    printed = json.loads(capsys.readouterr().out)
    assert [(r["lead"], r["at"]) for r in printed["reclaimed"]] == [("c-1", "2025-01-04T00:00:00Z")]
    assert main(["leads", "reclaim", "--at", "2025-01-05T00:00:00", "--store", leads.url]) == 0
    assert "0 reclaimed now" in capsys.readouterr().out
    assert main(["leads", "history", "c-1", "--store", leads.url]) == 0
    out = capsys.readouterr().out
    assert "sf-h" in out and "reclaimed" in out and "nobody" in out
    with pytest.raises(SystemExit) as exited:  # argparse's own usage error
        main(["leads", "reclaim", "--at", "not-a-time", "--store", leads.url])
    assert exited.value.code == 2
    assert "--at: not an ISO 8601 instant" in capsys.readouterr().err

"""Issue 14, on both stores: every event records when the service received it (``recorded_at``),
and settlements are re-derived from the events and the policy version they recorded
(``contribnet verify``, ``POST /v1/settlements/{id}:verify``) -- a touch edited in the database,
bypassing the API, is reported with the fen it moves."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from contribnet.api.app import create_app
from contribnet.cli import main
from contribnet.credit import compute_split
from contribnet.domain.errors import InvalidEvents, NotFound
from contribnet.services import ingest
from contribnet.services.ingest import ingest_events, ingest_file
from contribnet.services.keys import create_key
from contribnet.services.policies import ensure_default_policy
from contribnet.services.settlement import settle
from contribnet.services.verify import verify_period, verify_settlement
from contribnet.settings import Settings
from contribnet.store import Store, open_store

RECEIVED = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
LATER = datetime(2026, 4, 20, 9, 30, 15, 250000, tzinfo=UTC)
ADMIN = "a" * 40

# d-1 (customer c-1, closed 2025-01-10) comes from the contract network; d-2 is another deal.
OTHER_DEAL: list[dict[str, Any]] = [
    {"type": "customer", "id": "c-9", "name": "Zhao"},
    {
        "type": "touch",
        "id": "t-9",
        "at": "2025-01-02T00:00:00Z",
        "customer": "c-9",
        "staff": "sf-y",
        "store": "st-b",
        "stage": "test_drive",
    },
    {
        "type": "deal",
        "id": "d-2",
        "customer": "c-9",
        "store": "st-a",
        "staff": "sf-x",
        "closed_at": "2025-01-08T00:00:00Z",
        "amount": 100,
        "reward_pool": 1001,
    },
]
LATE_TOUCH = {
    "type": "touch",
    "id": "t-late",
    "at": "2025-01-07T00:00:00Z",
    "customer": "c-1",
    "staff": "sf-y",
    "store": "st-b",
    "stage": "consultation",
}


@pytest.fixture
def received_at(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """The service's clock at ingest, set by the test: its first entry is "now"."""
    clock = [RECEIVED]
    monkeypatch.setattr(ingest, "_received", lambda: clock[0])
    return clock


def _edit_touch(store: Store, touch: str, stage: str) -> None:
    """Change a stored touch's stage in the database itself, as a forger would: no API, no
    event, no hash recomputed."""
    if hasattr(store, "_driver"):
        store._driver.execute_query(
            "MATCH ()-[t:TOUCHED {id: $id}]->() SET t.stage = $stage",
            id=touch,
            stage=stage,
            database_="neo4j",
        )
    else:
        with store._connection.writing() as db:  # type: ignore[attr-defined]
            db.execute(
                "UPDATE events SET payload = json_set(payload, '$.stage', ?) WHERE key = ?",
                (stage, touch),
            )
            db.execute("UPDATE touches SET stage = ? WHERE id = ?", (stage, touch))


def _forget_received_times(store: Store) -> None:
    """Make the store look like one written before received times were kept."""
    if hasattr(store, "_driver"):
        for query in (
            "MATCH (e:Event) REMOVE e.recorded_at",
            "MATCH ()-[t:TOUCHED]->() REMOVE t.recorded_at",
        ):
            store._driver.execute_query(query, database_="neo4j")
    else:
        with store._connection.writing() as db:  # type: ignore[attr-defined]
            db.execute("UPDATE events SET recorded_at = NULL")


def _items(journey: Any) -> list[dict[str, Any]]:
    return [
        *journey.touches,
        *journey.referrals,
        *journey.handovers,
        *journey.joint_events,
        *journey.deals,
    ]


# --- received time -----------------------------------------------------------------------------


def test_every_event_records_when_it_was_received(
    store: Store, network: list, received_at: list[datetime]
) -> None:
    ingest_events(store, network)
    journey = store.journey("c-1")
    assert {i["recorded_at"] for i in _items(journey)} == {"2026-03-01T08:00:00.000000Z"}
    assert all((journey.touches, journey.referrals, journey.handovers, journey.joint_events))

    # A touch that happened before the deal closed, logged months after: visible as such.
    received_at[0] = LATER
    ingest_events(store, [LATE_TOUCH])
    late = next(t for t in store.journey("c-1").touches if t["id"] == "t-late")
    assert late["at"] == "2025-01-07T00:00:00Z"
    assert late["recorded_at"] == "2026-04-20T09:30:15.250000Z"
    (deal,) = store.journey("c-1").deals
    assert late["recorded_at"] > deal["closed_at"]

    # Sending the same events again is still a duplicate, and the first received time stays.
    result = ingest_events(store, [*network, LATE_TOUCH])
    assert (result.accepted, result.duplicates) == (0, len(network) + 1)
    again = {i["id"]: i["recorded_at"] for i in _items(store.journey("c-1"))}
    assert again["t-1"] == "2026-03-01T08:00:00.000000Z"
    assert again["t-late"] == "2026-04-20T09:30:15.250000Z"
    # ... and the received time is no part of what the engine computes from
    assert store.deal_journeys(["d-1"])["d-1"] == store.deal_journey("d-1")


def test_events_stored_before_received_times_read_as_null(store: Store, network: list) -> None:
    ingest_events(store, network)
    _forget_received_times(store)
    journey = store.journey("c-1")
    assert {i["recorded_at"] for i in _items(journey)} == {None}
    assert ingest_events(store, network).duplicates == len(network)


def test_a_sent_recorded_at_is_refused_naming_the_field(store: Store, network: list) -> None:
    touch = dict(network[11], recorded_at="2025-01-04T02:00:00Z")
    with pytest.raises(InvalidEvents) as refused:
        ingest_events(store, [network[0], touch])
    (error,) = refused.value.errors
    assert (error.index, error.id, error.field) == (1, "t-2", "recorded_at")
    assert "set by the service" in error.message
    assert store.event_count() == 0


def test_an_imported_file_records_when_it_was_received(
    store: Store, network: list, tmp_path: Path, received_at: list[datetime]
) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(json.dumps(e) for e in network) + "\n", encoding="utf-8")
    assert ingest_file(store, events).accepted == len(network)
    assert {i["recorded_at"] for i in _items(store.journey("c-1"))} == {
        "2026-03-01T08:00:00.000000Z"
    }
    forged = tmp_path / "forged.csv"
    forged.write_text(
        "type,id,at,customer,staff,store,stage,recorded_at\n"
        "touch,t-f,2025-01-05T00:00:00Z,c-1,sf-x,st-a,quote,2025-01-05T00:00:00Z\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidEvents) as refused:
        ingest_file(store, forged)
    assert [(e.field, e.line) for e in refused.value.errors] == [("recorded_at", 2)]


def test_an_old_sqlite_file_gains_the_column(tmp_path: Path, network: list) -> None:
    path = tmp_path / "old.db"
    store = open_store(f"sqlite:///{path}")
    ingest_events(store, network)
    store.close()
    with sqlite3.connect(path) as db:  # the file as an earlier version left it
        db.execute("ALTER TABLE events DROP COLUMN recorded_at")
    reopened = open_store(f"sqlite:///{path}")
    try:
        assert {i["recorded_at"] for i in _items(reopened.journey("c-1"))} == {None}
        ingest_events(reopened, [LATE_TOUCH])
        late = next(t for t in reopened.journey("c-1").touches if t["id"] == "t-late")
        assert late["recorded_at"] is not None and late["recorded_at"].endswith("Z")
    finally:
        reopened.close()


# --- re-derivation -----------------------------------------------------------------------------


def _settled(store: Store, network: list) -> dict[str, str]:
    """The network and a second deal, both settled under the default policy: deal -> settlement."""
    ingest_events(store, [*network, *OTHER_DEAL])
    ensure_default_policy(store)
    return {d: settle(store, d, requested_by="test")[0].id for d in ("d-1", "d-2")}


def test_untouched_settlements_are_reproduced(store: Store, network: list) -> None:
    ids = _settled(store, network)
    found = {v.deal: v for v in verify_period(store, None, None)}
    assert set(found) == {"d-1", "d-2"}
    for deal, v in found.items():
        assert (v.status, v.reproduced, v.settlement, v.current) == (
            "reproduced",
            True,
            ids[deal],
            True,
        )
        assert v.people == [] and not v.input.changed and v.input.altered_events == []
        assert v.input.recomputed_hash == v.input.recorded_hash
    assert verify_settlement(store, ids["d-1"]).reproduced
    with pytest.raises(NotFound):
        verify_settlement(store, "stl-nope")


def test_a_touch_edited_in_the_database_is_reported_with_the_fen_it_moves(
    store: Store, network: list
) -> None:
    ids = _settled(store, network)
    recorded = store.ledger.settlement(ids["d-1"])
    _edit_touch(store, "t-3", "test_drive")  # Yang's reception becomes a test drive

    found = {v.deal: v for v in verify_period(store, None, None)}
    assert found["d-2"].reproduced
    v = found["d-1"]
    assert (v.status, v.reproduced, v.current) == ("differs", False, True)
    assert v.input.changed and v.input.altered_events == ["t-3"] and v.input.late_events == []
    # the right fen: what the edited journey pays, against what was recorded
    policy = next(r for r in store.ledger.policies() if r.id == recorded.policy)
    now = compute_split(store.deal_journeys(["d-1"])["d-1"], policy.policy, recorded.model)
    then = {a.id: a.amount for a in recorded.allocations if a.kind == "staff"}
    paid = {a.id: a.amount for a in now.allocations if a.kind == "staff"}
    expected = {
        who: (then.get(who, 0), paid.get(who, 0))
        for who in then.keys() | paid.keys()
        if then.get(who, 0) != paid.get(who, 0)
    }
    got = {p.id: (p.recorded_fen, p.recomputed_fen) for p in v.people if p.kind == "staff"}
    assert got == expected and got
    assert all(p.difference == p.recomputed_fen - p.recorded_fen for p in v.people)
    assert sum(p.difference for p in v.people) == 0  # the pool is the same; it moved
    by_id = {p.id: p for p in v.people}
    assert by_id["sf-y"].difference > 0 and by_id["sf-x"].difference < 0
    assert by_id["sf-y"].name == "Yang"
    assert "t-3" in v.message
    assert verify_settlement(store, ids["d-1"]).people == v.people


def test_a_superseded_settlement_is_verified_under_its_own_policy_and_model(
    store: Store, network: list, received_at: list[datetime]
) -> None:
    ids = _settled(store, network)
    first = ids["d-1"]
    # settled again under another model: the first stays reproducible under its own
    second, created = settle(
        store, "d-1", requested_by="test", model="shapley", reason="another model"
    )
    assert created and second.supersedes == first
    v = verify_settlement(store, first)
    assert (v.reproduced, v.current, v.model) == (True, False, "stage_weighted")
    assert verify_settlement(store, second.id).current

    # a late touch, then a settlement that takes it in: the earlier one no longer reproduces,
    # and the late touch (not an edit) is what explains it
    received_at[0] = second.created_at + timedelta(days=30)
    ingest_events(store, [LATE_TOUCH])
    latest, _ = settle(store, "d-1", requested_by="test", reason="late touch", model="shapley")
    old = verify_settlement(store, second.id)
    assert (old.status, old.current, old.model) == ("differs", False, "shapley")
    assert old.input.late_events == ["t-late"] and old.input.altered_events == []
    assert any(p.id == "sf-y" and p.difference > 0 for p in old.people)
    assert verify_settlement(store, latest.id).reproduced


# --- the API and the command line --------------------------------------------------------------


def test_the_api_shows_received_times_and_verifies_settlements(
    store: Store, network: list, received_at: list[datetime]
) -> None:
    ids = _settled(store, network)
    app = create_app(store=store, settings=Settings(admin_key=ADMIN))
    with TestClient(app) as client:
        keys = {r: create_key(store, r) for r in ("leader", "analyst", "ingest")}
        keys["staff"] = create_key(store, "staff", staff="sf-x")

        def auth(role: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {keys[role]}"}

        journey = client.get("/v1/customers/c-1/journey", headers=auth("leader")).json()
        assert {t["recorded_at"] for t in journey["touches"]} == {"2026-03-01T08:00:00.000000Z"}
        sent = client.post(
            "/v1/events",
            json={"events": [dict(LATE_TOUCH, recorded_at="2025-01-07T00:00:00Z")]},
            headers=auth("ingest"),
        )
        assert sent.status_code == 422
        assert [e["field"] for e in sent.json()["errors"]] == ["recorded_at"]

        url = f"/v1/settlements/{ids['d-1']}:verify"
        for role in ("staff", "ingest"):
            assert client.post(url, headers=auth(role)).status_code == 403
        ok = client.post(url, headers=auth("analyst"))
        assert ok.status_code == 200 and ok.json()["status"] == "reproduced"
        _edit_touch(store, "t-3", "test_drive")
        body = client.post(url, headers=auth("leader")).json()
        assert (body["status"], body["reproduced"]) == ("differs", False)
        assert body["input"]["altered_events"] == ["t-3"] and body["input"]["changed"]
        assert {p["id"] for p in body["people"]} >= {"sf-x", "sf-y"}
        assert all(
            p["difference"] == p["recomputed_fen"] - p["recorded_fen"] for p in body["people"]
        )
        missing = client.post("/v1/settlements/stl-nope:verify", headers=auth("leader"))
        assert missing.status_code == 404


def test_contribnet_verify_prints_a_table_and_exits_1_when_one_differs(
    tmp_path: Path, network: list, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'verify.db'}"
    store = open_store(url)
    try:
        ids = _settled(store, network)
    finally:
        store.close()
    assert main(["verify", "--from", "2025-01-01", "--to", "2025-01-31", "--store", url]) == 0
    assert "Every settlement is reproduced." in capsys.readouterr().out

    store = open_store(url)
    try:
        _edit_touch(store, "t-3", "test_drive")
    finally:
        store.close()
    assert main(["verify", "--store", url]) == 1
    out = capsys.readouterr().out
    assert ids["d-1"] in out and "sf-y" in out and "t-3" in out
    assert ids["d-2"] not in out
    assert "not reproduced" in out
    assert main(["verify", "--settlement", ids["d-2"], "--store", url]) == 0
    capsys.readouterr()
    assert main(["verify", "--from", "2025-02-01", "--to", "2025-01-01", "--store", url]) == 2
    assert "to" in capsys.readouterr().err

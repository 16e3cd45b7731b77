"""The audit trail over HTTP, on SQLite and on Neo4j: every write, void, settlement, supersede,
adjustment, policy version, key change and flag review is an entry naming the key, its role and
the reason, found by any id it touched; re-sent batches record nothing; the trail cannot be
edited, and each role reads only what it may."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from tests.audit.conftest import Api, _touch

from contribnet.domain.audit import MAX_LISTED_TARGETS, AuditEntry
from contribnet.services.audit import record
from contribnet.services.ingest import ingest_events
from contribnet.store.sqlite import SqliteStore


def _actions(entries: list[dict[str, Any]]) -> list[str]:
    return [e["action"] for e in entries]


def test_a_batch_is_one_entry_found_by_each_event_its_customer_and_staff(api: Api) -> None:
    batch = [_touch("t-4", "2025-01-07T02:00:00Z", "sf-z", "consultation")]
    response = api.client.post("/v1/events", json={"events": batch}, headers=api.headers["ingest"])
    assert response.json() == {"accepted": 1, "duplicates": 0}
    (entry,) = api.trail("t-4")
    assert entry["action"] == "event_written"
    assert entry["actor_role"] == "ingest" and entry["actor_key"] == api.key_ids["ingest"]
    assert set(entry["targets"]) == {"t-4", "c-1", "sf-z"}
    assert entry in api.trail("sf-z") and entry in api.trail("c-1")
    # the network's batch too: one entry for ten events, found by any of them
    (network,) = [e for e in api.trail("d-1") if e["action"] == "event_written"]
    assert {"d-1", "t-1", "t-2", "t-3", "sf-x", "sf-y", "c-1", "st-a"} <= set(network["targets"])
    assert network["actor_role"] == "admin"


def test_a_re_sent_batch_records_nothing_and_a_partly_new_one_only_its_new_events(
    api: Api,
) -> None:
    batch = [
        _touch("t-4", "2025-01-07T02:00:00Z", "sf-z", "consultation"),
        _touch("t-5", "2025-01-07T03:00:00Z", "sf-z", "consultation"),
    ]
    ingest = api.headers["ingest"]
    assert api.client.post("/v1/events", json={"events": batch}, headers=ingest).status_code == 200
    before = api.trail("sf-z")
    again = api.client.post("/v1/events", json={"events": batch}, headers=ingest)
    assert again.json() == {"accepted": 0, "duplicates": 2}
    assert api.trail("sf-z") == before
    partly = [*batch, _touch("t-6", "2025-01-08T03:00:00Z", "sf-z", "quote")]
    response = api.client.post("/v1/events", json={"events": partly}, headers=ingest)
    assert response.json() == {"accepted": 1, "duplicates": 2}
    after = api.trail("sf-z")
    assert after[: len(before)] == before and len(after) == len(before) + 1
    assert set(after[-1]["targets"]) == {"t-6", "c-1", "sf-z"}
    assert api.trail("t-4") == [before[-1]]  # not named again by the partly new batch
    # a refused batch (a re-used id) writes nothing, and records nothing
    bad = [{**batch[0], "stage": "quote"}]
    assert api.client.post("/v1/events", json={"events": bad}, headers=ingest).status_code == 409
    assert api.trail("sf-z") == after


def test_settle_void_supersede_and_adjust_are_entries_with_their_reasons(api: Api) -> None:
    leader = api.key_ids["leader"]
    settled = api.post("/v1/deals/d-1/settlements", "leader")
    assert settled.status_code == 201, settled.text
    first = settled.json()["id"]
    (entry,) = [e for e in api.trail("d-1") if e["action"] == "settled"]
    assert {first, "d-1", "sf-x", "sf-y"} <= set(entry["targets"])
    assert (entry["actor_role"], entry["actor_key"]) == ("leader", leader)
    assert entry in api.trail("sf-x")  # every paid staff member's trail has it
    void = {"type": "void", "id": "v-1", "target": "t-3", "reason": "logged twice"}
    assert api.post("/v1/events", "ingest", events=[void]).status_code == 200
    (voided,) = [e for e in api.trail("t-3") if e["action"] == "event_voided"]
    assert set(voided["targets"]) == {"v-1", "t-3"} and voided["reason"] == "logged twice"
    again = api.post("/v1/deals/d-1/settlements", "leader", reason="t-3 was logged twice")
    assert again.status_code == 201, again.text
    (superseding,) = [e for e in api.trail(first) if e["action"] == "superseded"]
    assert superseding["reason"] == "t-3 was logged twice"
    assert {again.json()["id"], "d-1", first} <= set(superseding["targets"])
    moved = api.post(
        "/v1/deals/d-1/adjustments",
        "leader",
        from_staff="sf-y",
        to_staff="sf-z",
        amount=1000,
        reason="Zhao answered the call",
    )
    assert moved.status_code == 201, moved.text
    (adjusted,) = [e for e in api.trail("sf-z") if e["action"] == "adjusted"]
    assert set(adjusted["targets"]) == {moved.json()["id"], "d-1", "sf-y", "sf-z"}
    assert adjusted["reason"] == "Zhao answered the call"
    assert _actions(api.trail("d-1")) == [
        "event_written",
        "settled",
        "superseded",
        "adjusted",
    ]
    # settling again with unchanged inputs writes nothing, and records nothing
    assert api.post("/v1/deals/d-1/settlements", "leader").status_code == 200
    assert len(api.trail("d-1")) == 4


def test_policy_versions_and_key_changes_are_entries(api: Api) -> None:
    response = api.client.post(
        "/v1/policies",
        content='name = "spring"\nversion = "1"\neffective_from = "2025-03-01"\n',
        headers={**api.headers["admin"], "Content-Type": "application/toml"},
    )
    assert response.status_code == 201, response.text
    (entry,) = api.trail("spring@1")
    assert entry["action"] == "policy_version" and entry["actor_role"] == "admin"
    created = api.post("/v1/keys", role="staff", staff="sf-z")
    assert created.status_code == 201, created.text
    new_key = created.json()["id"]
    assert api.client.delete(f"/v1/keys/{new_key}").status_code == 200
    assert api.client.delete(f"/v1/keys/{new_key}").status_code == 200  # no change: no entry
    assert _actions(api.trail(new_key)) == ["key_created", "key_revoked"]
    # by the key's public id only: whom it is for stays sealed (tests/contract/test_key_visibility)
    assert all(e["targets"] == [new_key] for e in api.trail(new_key))
    assert "key_created" not in _actions(api.trail("sf-z"))


def test_a_flag_review_is_an_entry_and_so_are_the_voids_it_sends(api: Api) -> None:
    grab = _touch("t-grab", "2025-01-10T03:45:00Z", "sf-z", "test_drive")
    assert api.post("/v1/events", "ingest", events=[grab]).status_code == 200
    flags = api.client.get("/v1/flags", params={"kind": "grab"}).json()["flags"]
    (flag,) = [f for f in flags if "t-grab" in f["records"]]
    review = api.post(f"/v1/flags/{flag['id']}/review", "leader", decision="confirm", reason="x")
    assert review.status_code == 201, review.text
    assert _actions(api.trail("t-grab")) == ["event_written", "flag_reviewed", "event_voided"]
    reviewed, voided = api.trail("t-grab")[1:]
    assert reviewed["reason"] == "confirm: x" and flag["id"] in reviewed["targets"]
    assert voided["actor_key"] == api.key_ids["leader"]  # the voids are the reviewer's


@pytest.mark.parametrize("role", ["leader", "analyst"])
def test_leaders_and_analysts_read_any_trail(api: Api, role: str) -> None:
    assert api.trail("d-1", role) == api.trail("d-1")
    assert api.trail("d-1", role, **{"from": "2000-01-01", "to": "2000-12-31"}) == []


def test_a_staff_key_reads_only_its_own_trail_and_ingest_none(api: Api) -> None:
    own, full = api.trail("sf-x", "staff-x"), api.trail("sf-x")
    assert [e["id"] for e in own] == [e["id"] for e in full] and own
    assert all(e["targets"] == ["sf-x"] for e in own)  # not the other ids a batch named
    assert "c-1" in full[0]["targets"] and own[0]["targets_total"] == full[0]["targets_total"]
    for target in ("sf-y", "d-1", "c-1"):
        response = api.client.get(
            "/v1/audit", params={"target": target}, headers=api.headers["staff-x"]
        )
        assert response.status_code == 403, target
    refused = api.client.get("/v1/audit", params={"target": "d-1"}, headers=api.headers["ingest"])
    assert refused.status_code == 403


def test_bad_queries_are_named_4xx(api: Api) -> None:
    missing = api.client.get("/v1/audit")
    assert missing.status_code == 422 and "target" in missing.text
    backwards = api.client.get(
        "/v1/audit", params={"target": "d-1", "from": "2025-02-01", "to": "2025-01-01"}
    )
    assert backwards.status_code == 422 and backwards.json()["errors"][0]["field"] == "to"


def test_no_route_edits_or_deletes_the_trail_and_entries_never_change(api: Api) -> None:
    paths = api.client.app.openapi()["paths"]  # type: ignore[attr-defined]
    audit_routes = {(m.upper(), p) for p, ops in paths.items() for m in ops if "audit" in p}
    assert audit_routes == {("GET", "/v1/audit")}
    before = api.trail("sf-x")
    assert _actions(before) == ["event_written"]  # the network
    entry = before[0]
    for method in ("PUT", "PATCH", "DELETE", "POST"):
        response = api.client.request(method, "/v1/audit", params={"target": "sf-x"})
        assert response.status_code == 405, method
        response = api.client.request(method, f"/v1/audit/{entry['id']}")
        assert response.status_code in (404, 405), method
    assert api.post("/v1/deals/d-1/settlements", "leader").status_code == 201
    void = {"type": "void", "id": "v-2", "target": "t-2", "reason": "wrong customer"}
    assert api.post("/v1/events", "ingest", events=[void]).status_code == 200
    after = api.trail("sf-x")
    assert after[: len(before)] == before and _actions(after[len(before) :]) == ["settled"]


def test_the_stores_keep_an_entry_as_written_found_by_every_target(api: Api) -> None:
    entry = record(api.store, "settled", "leader:sf-q (key-0123456789ab)", ["x-1", "x-2", "x-1"])
    assert (entry.targets, entry.targets_total) == (("x-1", "x-2"), 2)
    (stored,) = api.store.audit.entries("x-2")  # type: ignore[attr-defined]
    assert isinstance(stored, AuditEntry) and stored == entry
    assert (stored.actor_role, stored.actor_key) == ("leader", "key-0123456789ab")
    many = [f"y-{n}" for n in range(MAX_LISTED_TARGETS + 50)]
    big = record(api.store, "event_written", "ingest (key-0123456789ab)", many)
    assert big.targets == tuple(many[:MAX_LISTED_TARGETS]) and big.targets_total == len(many)
    assert api.store.audit.entries(many[-1]) == [big]  # type: ignore[attr-defined]


def test_sqlite_refuses_to_edit_or_delete_an_entry_even_past_the_service(tmp_path: Path) -> None:
    store = SqliteStore(f"sqlite:///{tmp_path / 'kept.db'}")
    try:
        entry = record(store, "settled", "leader (key-0123456789ab)", ["d-1", "sf-x"])
        for sql in (
            "UPDATE audit_entries SET record = '{}'",
            "DELETE FROM audit_entries",
            "DELETE FROM audit_targets",
            "UPDATE audit_targets SET target = 'x'",
        ):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                store._db.execute(sql)
        assert store.audit.entries("sf-x") == [entry]
    finally:
        store.close()


def test_on_sqlite_a_change_and_its_entry_are_one_transaction(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite writes both or neither; Neo4j writes the entry after its change (README: what is
    guaranteed), so there the change stands without its entry."""

    def broken(*_: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(api.store.audit, "append", broken)  # type: ignore[attr-defined]
    touch = _touch("t-9", "2025-01-08T02:00:00Z", "sf-z", "quote")
    with pytest.raises(RuntimeError, match="disk full"):
        ingest_events(api.store, [touch], requested_by="ingest (key-0123456789ab)")
    with pytest.raises(RuntimeError, match="disk full"):
        record(api.store, "settled", "leader", ["d-1"])
    monkeypatch.undo()
    written = api.store.stored_hashes(["t-9"])
    assert written == {} if api.kind == "sqlite" else set(written) == {"t-9"}
    assert api.trail("t-9") == []
    # sent again, the batch is written (SQLite) or a duplicate (Neo4j): nothing half-done
    response = api.post("/v1/events", "ingest", events=[touch])
    assert response.json()["accepted"] == (1 if api.kind == "sqlite" else 0)

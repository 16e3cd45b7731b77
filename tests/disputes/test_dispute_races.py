"""One open dispute per statement line under concurrency, on SQLite and on Neo4j.

Two openers of the same line, each with its own store object (its own connection), are held at
a barrier until both have checked that the line has no open dispute, then both write: the
store's unique key on the open line lets exactly one through, the other gets the 409 error, and
exactly one dispute and one ``dispute_opened`` entry exist. A resolution frees the line.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from typing import Any

import pytest
from tests.audit.conftest import Api

from contribnet.domain.disputes import AlreadyDisputed, Dispute
from contribnet.services.disputes import open_dispute, resolve_dispute
from contribnet.store import Store, open_store
from contribnet.store.disputes import dispute_store

OPENERS = 2


def _checked_together(store: Store, barrier: threading.Barrier) -> None:
    """Make ``store``'s dispute reads wait at ``barrier``, so that every opener has found the
    line free before any of them writes: the race the service's own check cannot settle."""
    port = dispute_store(store)
    read = port.disputes

    def disputes(**filters: Any) -> list[Dispute]:
        found = read(**filters)
        barrier.wait(timeout=30)
        return found

    port.disputes = disputes  # type: ignore[method-assign]


def _race(api: Api, message: str) -> list[Any]:
    """Open Xu's dispute on d-1 from OPENERS threads at once; what each returned or raised."""
    stores = [open_store(api.url) for _ in range(OPENERS)]
    checked = threading.Barrier(OPENERS)
    start = threading.Barrier(OPENERS)
    results: list[Any] = [None] * OPENERS
    by = f"staff:sf-x ({api.key_ids['staff-x']})"

    def run(i: int) -> None:
        start.wait(timeout=30)
        try:
            results[i] = open_dispute(stores[i], "d-1", f"{message} {i}", requested_by=by)
        except Exception as exc:  # collected and asserted on below
            results[i] = exc

    for s in stores:
        _checked_together(s, checked)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(OPENERS)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        for s in stores:
            s.close()
    return results


def test_two_simultaneous_openers_of_one_line_one_wins_one_gets_409(api: Api) -> None:
    assert api.post("/v1/deals/d-1/settlements", "leader").status_code == 201
    for attempt in range(3):  # each resolution frees the line for the next round
        results = _race(api, f"round {attempt}")
        opened = [r for r in results if isinstance(r, Dispute)]
        refused = [r for r in results if isinstance(r, AlreadyDisputed)]
        assert (len(opened), len(refused)) == (1, 1), results
        assert "open dispute" in str(refused[0])
        listed = api.client.get("/v1/disputes", params={"status": "open"}).json()
        assert [d["id"] for d in listed["disputes"]] == [opened[0].id]
        assert len(api.client.get("/v1/disputes").json()["disputes"]) == attempt + 1
        opened_entries = [e for e in api.trail("d-1") if e["action"] == "dispute_opened"]
        assert len(opened_entries) == attempt + 1
        assert api.trail(opened[0].id)[0]["action"] == "dispute_opened"
        # the same line over HTTP while it is open: the 409
        again = api.post("/v1/disputes", "staff-x", deal="d-1", message="again")
        assert again.status_code == 409 and "open dispute" in again.json()["detail"]
        resolve_dispute(api.store, opened[0].id, "reject", "checked", "leader (key-test)")


def test_the_stores_key_refuses_a_second_open_dispute_the_service_did_not_see(api: Api) -> None:
    assert api.post("/v1/deals/d-1/settlements", "leader").status_code == 201
    first = open_dispute(api.store, "d-1", "mine", requested_by="leader (key-test)", staff="sf-x")
    port = dispute_store(api.store)
    twin = first.model_copy(update={"id": "dp-twin", "message": "a twin"})
    with pytest.raises(AlreadyDisputed):
        port.put_dispute(twin)
    assert [d.id for d in port.disputes(deal="d-1")] == [first.id]
    # another staff member's line on the same deal is its own key
    other = first.model_copy(update={"id": "dp-yang", "staff": "sf-y"})
    port.put_dispute(other)
    assert [d.id for d in port.disputes(deal="d-1")] == [first.id, "dp-yang"]


def test_disputes_opened_before_the_key_existed_hold_their_line(
    api: Api, request: pytest.FixtureRequest
) -> None:
    assert api.post("/v1/deals/d-1/settlements", "leader").status_code == 201
    first = open_dispute(api.store, "d-1", "mine", requested_by="leader (key-test)", staff="sf-x")
    # Take the open line's key away, as in a store written by the previous version.
    if api.kind == "sqlite":
        path = api.url.removeprefix("sqlite:///")
        with contextlib.closing(sqlite3.connect(path)) as db, db:
            db.execute("DROP TABLE open_disputes")
    else:
        request.getfixturevalue("neo4j_driver").execute_query("MATCH (o:OpenDispute) DELETE o")
    reopened = open_store(api.url)  # marks the open line again
    try:
        twin = first.model_copy(update={"id": "dp-twin"})
        with pytest.raises(AlreadyDisputed):
            dispute_store(reopened).put_dispute(twin)
        resolve_dispute(reopened, first.id, "reject", "checked", "leader (key-test)")
        # resolved, the line is free again
        dispute_store(reopened).put_dispute(twin)
        assert [d.id for d in dispute_store(reopened).disputes(status="open")] == ["dp-twin"]
    finally:
        reopened.close()

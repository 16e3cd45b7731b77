"""The SQLite read paths use indexes: plans are asserted, not the clock, so a lost index fails
CI on any machine (a journey read once scanned every referral: 6 ms a deal on the m network)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from contribnet.demo.scenarios import all_events
from contribnet.services.ingest import ingest_events
from contribnet.store.sqlite import SqliteStore

#: Tables that grow with the network: a read path must search them, never scan them.
BIG = ("events", "touches", "referrals", "handovers", "handover_customers", "deals", "voids")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    store = SqliteStore(f"sqlite:///{tmp_path / 'plans.db'}")
    ingest_events(store, all_events())
    yield store
    store.close()


def _scans(db: sqlite3.Connection, statements: list[str]) -> list[str]:
    found = []
    for sql in statements:
        if not sql.lstrip().upper().startswith("SELECT"):
            continue
        for row in db.execute("EXPLAIN QUERY PLAN " + sql):
            detail = row[-1]
            if any(detail.startswith(f"SCAN {t}") or f"SCAN {t} " in detail for t in BIG):
                found.append(f"{detail}  <-  {sql[:120]}")
    return found


def _traced(store: SqliteStore, read: object) -> list[str]:
    statements: list[str] = []
    db: sqlite3.Connection = store._db  # the plan of what this connection ran
    db.set_trace_callback(statements.append)
    try:
        read()  # type: ignore[operator]
    finally:
        db.set_trace_callback(None)
    return statements


def test_journey_reads_search_indexes(store: SqliteStore) -> None:
    customers = sorted({e["customer"] for e in all_events() if e["type"] == "deal"})
    statements = _traced(store, lambda: [store.journey(c) for c in customers])
    assert any("referrer_customer" in s for s in statements)  # the query the index is for
    assert _scans(store._db, statements) == []


def test_deal_journeys_search_indexes(store: SqliteStore) -> None:
    deals = [e["id"] for e in all_events() if e["type"] == "deal"]
    statements = _traced(store, lambda: store.deal_journeys(deals))
    assert statements and _scans(store._db, statements) == []

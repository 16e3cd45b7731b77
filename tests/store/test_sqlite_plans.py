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


def test_the_audit_trail_of_an_id_is_an_index_seek(store: SqliteStore) -> None:
    from contribnet.store.sqlite_audit import ENTRIES_SQL

    assert store.audit.entries("c-s1-zhang")  # loading the scenarios was audited
    explained = store._db.execute("EXPLAIN QUERY PLAN " + ENTRIES_SQL, ("c-s1-zhang", "0", "9"))
    plan = [row[-1] for row in explained]
    assert any(d.startswith("SEARCH t USING PRIMARY KEY (target=?)") for d in plan), plan
    assert any(d.startswith("SEARCH e USING INTEGER PRIMARY KEY") for d in plan), plan
    assert [d for d in plan if d.startswith("SCAN") or "TEMP B-TREE" in d] == [], plan


def test_lead_pool_reads_search_indexes(store: SqliteStore) -> None:
    """Reclaiming reads the holdings up to an instant and each holder's follow-ups (lead pools)."""
    from datetime import UTC, datetime

    from contribnet.domain.leads import FollowUpWindow

    at = datetime(2025, 1, 1, tzinfo=UTC)
    window = FollowUpWindow("la-1", "c-s1-zhang", "sf-1", at, at)
    statements = _traced(
        store, lambda: (store.leads.lead_assignments(at), store.leads.followed_up([window]))
    )
    assert any("lead_assignments" in s for s in statements)
    plans = [
        row[-1] for sql in statements for row in store._db.execute("EXPLAIN QUERY PLAN " + sql)
    ]
    assert any("lead_assignments_at" in p for p in plans), plans
    assert [p for p in plans if p.startswith("SCAN") and p != "SCAN CONSTANT ROW"] == [], plans


def test_the_fraud_rules_read_each_table_once_and_seek_the_rest(store: SqliteStore) -> None:
    """``flag_inputs``: over a period, a range of each table's time index; over the whole store,
    one pass over each table (it reads every row); either way each row's event (received time,
    evidence) and voids are seeks, and nothing is sorted."""
    from datetime import UTC, datetime

    period = (datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 3, 1, tzinfo=UTC))
    for bounds, main in (
        (period, "SEARCH {0} USING INDEX"),
        ((None, None), "SCAN {0}"),
    ):
        statements = _traced(store, lambda b=bounds: store.flags.flag_inputs(*b))
        plans = {
            table: [
                row[-1]
                for sql in statements
                if f"FROM {table} " in sql
                for row in store._db.execute("EXPLAIN QUERY PLAN " + sql)
            ]
            for table in ("touches t", "deals d", "referrals r")
        }
        for table, plan in plans.items():
            alias = table.split()[1]
            assert plan[0].startswith(main.format(alias)), plan
            assert "SEARCH e USING INDEX sqlite_autoindex_events_1 (key=?)" in plan, plan
            assert "SEARCH v USING COVERING INDEX voids_target (target=?)" in plan, plan
            assert [p for p in plan if "TEMP B-TREE" in p] == [], plan
            if bounds == period:
                assert _scans(store._db, statements) == []


def test_the_training_rows_read_each_table_once_and_seek_voids(store: SqliteStore) -> None:
    """``contribution_rows`` reads every live touch, referral and handover of the store, so one
    pass over each table is its plan (in page order, then one sort: reading the touches along
    their (customer, at, id) index would look every row up in the table at random instead); a
    row's void and a handover's customers' handover are seeks."""
    from contribnet.store.sqlite import _CONTRIBUTION_ITEMS, _LIVE_CLOSES

    items = [row[-1] for row in store._db.execute("EXPLAIN QUERY PLAN " + _CONTRIBUTION_ITEMS)]
    # a handover's customers may be read along an index that covers them: one pass still
    scans = sorted(
        p.split(" USING")[0] for p in items if p.startswith("SCAN") and "subquery" not in p
    )
    assert scans == ["SCAN hc", "SCAN r", "SCAN t"], items
    assert items.count("SEARCH v USING COVERING INDEX voids_target (target=?)") == 3, items
    assert any(p.startswith("SEARCH h USING INDEX sqlite_autoindex_handovers_1") for p in items)
    assert [p for p in items if "TEMP B-TREE" in p] == ["USE TEMP B-TREE FOR ORDER BY"], items
    closes = [row[-1] for row in store._db.execute("EXPLAIN QUERY PLAN " + _LIVE_CLOSES)]
    assert [p for p in closes if p.startswith("SCAN")] == ["SCAN d"], closes
    assert "SEARCH v USING COVERING INDEX voids_target (target=?)" in closes, closes


def test_contribution_changes_search_indexes(store: SqliteStore) -> None:
    """What changed since a mark is read by the events' seq and the changed customers' ids."""
    from contribnet.store import sqlite as adapter

    wanted = "WITH wanted(customer) AS (VALUES (?), (?)) "
    reads = [
        (adapter._CHANGED_CUSTOMERS, (10, 20)),
        (wanted + adapter._CONTRIBUTION_ITEMS_AS_OF, ("c-1", "c-2", *[20] * 6)),
        (wanted + adapter._LIVE_CLOSES_AS_OF, ("c-1", "c-2", 20, 20)),
    ]
    for sql, params in reads:
        plan = [row[-1] for row in store._db.execute("EXPLAIN QUERY PLAN " + sql, params)]
        scans = [d for d in plan if any(d.startswith(f"SCAN {t}") for t in BIG)]
        assert scans == [], plan
        assert any(d.startswith("SEARCH") for d in plan), plan

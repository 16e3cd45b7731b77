"""The profiles' bulk read seeks by index on both stores (plans asserted, not the clock): a
period's touches and activities are found without reading every touch and activity of the
network, which grows with every day recorded."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import neo4j
import pytest
from tests.conftest import Neo4jServer
from tests.contract.conftest import _wipe
from tests.profiles.conftest import NETWORK

from contribnet import cypher
from contribnet.services.ingest import ingest_events
from contribnet.store.neo4j import Neo4jStore
from contribnet.store.sqlite import SqliteStore

START = datetime(2025, 1, 1, tzinfo=UTC)
END = datetime(2025, 2, 1, tzinfo=UTC)
NEO4J_SCANS = (
    "AllNodesScan",
    "NodeByLabelScan",
    "DirectedAllRelationshipsScan",
    "UndirectedAllRelationshipsScan",
    "DirectedRelationshipTypeScan",
    "UndirectedRelationshipTypeScan",
)


def test_sqlite_period_reads_search_the_at_indexes(tmp_path: Path) -> None:
    store = SqliteStore(f"sqlite:///{tmp_path / 'plans.db'}")
    try:
        ingest_events(store, NETWORK)
        statements: list[str] = []
        db: sqlite3.Connection = store._db
        db.set_trace_callback(statements.append)
        try:
            inputs = store.profiles.profile_inputs(START, END)
        finally:
            db.set_trace_callback(None)
        assert len(inputs.touches) == 7 and len(inputs.activities) == 3
        plans = {}
        for sql in statements:
            if sql.lstrip().upper().startswith("SELECT"):
                plans[sql] = [row[-1] for row in db.execute("EXPLAIN QUERY PLAN " + sql)]
        touches = next(p for s, p in plans.items() if "FROM touches" in s)
        activities = next(p for s, p in plans.items() if "FROM activities" in s)
        assert any("touches_at" in d for d in touches), touches
        assert any("activities_at" in d for d in activities), activities
        assert not any(d.startswith("SCAN") for d in touches + activities)
    finally:
        store.close()


def _operators(plan: dict[str, Any]) -> list[str]:
    found = [str(plan["operatorType"]).split("@")[0]]
    for child in plan.get("children", []):
        found += _operators(child)
    return found


def _neo4j_plan(server: Neo4jServer, driver: neo4j.Driver, query: str, **params: Any) -> list[str]:
    """The operators of ``query``'s plan on the network, in a wiped graph."""
    _wipe(driver)
    store = Neo4jStore(server.store_url)
    try:
        ingest_events(store, NETWORK)
    finally:
        store.close()
    with driver.session(database="neo4j") as session:
        # statistics of this graph, not of the earlier tests' (the server outlives the wipe):
        # planned on stale counts, a range was once read by scanning the whole index
        session.run("CALL db.prepareForReplanning()").consume()
        summary = session.run("EXPLAIN " + cypher.load(query), **params).consume()
    return _operators(summary.plan)


@pytest.mark.neo4j
@pytest.mark.parametrize("query", ["store/profile_touches", "store/profile_activities"])
def test_neo4j_period_reads_seek_by_index(
    neo4j_server: Neo4jServer, neo4j_driver: neo4j.Driver, query: str
) -> None:
    operators = _neo4j_plan(neo4j_server, neo4j_driver, query, start=START, end=END)
    assert any("IndexSeekByRange" in op for op in operators), operators
    assert [op for op in operators if op in NEO4J_SCANS] == [], operators


def test_sqlite_staff_reads_search_the_staff_indexes(tmp_path: Path) -> None:
    store = SqliteStore(f"sqlite:///{tmp_path / 'plans.db'}")
    try:
        ingest_events(store, NETWORK)
        statements: list[str] = []
        db: sqlite3.Connection = store._db
        db.set_trace_callback(statements.append)
        try:
            inputs = store.profiles.profile_inputs(START, END, staff={"sf-x", "sf-w"})
        finally:
            db.set_trace_callback(None)
        assert len(inputs.touches) == 5 and len(inputs.activities) == 3
        plans = {}
        for sql in statements:
            if sql.lstrip().upper().startswith("SELECT"):
                plans[sql] = [row[-1] for row in db.execute("EXPLAIN QUERY PLAN " + sql)]
        touches = next(p for s, p in plans.items() if "FROM touches" in s)
        activities = next(p for s, p in plans.items() if "FROM activities" in s)
        assert any("touches_staff (staff=? AND at>? AND at<?)" in d for d in touches), touches
        seek = "activities_staff (staff=? AND at>? AND at<?)"
        assert any(seek in d for d in activities), activities
        scans = [d for d in touches + activities if d.startswith("SCAN")]
        assert all("json_each" in d for d in scans), scans
    finally:
        store.close()


@pytest.mark.neo4j
@pytest.mark.parametrize("query", ["store/profile_staff_touches", "store/profile_staff_activities"])
def test_neo4j_staff_reads_start_from_the_staff(
    neo4j_server: Neo4jServer, neo4j_driver: neo4j.Driver, query: str
) -> None:
    operators = _neo4j_plan(
        neo4j_server, neo4j_driver, query, staff=["sf-x", "sf-w"], start=START, end=END
    )
    assert any("NodeUniqueIndexSeek" in op for op in operators), operators
    assert [op for op in operators if op in NEO4J_SCANS] == [], operators

"""The points ledger's Neo4j reads and locks seek by index (their plans asserted, not the clock):
an account's ledger is read inside each redemption's write transaction, so a scan there would
slow every redemption as the graph grows."""

from __future__ import annotations

from typing import Any

import neo4j
import pytest
from tests.conftest import Neo4jServer
from tests.contract.conftest import _wipe
from tests.points.conftest import NETWORK, activity

from contribnet import cypher
from contribnet.services.ingest import ingest_events
from contribnet.services.points import ensure_default_points_policy, redeem
from contribnet.store.neo4j import Neo4jStore

pytestmark = pytest.mark.neo4j

SCANS = (
    "AllNodesScan",
    "NodeByLabelScan",
    "DirectedAllRelationshipsScan",
    "UndirectedAllRelationshipsScan",
)
QUERIES: list[tuple[str, dict[str, Any]]] = [
    ("store/points_account", {"staff": "sf-x", "owner": None, "key": "staff:sf-x"}),
    ("store/points_account", {"staff": None, "owner": "c-owner", "key": "owner:c-owner"}),
    ("store/points_lock_account", {"key": "staff:sf-x"}),
    ("store/find_redemption", {"id": "rd-1"}),
    ("store/find_reversal", {"redemption": "rd-1"}),
]


def _operators(plan: dict[str, Any]) -> list[str]:
    found = [str(plan["operatorType"]).split("@")[0]]
    for child in plan.get("children", []):
        found += _operators(child)
    return found


@pytest.fixture(scope="module")
def loaded(neo4j_server: Neo4jServer, neo4j_driver: neo4j.Driver) -> neo4j.Driver:
    _wipe(neo4j_driver)
    store = Neo4jStore(neo4j_server.store_url)
    try:
        ingest_events(store, NETWORK)
        ingest_events(store, [activity("a-1", "2025-01-05T10:00:00Z", "deposit_taken")])
        ensure_default_points_policy(store)
        redeem(store, "rd-1", "staff", "sf-x", 10, "leads", "test")
    finally:
        store.close()
    return neo4j_driver


@pytest.mark.parametrize(("query", "params"), QUERIES, ids=[q for q, _ in QUERIES])
def test_points_paths_seek_by_index(
    loaded: neo4j.Driver, query: str, params: dict[str, Any]
) -> None:
    with loaded.session(database="neo4j") as session:
        summary = session.run("EXPLAIN " + cypher.load(query), params).consume()
    operators = _operators(summary.plan)
    assert any("Seek" in op for op in operators), operators
    assert [op for op in operators if op in SCANS] == [], operators

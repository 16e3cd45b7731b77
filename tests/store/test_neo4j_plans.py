"""The Neo4j read paths under settlement, previews and journeys seek by index: their plans are
asserted, not the clock, so a query that falls back to scanning every node, or every node of a
label, fails CI on any machine."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import neo4j
import pytest
from tests.conftest import Neo4jServer
from tests.contract.conftest import _wipe

from contribnet import cypher
from contribnet.demo.scenarios import all_events
from contribnet.services.ingest import ingest_events
from contribnet.store.neo4j import Neo4jStore

pytestmark = pytest.mark.neo4j

#: Operators that read a whole graph or a whole label: never on a path that has a seek.
SCANS = (
    "AllNodesScan",
    "NodeByLabelScan",
    "DirectedAllRelationshipsScan",
    "UndirectedAllRelationshipsScan",
)
#: (query, parameters): the journey reads seek deals and customers by id; ``closed_deals`` and
#: ``count_closed_deals`` (the unsettled deals a settle run pages through) read a range of the
#: ``Deal.closed_at`` index; the settle write locks and reads its deals by id.
QUERIES: list[tuple[str, dict[str, Any]]] = [
    ("store/deal_journeys", {"ids": ["d-1", "d-3"]}),
    ("store/journey_items", {"customer": "c-1"}),
    (
        "store/closed_deals",
        {
            "start": "2024-01-01T00:00:00Z",
            "end": "2026-01-01T00:00:00Z",
            "after_at": "2024-01-01T00:00:00Z",
            "after_id": "",
            "unsettled": True,
            "limit": 1000,
        },
    ),
    (
        "store/count_closed_deals",
        {"start": "2024-01-01T00:00:00Z", "end": "2026-01-01T00:00:00Z", "unsettled": True},
    ),
    ("store/settlement_state", {"ids": ["stl-x"], "deals": ["d-1"]}),
    ("store/lock_deals", {"deals": ["d-1"]}),
]


INSTANTS = ("start", "end", "after_at")


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
        ingest_events(store, all_events())
    finally:
        store.close()
    return neo4j_driver


@pytest.mark.parametrize(("query", "params"), QUERIES, ids=[q for q, _ in QUERIES])
def test_read_paths_seek_by_index(loaded: neo4j.Driver, query: str, params: dict[str, Any]) -> None:
    text = cypher.load(query)
    # instants as the store passes them
    params = {k: datetime.fromisoformat(v) if k in INSTANTS else v for k, v in params.items()}
    with loaded.session(database="neo4j") as session:
        summary = session.run("EXPLAIN " + text, params).consume()
    operators = _operators(summary.plan)
    assert any("Seek" in op for op in operators), operators
    assert [op for op in operators if op in SCANS] == [], operators

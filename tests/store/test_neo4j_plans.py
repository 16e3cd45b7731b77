"""The Neo4j read paths under settlement, previews and journeys seek by index: their plans are
asserted, not the clock, so a query that falls back to scanning every node, or every node of a
label, fails CI on any machine."""

from __future__ import annotations

from datetime import UTC, datetime
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
#: ``count_closed_deals`` (the unsettled deals a settle run pages through), ``current_settlements``
#: (a ledger export's pages) and ``adjustments`` read a range of a ``closed_at`` index; the
#: settle write locks and reads its deals by id.
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
    (
        "store/current_settlements",
        {
            "start": "2024-01-01T00:00:00Z",
            "end": "2026-01-01T00:00:00Z",
            "after_at": "2024-01-01T00:00:00Z",
            "after_id": "",
            "limit": 1000,
        },
    ),
    (
        "store/adjustments",
        {
            "start": "2024-01-01T00:00:00Z",
            "end": "2026-01-01T00:00:00Z",
            "deal": None,
            "staff": None,
        },
    ),
    ("store/settlement_state", {"ids": ["stl-x"], "deals": ["d-1"]}),
    ("store/lock_deals", {"deals": ["d-1"]}),
    # the audit trail of one id (GET /v1/audit?target=) seeks its targets, then its entries
    (
        "store/audit_entries",
        {"target": "c-1", "start": "2024-01-01T00:00:00Z", "end": "2100-01-01T00:00:00Z"},
    ),
    ("store/find_dispute", {"id": "dp-1"}),
    # lead pools: the holdings up to an instant (a range of LeadAssignment.at), the follow-ups
    ("store/lead_assignments", {"until": "2025-01-01T00:00:00Z"}),
    (
        "store/lead_follow_ups",
        {"windows": [{"assignment": "la-1", "customer": "c-1", "staff": "sf-1"}]},
    ),
    # the learned models' kept tally: what changed since a mark, and those customers' rows
    ("store/changed_customers", {"after": 1, "last": 5}),
    ("store/contribution_rows_as_of", {"customers": ["c-1"], "mark": 5}),
    ("store/commit_batch", {"batch": "b", "customers": ["c-1"], "targets": ["t-1"]}),
]


INSTANTS = ("start", "end", "after_at", "until")


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


#: The fraud rules' bulk reads (``store/flags.py``) read every live record of a kind, so one pass
#: over a label or a relationship type is their plan (the touches: pages of staff, a range of
#: the staff id index) -- not a scan of every node or relationship, and each record's
#: ``(:Event)`` (its received time) is a seek by key.
FLAG_READS = [
    ("store/flag_touches", "NodeUniqueIndexSeekByRange", False),
    ("store/flag_deals", "NodeByLabelScan", True),
    ("store/flag_referrals", "DirectedRelationshipTypeScan", True),
]


@pytest.mark.parametrize(
    ("query", "scan", "event_seek"), FLAG_READS, ids=[q for q, *_ in FLAG_READS]
)
def test_fraud_rule_reads_pass_over_one_label_and_seek_events(
    loaded: neo4j.Driver, query: str, scan: str, event_seek: bool
) -> None:
    period = (datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 3, 1, tzinfo=UTC))
    for start, end in ((None, None), period):
        with loaded.session(database="neo4j") as session:
            summary = session.run(
                "EXPLAIN " + cypher.load(query), start=start, end=end, after="", limit=50
            ).consume()
        operators = _operators(summary.plan)
        assert operators.count(scan) == 1, operators
        assert [op for op in operators if op in SCANS and op != scan] == [], operators
        assert ("NodeUniqueIndexSeek" in operators) == event_seek, operators


def test_the_training_rows_pass_over_the_customers_once(loaded: neo4j.Driver) -> None:
    """``store/contribution_rows`` reads every customer's items and deals: one pass over the
    ``Customer`` label, then each customer's relationships expanded from it -- no scan of every
    node or relationship, no second pass over a label."""
    with loaded.session(database="neo4j") as session:
        summary = session.run("EXPLAIN " + cypher.load("store/contribution_rows")).consume()
    operators = _operators(summary.plan)
    assert operators.count("NodeByLabelScan") == 1, operators
    assert [op for op in operators if op in SCANS and op != "NodeByLabelScan"] == [], operators
    assert operators.count("Expand(All)") == 4, operators

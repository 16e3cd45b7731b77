"""Neo4j's write queries take instants as ISO 8601 text (the Python driver packs a DateTime
parameter slowly) and store them as DateTimes: every instant written is a DateTime in UTC, read
back equal to the event's."""

from __future__ import annotations

from datetime import UTC, datetime

import neo4j
import pytest
from tests.conftest import Neo4jServer
from tests.contract.conftest import _wipe

from contribnet.services.ingest import ingest_events
from contribnet.store.neo4j import Neo4jStore

pytestmark = pytest.mark.neo4j

AT = "2025-01-05T10:00:00.123456+08:00"
UTC_AT = datetime(2025, 1, 5, 2, 0, 0, 123456, tzinfo=UTC)

EVENTS = [
    {"type": "staff", "id": "sf-1", "name": "A", "store": "st-1", "role": "advisor"},
    {"type": "customer", "id": "c-1"},
    {"type": "customer", "id": "c-2"},
    {
        "type": "touch",
        "id": "t-1",
        "at": AT,
        "customer": "c-1",
        "staff": "sf-1",
        "store": "st-1",
        "stage": "lead",
    },  # fmt: skip
    {
        "type": "activity",
        "id": "a-1",
        "at": AT,
        "staff": "sf-1",
        "customer": "c-1",
        "action": "wechat_add",
    },  # fmt: skip
    {
        "type": "lead_assignment",
        "id": "la-1",
        "at": AT,
        "lead": "c-1",
        "reason": "assigned",
        "staff": "sf-1",
    },  # fmt: skip
    {
        "type": "referral",
        "id": "r-1",
        "at": AT,
        "customer": "c-2",
        "to_store": "st-1",
        "referrer_customer": "c-1",
    },  # fmt: skip
    {
        "type": "handover",
        "id": "h-1",
        "at": AT,
        "from_staff": "sf-1",
        "to_staff": "sf-1",
        "customers": ["c-1"],
    },  # fmt: skip
    {"type": "joint_event", "id": "j-1", "at": AT, "name": "Roadshow", "organisers": ["st-1"]},
    {
        "type": "deal",
        "id": "d-1",
        "customer": "c-1",
        "store": "st-1",
        "staff": "sf-1",
        "closed_at": AT,
        "amount": 100,
        "reward_pool": 10,
    },  # fmt: skip
]

#: Every instant the write queries store, and what it must be.
INSTANTS = """
MATCH ()-[t:TOUCHED {id: 't-1'}]->() RETURN 'touch.at' AS what, t.at AS at
UNION ALL MATCH ()-[t:TOUCHED {id: 't-1'}]->() RETURN 'touch.recorded_at' AS what,
  t.recorded_at AS at
UNION ALL MATCH (a:Activity {id: 'a-1'}) RETURN 'activity.at' AS what, a.at AS at
UNION ALL MATCH (a:LeadAssignment {id: 'la-1'}) RETURN 'lead_assignment.at' AS what, a.at AS at
UNION ALL MATCH ()-[r:REFERRED {id: 'r-1'}]->() RETURN 'referral.at' AS what, r.at AS at
UNION ALL MATCH (h:Handover {id: 'h-1'}) RETURN 'handover.at' AS what, h.at AS at
UNION ALL MATCH (j:JointEvent {id: 'j-1'}) RETURN 'joint_event.at' AS what, j.at AS at
UNION ALL MATCH (d:Deal {id: 'd-1'}) RETURN 'deal.closed_at' AS what, d.closed_at AS at
UNION ALL MATCH (e:Event {key: 'd-1'}) RETURN 'event.recorded_at' AS what, e.recorded_at AS at
"""


def test_every_instant_written_is_a_utc_datetime(
    neo4j_server: Neo4jServer, neo4j_driver: neo4j.Driver
) -> None:
    _wipe(neo4j_driver)
    store = Neo4jStore(neo4j_server.store_url)
    try:
        before = datetime.now(UTC)
        assert ingest_events(store, EVENTS).accepted == len(EVENTS)
        after = datetime.now(UTC)
    finally:
        store.close()
    records, _, _ = neo4j_driver.execute_query(INSTANTS, database_="neo4j")
    found = {r["what"]: r["at"] for r in records}
    assert len(found) == 9, found
    for what, at in found.items():
        assert isinstance(at, neo4j.time.DateTime), (what, at)
        assert at.utcoffset().total_seconds() == 0, (what, at)
        if what.endswith("recorded_at"):
            assert before <= at.to_native() <= after, (what, at)
        else:
            assert at.to_native() == UTC_AT, (what, at)

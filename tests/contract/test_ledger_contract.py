"""The credit ledger's part of the ``Store`` port, on every store: batch journeys, deal lookups by
period, policy versions, the settlement chain (and Neo4j's ``CREDITED`` projection), adjustments."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from contribnet.credit import compute_split
from contribnet.domain.errors import NotFound
from contribnet.domain.ledger import next_settlement
from contribnet.domain.policy import Policy
from contribnet.domain.settlement import Adjustment, DealRef, RecordConflict, Settlement
from contribnet.services.ingest import ingest_events
from contribnet.services.policies import policy_record
from contribnet.store import Store

V1 = policy_record(Policy(), "test", now=datetime(2025, 1, 1, tzinfo=UTC))
V2 = policy_record(
    Policy(version="2", effective_from=date(2025, 3, 1), model="linear"),
    "test",
    now=datetime(2025, 2, 1, tzinfo=UTC),
)


def _deal(i: int, closed_at: str) -> list[dict[str, Any]]:
    return [
        {
            "type": "touch",
            "id": f"t-x{i}",
            "at": "2025-01-02T00:00:00Z",
            "customer": f"c-x{i}",
            "staff": "sf-y",
            "store": "st-b",
            "stage": "test_drive",
        },
        {
            "type": "deal",
            "id": f"d-x{i}",
            "customer": f"c-x{i}",
            "store": "st-a",
            "staff": "sf-x",
            "closed_at": closed_at,
            "amount": 100,
            "reward_pool": 1001,
        },
    ]


def _settlement(store: Store, deal: str, policy: Any = V1, **kw: Any) -> Settlement:
    journey = store.deal_journeys([deal])[deal]
    split = compute_split(journey, policy.policy)
    kw.setdefault("now", datetime.now(UTC))
    return next_settlement(split, journey, policy, "test", **kw)


def _credited(store: Store, deal: str) -> list[tuple[str, ...]]:
    rows, _, _ = store._driver.execute_query(  # type: ignore[attr-defined]
        "MATCH (:Deal {id: $deal})-[c:CREDITED]->(p) "
        "RETURN p.id AS to, labels(p)[0] AS label, c.settlement AS settlement, c.amount AS amount,"
        " c.points AS points, c.model AS model, c.policy AS policy, c.policy_version AS version"
        " ORDER BY to",
        deal=deal,
        database_="neo4j",
    )
    return [tuple(r.values()) for r in rows]


def test_deal_journeys_match_deal_journey(store: Store, network: list) -> None:
    assert store.event_count() == 0
    ingest_events(store, network)
    assert store.event_count() == len(network)
    assert store.deal_journeys(["d-1", "nope", "d-1"]) == {"d-1": store.deal_journey("d-1")}
    ingest_events(store, _deal(1, "2025-01-05T00:00:00Z"))
    both = store.deal_journeys(["d-x1", "d-1"])
    assert both == {"d-1": store.deal_journey("d-1"), "d-x1": store.deal_journey("d-x1")}
    ingest_events(store, [{"type": "void", "id": "v-9", "target": "d-x1", "reason": "cancelled"}])
    assert store.event_count() == len(network) + 3
    assert list(store.deal_journeys(["d-x1", "d-1"])) == ["d-1"]


def test_deal_journeys_read_each_joint_event_of_the_customers_touches_in_time_order(
    store: Store, network: list
) -> None:
    """The batch read finds a customer's joint events through their touches (a voided touch's
    too, as the one-deal read does), each once, by time then id -- not by id."""
    ingest_events(store, network)
    joint = [("je-z1", "2025-01-04T00:00:00Z"), ("je-z2", "2025-01-03T00:00:00Z")]
    joint.append(("je-z3", "2025-01-02T00:00:00Z"))
    events: list[dict[str, Any]] = [
        {"type": "joint_event", "id": j, "at": at, "name": j, "organisers": ["st-a", "st-b"]}
        for j, at in joint
    ]
    for customer, joint_events in (("c-z1", ["je-z1", "je-z2", "je-z1", "je-z3"]), ("c-z2", [])):
        events += [
            {
                "type": "touch",
                "id": f"t-{customer}-{i}",
                "at": f"2025-01-0{5 + i}T00:00:00Z",
                "customer": customer,
                "staff": "sf-y",
                "store": "st-b",
                "stage": "event",
                "joint_event": j,
            }
            for i, j in enumerate(joint_events)
        ]
        events.append(
            {
                "type": "deal",
                "id": f"d-{customer}",
                "customer": customer,
                "store": "st-a",
                "staff": "sf-x",
                "closed_at": "2025-01-20T00:00:00Z",
                "amount": 100,
                "reward_pool": 1000,
            }
        )
    events.append({"type": "void", "id": "v-z", "target": "t-c-z1-3", "reason": "mistyped"})
    ingest_events(store, events)
    batch = store.deal_journeys(["d-c-z1", "d-c-z2", "d-1"])
    assert [j.id for j in batch["d-c-z1"].joint_events] == ["je-z3", "je-z2", "je-z1"]
    assert batch["d-c-z2"].joint_events == ()
    assert batch == {d: store.deal_journey(d) for d in ("d-c-z1", "d-c-z2", "d-1")}


def test_closed_deals_pages_cover_every_deal_once_across_tied_closes(
    store: Store, network: list
) -> None:
    """Pages of two, walked by cursor, over closes shared by up to three deals."""
    ingest_events(store, network)
    closes = ["2025-03-01T00:00:00Z"] * 3 + ["2025-03-02T00:00:00Z"] * 2 + ["2025-03-03T00:00:00Z"]
    for i, at in enumerate(closes):
        ingest_events(store, _deal(i, at))
    everything = store.ledger.closed_deals(None, None)
    assert len(everything) == 1 + len(closes)
    assert everything == sorted(everything, key=lambda r: (r.closed_at, r.id))
    march = datetime(2025, 3, 1, tzinfo=UTC)
    for start in (None, march):
        walked, after = [], None
        while page := store.ledger.closed_deals(start, None, after=after, limit=2):
            walked += page
            after = page[-1]
        assert walked == [r for r in everything if start is None or r.closed_at >= start]


def test_closed_deals_by_period_and_cursor(store: Store, network: list) -> None:
    ingest_events(store, network)
    for i, at in enumerate(
        ["2025-01-10T00:00:00Z", "2025-01-20T00:00:00Z", "2025-02-01T00:00:00Z"]
    ):
        ingest_events(store, _deal(i, at))
    ingest_events(store, [{"type": "void", "id": "v-9", "target": "d-x2", "reason": "cancelled"}])
    everything = store.ledger.closed_deals(None, None)
    assert [r.id for r in everything] == ["d-1", "d-x0", "d-x1"]  # ties by id; voided left out
    assert everything[0].closed_at == datetime(2025, 1, 10, tzinfo=UTC)
    jan10 = datetime(2025, 1, 10, tzinfo=UTC)
    assert [r.id for r in store.ledger.closed_deals(jan10 + timedelta(microseconds=1), None)] == [
        "d-x1"
    ]
    assert [r.id for r in store.ledger.closed_deals(None, jan10)] == []  # the end is exclusive
    page = store.ledger.closed_deals(None, None, limit=1)
    assert [r.id for r in store.ledger.closed_deals(None, None, after=page[-1])] == ["d-x0", "d-x1"]
    assert store.ledger.closed_deals(None, None, after=DealRef(jan10, "d-x0")) == everything[2:]
    assert store.ledger.count_closed_deals(None, None) == 3
    assert store.ledger.count_closed_deals(jan10, jan10 + timedelta(days=1)) == 2
    store.ledger.record_settlements([_settlement(store, "d-x0")])
    assert [r.id for r in store.ledger.closed_deals(None, None, unsettled=True)] == ["d-1", "d-x1"]
    assert store.ledger.count_closed_deals(None, None, unsettled=True) == 2


def test_policy_versions_are_never_edited(store: Store) -> None:
    assert store.ledger.policies() == []
    assert store.ledger.put_policy(V2) == (V2, True)
    assert store.ledger.put_policy(V1) == (V1, True)
    assert store.ledger.put_policy(V1) == (V1, False)
    edited = policy_record(Policy(saturation=1.0), "someone")
    assert edited.id == V1.id and edited.hash != V1.hash
    with pytest.raises(RecordConflict):
        store.ledger.put_policy(edited)
    assert store.ledger.policies() == [V1, V2]  # by created_at


def test_settlements_form_one_chain_per_deal(store: Store, network: list) -> None:
    ingest_events(store, network)
    first = _settlement(store, "d-1")
    assert store.ledger.record_settlements([first]) == ["created"]
    assert store.ledger.record_settlements([first]) == ["existing"]
    assert store.ledger.settlement(first.id) == first
    second = _settlement(store, "d-1", V2, previous=first, reason="linear from March")
    rival = _settlement(store, "d-1", V1, previous=first, reason="a rival", now=datetime.now(UTC))
    rival = rival.model_copy(update={"id": "stl-rival"})
    stale = _settlement(store, "d-1", V2).model_copy(update={"id": "stl-stale"})
    assert store.ledger.record_settlements([second, rival, stale]) == [
        "created",
        "conflict",
        "conflict",
    ]
    assert store.ledger.settlement_history("d-1") == [first, second]
    assert list(store.ledger.current_settlements()) == [second]
    jan10 = datetime(2025, 1, 10, tzinfo=UTC)
    assert list(store.ledger.current_settlements(jan10, jan10 + timedelta(seconds=1))) == [second]
    assert list(store.ledger.current_settlements(None, jan10)) == []
    assert list(store.ledger.current_settlements(staff="sf-x")) == [second]
    assert list(store.ledger.current_settlements(staff="sf-nobody")) == []
    assert list(store.ledger.current_settlements(deals=["d-1", "d-2"])) == [second]
    with pytest.raises(NotFound):
        store.ledger.settlement("stl-rival")
    if store.__class__.__name__ == "Neo4jStore":
        credited = _credited(store, "d-1")
        assert {row[2] for row in credited} == {second.id}
        assert [
            (to, label, amount, points) for to, label, _, amount, points, *_ in credited
        ] == sorted(
            (a.id, "Staff" if a.kind == "staff" else "Customer", a.amount, a.points)
            for a in second.allocations
        )
        assert {row[5:] for row in credited} == {("linear", "default", "2")}


def test_adjustments_are_appended_never_edited(store: Store, network: list) -> None:
    ingest_events(store, network)
    settled = _settlement(store, "d-1")
    store.ledger.record_settlements([settled])
    at = datetime(2025, 1, 11, tzinfo=UTC)
    one = Adjustment(
        id="adj-1",
        deal="d-1",
        closed_at=settled.closed_at,
        settlement=settled.id,
        from_staff="sf-x",
        to_staff="sf-y",
        amount=100,
        reason="test",
        requested_by="leader",
        created_at=at,
    )
    two = one.model_copy(update={"id": "adj-2", "amount": 50, "created_at": at + timedelta(1)})
    assert store.ledger.put_adjustment(two) == (two, True)
    assert store.ledger.put_adjustment(one) == (one, True)
    assert store.ledger.put_adjustment(one.model_copy(update={"requested_by": "x"})) == (one, False)
    with pytest.raises(RecordConflict):
        store.ledger.put_adjustment(one.model_copy(update={"amount": 101}))
    assert store.ledger.adjustments() == [one, two]
    assert store.ledger.adjustments(deal="d-1", staff="sf-y") == [one, two]
    assert store.ledger.adjustments(staff="sf-z") == []
    assert store.ledger.adjustments(None, settled.closed_at) == []
    assert store.ledger.adjustments(settled.closed_at, None) == [one, two]

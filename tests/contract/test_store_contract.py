"""One suite, every store: what the services may rely on."""

from __future__ import annotations

from collections import Counter

import pytest

from contribnet.credit import compute_split
from contribnet.domain.errors import ConflictError, InvalidEvents, NotFound
from contribnet.domain.policy import Policy
from contribnet.services.ingest import ingest_events
from contribnet.services.journeys import customer_journey
from contribnet.store import Store


def test_journey_is_ordered_and_flags_voids(store: Store, network: list) -> None:
    assert ingest_events(store, network).accepted == len(network)
    journey = store.journey("c-1")
    assert journey.customer == {"id": "c-1", "type": "customer", "name": "Li", "city": "Harbin"}
    assert [t["id"] for t in journey.touches] == ["t-1", "t-3", "t-2", "t-bad"]
    assert [t["voided"] for t in journey.touches] == [False, False, False, True]
    assert journey.touches[2]["at"] == "2025-01-04T02:00:00Z"  # normalised to UTC
    assert journey.touches[2]["evidence"] == {"kind": "test_drive_log", "ref": "trip-9"}
    assert [r["referrer_customer"] for r in journey.referrals] == ["c-owner"]
    assert [h["id"] for h in journey.handovers] == ["h-1"]
    assert journey.handovers[0]["customers"] == ["c-1", "c-2", "c-3"]
    assert [j["organisers"] for j in journey.joint_events] == [["st-a", "st-b"]]
    assert [(d["id"], d["voided"]) for d in journey.deals] == [("d-1", False)]


def test_resending_changes_nothing(store: Store, network: list) -> None:
    ingest_events(store, network)
    before = store.count_events()
    again = ingest_events(store, network)
    assert (again.accepted, again.duplicates) == (0, len(network))
    assert store.count_events() == before
    assert len(store.journey("c-1").touches) == 4


def test_same_timestamp_written_two_ways_is_a_duplicate(store: Store, network: list) -> None:
    ingest_events(store, network)
    rewritten = dict(network[11], at="2025-01-04T02:00:00Z")  # t-2 in UTC instead of +08:00
    assert ingest_events(store, [rewritten]).duplicates == 1


def test_conflicting_id_rejects_the_whole_batch(store: Store, network: list) -> None:
    ingest_events(store, network)
    changed = dict(network[11], stage="quote")
    new = {
        "type": "touch",
        "id": "t-new",
        "at": "2025-01-07T00:00:00Z",
        "customer": "c-1",
        "staff": "sf-x",
        "store": "st-a",
        "stage": "follow_up",
    }
    with pytest.raises(ConflictError) as raised:
        ingest_events(store, [new, changed])
    assert raised.value.ids == ["t-2"]
    assert "t-new" not in [t["id"] for t in store.journey("c-1").touches]


def test_invalid_batch_writes_nothing(store: Store, network: list) -> None:
    good = {"type": "customer", "id": "c-9"}
    bad = {
        "type": "touch",
        "id": "t-9",
        "at": "yesterday",
        "customer": "c-9",
        "staff": "s",
        "store": "st-a",
        "stage": "lead",
    }
    with pytest.raises(InvalidEvents) as raised:
        ingest_events(store, [good, bad])
    assert [(e.index, e.id, e.field) for e in raised.value.errors] == [(1, "t-9", "at")]
    assert store.count_events() == {}


def test_references_may_arrive_before_their_records(store: Store, network: list) -> None:
    deal = network[-1]
    touch = network[11]
    ingest_events(store, [deal, touch])
    early = store.deal_journey("d-1")
    assert early.staff == {} and early.stores == {} and early.customer is None
    ingest_events(store, network)
    late = store.deal_journey("d-1")
    assert late.customer is not None and late.customer.city == "Harbin"
    assert [s.store for s in late.staff["sf-x"]] == ["st-a", "st-c"]
    assert set(late.stores) >= {"st-a", "st-b", "st-c"}


def test_deal_journey_leaves_out_voided_events(store: Store, network: list) -> None:
    ingest_events(store, network)
    journey = store.deal_journey("d-1")
    assert [t.id for t in journey.touches] == ["t-1", "t-3", "t-2"]
    assert [h.id for h in journey.handovers] == ["h-1"]
    assert [j.id for j in journey.joint_events] == ["je-1"]
    assert journey.deal.reward_pool == 500000
    ingest_events(store, [{"type": "void", "id": "v-2", "target": "d-1", "reason": "cancelled"}])
    with pytest.raises(NotFound):
        store.deal_journey("d-1")
    assert store.get("deal", "d-1")["voided"] is True


def test_void_arriving_before_its_target(store: Store) -> None:
    ingest_events(store, [{"type": "void", "id": "v-early", "target": "t-late", "reason": "test"}])
    ingest_events(
        store,
        [
            {
                "type": "touch",
                "id": "t-late",
                "at": "2025-02-01T00:00:00Z",
                "customer": "c-5",
                "staff": "sf-x",
                "store": "st-a",
                "stage": "lead",
            }
        ],
    )
    assert [t["voided"] for t in store.journey("c-5").touches] == [True]


def test_staff_moves_keep_their_history(store: Store, network: list) -> None:
    ingest_events(store, network)
    staff = store.get("staff", "sf-x")
    assert staff["store"] == "st-c"
    assert [(e["store"], e["from"]) for e in staff["employment"]] == [
        ("st-a", "2024-01-01"),
        ("st-c", "2025-03-01"),
    ]


def test_handover_reaches_every_customer_handed(store: Store, network: list) -> None:
    ingest_events(store, network)
    for customer in ("c-2", "c-3"):
        journey = store.journey(customer)
        assert journey.customer is None
        assert [h["id"] for h in journey.handovers] == ["h-1"]


def test_reads_and_pages(store: Store, network: list) -> None:
    ingest_events(store, network)
    assert store.get("store", "st-b")["brand"] == "onvo"
    page = store.list("stores", offset=1, limit=1)
    assert (page.total, [i["id"] for i in page.items]) == (3, ["st-b"])
    assert store.list("staff", 0, 10).total == 2
    assert [d["id"] for d in store.list("deals", 0, 10).items] == ["d-1"]
    assert store.list("customers", 0, 10).total == 2
    with pytest.raises(NotFound):
        store.get("store", "nope")
    with pytest.raises(NotFound):
        store.journey("nobody")


def test_api_keys_round_trip(store: Store) -> None:
    """The store keeps a key's digest and sealed record, opaque to it (services/keys.py)."""
    store.put_api_key("dg-1", "sealed-1")
    assert store.find_api_key("dg-1") == "sealed-1"
    assert store.find_api_key("dg-2") is None
    assert store.api_keys() == [{"digest": "dg-1", "sealed": "sealed-1"}]
    store.replace_api_keys([("dg-1", "dg-3", "sealed-3")])
    store.replace_api_keys([("dg-1", "dg-3", "sealed-3")])  # again: nothing changes
    assert store.find_api_key("dg-1") is None and store.find_api_key("dg-3") == "sealed-3"
    store.replace_api_keys([("dg-3", "dg-3", "sealed-4")])  # re-sealed under the same digest
    assert store.api_keys() == [{"digest": "dg-3", "sealed": "sealed-4"}]
    store.replace_api_keys([("dg-1", "dg-3", "stale")])  # from a record replaced meanwhile
    assert store.api_keys() == [{"digest": "dg-3", "sealed": "sealed-4"}]


def test_a_deal_journey_knows_the_customer_s_earlier_live_deals(
    store: Store, network: list
) -> None:
    """Each contribution belongs to one deal: the journey carries what the rule needs."""
    more = [
        {"type": "touch", "id": "t-feb", "at": "2025-02-02T00:00:00Z", "customer": "c-1",
         "staff": "sf-y", "store": "st-b", "stage": "test_drive"},
        {"type": "deal", "id": "d-2", "customer": "c-1", "store": "st-b", "staff": "sf-y",
         "closed_at": "2025-02-10T00:00:00Z", "amount": 20000000, "reward_pool": 300000},
        {"type": "void", "id": "v-d-2", "target": "d-2", "reason": "cancelled"},
        {"type": "deal", "id": "d-3", "customer": "c-1", "store": "st-b", "staff": "sf-y",
         "closed_at": "2025-03-10T00:00:00Z", "amount": 20000000, "reward_pool": 300000},
    ]  # fmt: skip
    ingest_events(store, network + more)
    batch = store.deal_journeys(["d-1", "d-3"])
    single = store.deal_journey("d-3")
    assert batch["d-1"].earlier_deals == ()
    assert [m.id for m in batch["d-3"].earlier_deals] == ["d-1"]
    assert single.earlier_deals == batch["d-3"].earlier_deals
    assert single.earlier_deals[0].closed_at.isoformat() == "2025-01-10T00:00:00+00:00"
    paid = {
        t.id
        for a in compute_split(batch["d-3"], Policy()).allocations
        for t in a.explanation.touches
    }
    assert paid == {"t-feb", "d-3"}  # January's touches were d-1's; the void released t-feb
    # across the customer's live deals, every contribution is paid exactly once
    credited = Counter(
        t.id
        for journey in batch.values()
        for a in compute_split(journey, Policy()).allocations
        for t in a.explanation.touches
        if t.credit > 0
    )
    assert set(credited.values()) == {1}
    assert {"t-1", "t-2", "t-3", "r-1", "h-1", "t-feb"} <= set(credited)
    journey = customer_journey(store, "c-1")
    counted = {i["id"]: i["counted_for"] for i in journey.touches + journey.handovers}
    assert counted == {"t-1": "d-1", "t-2": "d-1", "t-3": "d-1", "t-bad": None, "h-1": "d-1",
                       "t-feb": "d-3"}  # fmt: skip
    assert [r["counted_for"] for r in journey.referrals] == ["d-1"]

"""Lead pools on both stores: ``lead_assignment`` events (ingest, idempotency, voids), the
holding history, reclaim (deadline per region at the boundary, follow-ups, idempotent also when
run twice at once) and the lead stage's credit going to the lead's holder."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from tests.leads.conftest import NETWORK, POLICY, T0, Leads, assignment, iso, touch

from contribnet.credit import compute_split
from contribnet.domain.errors import InvalidEvents
from contribnet.domain.policy import Policy
from contribnet.services.ingest import ingest_events
from contribnet.services.journeys import customer_journey
from contribnet.services.leads import lead_history, reclaim
from contribnet.services.policies import ensure_default_policy
from contribnet.services.settlement import settle
from contribnet.services.verify import verify_settlement

H = timedelta(hours=1)


def _holdings(leads: Leads, customer: str) -> list[tuple[str, str, str | None, str, str | None]]:
    return [
        (h["staff"], h["from"], h["to"], h["reason"], h["ended_by"])
        for h in customer_journey(leads.store, customer).holdings
    ]


def test_assignments_are_ingested_once_and_voidable(leads: Leads) -> None:
    store = leads.store
    ingest_events(store, NETWORK)
    events = [
        assignment("la-1", T0, "c-1"),
        assignment("la-2", T0 + 10 * H, "c-1", "reassigned", "sf-x"),
    ]
    assert ingest_events(store, events).accepted == 2
    again = ingest_events(store, events)
    assert (again.accepted, again.duplicates) == (0, 2)
    journey = customer_journey(store, "c-1")
    assert [(a["id"], a["voided"]) for a in journey.lead_assignments] == [
        ("la-1", False),
        ("la-2", False),
    ]
    assert lead_history(store, "c-1").holder == "sf-x"

    ingest_events(store, [{"type": "void", "id": "v-1", "target": "la-2", "reason": "mistake"}])
    journey = customer_journey(store, "c-1")
    assert [a["voided"] for a in journey.lead_assignments] == [False, True]
    assert _holdings(leads, "c-1") == [("sf-h", iso(T0), None, "assigned", None)]
    assert lead_history(store, "c-1").holder == "sf-h"


def test_bad_assignments_name_the_field_and_write_nothing(leads: Leads) -> None:
    store = leads.store
    ingest_events(store, NETWORK)
    good = assignment("la-1", T0, "c-1")
    bad_reason = assignment("la-2", T0, "c-2", "stolen")
    no_staff = assignment("la-3", T0, "c-3", "reassigned", None)
    with pytest.raises(InvalidEvents) as caught:
        ingest_events(store, [good, bad_reason, no_staff])
    assert [(e.index, e.id, e.field) for e in caught.value.errors] == [
        (1, "la-2", "reason"),
        (2, "la-3", "staff"),
    ]
    assert customer_journey(store, "c-1").lead_assignments == []
    # a reclaim may leave out whom the lead was taken from
    ok = ingest_events(store, [assignment("la-4", T0, "c-4", "reclaimed", None)])
    assert ok.accepted == 1


def test_holding_history(leads: Leads) -> None:
    ingest_events(leads.store, NETWORK)
    ingest_events(
        leads.store,
        [
            assignment("la-1", T0, "c-1"),
            assignment("la-2", T0 + 48 * H, "c-1", "reclaimed", "sf-h"),
            assignment("la-3", T0 + 50 * H, "c-1", "reassigned", "sf-x"),
            assignment("la-4", T0 + 60 * H, "c-1", "reassigned", "sf-k"),
        ],
    )
    assert _holdings(leads, "c-1") == [
        ("sf-h", iso(T0), iso(T0 + 48 * H), "assigned", "reclaimed"),
        ("sf-x", iso(T0 + 50 * H), iso(T0 + 60 * H), "reassigned", "reassigned"),
        ("sf-k", iso(T0 + 60 * H), None, "reassigned", None),
    ]
    history = lead_history(leads.store, "c-1")
    assert history.holder == "sf-k"
    assert [h.assignment for h in history.holdings] == ["la-1", "la-3", "la-4"]


def _reclaimed(leads: Leads, hours: float) -> list[tuple[str, str, str]]:
    result = reclaim(leads.store, T0 + timedelta(hours=hours), POLICY)
    return [(r.lead, r.staff, iso(r.at)) for r in result.reclaimed]


def test_reclaim_at_the_deadline_of_each_region(leads: Leads) -> None:
    """East: 48 hours; South (no override): 72. At the deadline itself the holder still has
    time; just after it the lead is reclaimed, at the deadline."""
    ingest_events(leads.store, NETWORK)
    ingest_events(
        leads.store,
        [assignment("la-1", T0, "c-1", staff="sf-h"), assignment("la-2", T0, "c-2", staff="sf-k")],
    )
    assert _reclaimed(leads, 48) == []
    assert _reclaimed(leads, 48.001) == [("c-1", "sf-h", iso(T0 + 48 * H))]
    assert _reclaimed(leads, 72) == []  # c-1 is in the pool now; c-2 still has until 72 h
    assert _reclaimed(leads, 72.001) == [("c-2", "sf-k", iso(T0 + 72 * H))]
    assert _holdings(leads, "c-2") == [("sf-k", iso(T0), iso(T0 + 72 * H), "assigned", "reclaimed")]
    assert lead_history(leads.store, "c-2").holder is None


def test_a_follow_up_by_the_holder_keeps_the_lead(leads: Leads) -> None:
    store = leads.store
    ingest_events(store, NETWORK)
    ingest_events(
        store,
        [
            *(assignment(f"la-{n}", T0, f"c-{n}") for n in range(1, 6)),
            touch("t-1", T0 + 48 * H, "c-1", "sf-h", "reception"),  # at the deadline: in time
            {
                "type": "activity",
                "id": "a-2",
                "at": iso(T0 + 5 * H),
                "staff": "sf-h",
                "customer": "c-2",
                "action": "wechat_add",
            },
            touch("t-3", T0 + 5 * H, "c-3", "sf-x"),  # someone else's touch is no follow-up
            touch("t-4", T0 + 5 * H, "c-4", "sf-h"),
            {"type": "void", "id": "v-4", "target": "t-4", "reason": "never happened"},
            touch("t-5", T0 + 49 * H, "c-5", "sf-h"),  # too late
        ],
    )
    result = reclaim(store, T0 + 100 * H, POLICY)
    assert [r.lead for r in result.reclaimed] == ["c-3", "c-4", "c-5"]
    assert {r.id for r in result.reclaimed} == {
        "la-3~reclaimed",
        "la-4~reclaimed",
        "la-5~reclaimed",
    }
    assert result.accepted == 3


def test_reclaim_is_idempotent(leads: Leads) -> None:
    store = leads.store
    ingest_events(store, NETWORK)
    ingest_events(store, [assignment("la-1", T0, "c-1"), assignment("la-2", T0, "c-2")])
    first = reclaim(store, T0 + 100 * H, POLICY)
    assert (len(first.reclaimed), first.accepted) == (2, 2)
    second = reclaim(store, T0 + 200 * H, POLICY)
    assert (second.reclaimed, second.accepted, second.duplicates) == ([], 0, 0)
    assert [a["reason"] for a in customer_journey(store, "c-1").lead_assignments] == [
        "assigned",
        "reclaimed",
    ]


def test_concurrent_reclaims_record_each_reclaim_once(leads: Leads) -> None:
    store = leads.store
    ingest_events(store, NETWORK)
    ingest_events(store, [assignment(f"la-{n}", T0, f"c-{n}") for n in range(1, 6)])
    results: list[Any] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def run() -> None:
        other = leads.open()  # another connection, as another process would have
        try:
            start.wait()
            results.append(reclaim(other, T0 + 100 * H, POLICY))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            other.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(r.accepted for r in results) == 5
    assert sum(r.accepted + r.duplicates for r in results) == sum(len(r.reclaimed) for r in results)
    for n in range(1, 6):
        reasons = [a["reason"] for a in customer_journey(store, f"c-{n}").lead_assignments]
        assert reasons == ["assigned", "reclaimed"]


def _deal(customer: str, at_hours: float, staff: str = "sf-k") -> dict[str, Any]:
    return {
        "type": "deal",
        "id": f"d-{customer}",
        "customer": customer,
        "store": "st-s",
        "staff": staff,
        "closed_at": iso(T0 + at_hours * H),
        "amount": 30_000_000,
        "reward_pool": 500_000,
    }


def test_lead_stage_credit_goes_to_the_holder(leads: Leads) -> None:
    store = leads.store
    ingest_events(store, NETWORK)
    ingest_events(
        store,
        [
            assignment("la-1", T0, "c-1"),
            touch("t-lead", T0 + 2 * H, "c-1", "sf-x"),  # Xu's lead work on Hu's lead
            touch("t-rec", T0 + 3 * H, "c-1", "sf-x", "reception"),
            _deal("c-1", 100),
        ],
    )
    split = compute_split(store.deal_journey("d-c-1"), Policy())
    by_id = {a.id: a for a in split.allocations}
    assert set(by_id) == {"sf-h", "sf-x", "sf-k"}
    assert sum(a.amount for a in split.allocations) == 500_000
    (lead,) = by_id["sf-h"].explanation.touches
    assert (lead.id, lead.stage, lead.touched_by, lead.held_by) == (
        "t-lead",
        "lead",
        "sf-x",
        "sf-h",
    )
    assert "touch by sf-x on a lead held by sf-h; lead-stage credit to sf-h" in (
        by_id["sf-h"].explanation.text
    )
    (reception,) = by_id["sf-x"].explanation.touches
    assert (reception.id, reception.held_by, reception.touched_by) == ("t-rec", "sf-h", None)
    assert "lead held by sf-h" in by_id["sf-x"].explanation.text
    # the same touches without the assignment: the lead work is Xu's, unmarked
    plain = compute_split(
        store.deal_journey("d-c-1").model_copy(update={"assignments": None}), Policy()
    )
    assert {a.id for a in plain.allocations} == {"sf-x", "sf-k"}
    assert "held" not in " ".join(a.explanation.text for a in plain.allocations)


def test_lead_work_in_the_pool_counts_for_whoever_did_it(leads: Leads) -> None:
    store = leads.store
    ingest_events(store, NETWORK)
    ingest_events(
        store,
        [
            assignment("la-1", T0, "c-1"),
            assignment("la-2", T0 + 48 * H, "c-1", "reclaimed", "sf-h"),
            touch("t-lead", T0 + 49 * H, "c-1", "sf-x"),
            assignment("la-3", T0 + 50 * H, "c-1", "reassigned", "sf-k"),
            touch("t-lead-2", T0 + 51 * H, "c-1", "sf-x"),
            _deal("c-1", 100),
        ],
    )
    split = compute_split(store.deal_journey("d-c-1"), Policy())
    touches = {t.id: (a.id, t.touched_by) for a in split.allocations for t in a.explanation.touches}
    assert touches["t-lead"] == ("sf-x", None)  # in the pool: nobody held it
    assert touches["t-lead-2"] == ("sf-k", "sf-x")  # Kong held it


def test_verify_sees_a_changed_holding_history(leads: Leads) -> None:
    store = leads.store
    ingest_events(store, NETWORK)
    ingest_events(
        store,
        [assignment("la-1", T0, "c-1"), touch("t-lead", T0 + H, "c-1", "sf-x"), _deal("c-1", 9)],
    )
    ensure_default_policy(store)
    settlement, _ = settle(store, "d-c-1", requested_by="test")
    assert verify_settlement(store, settlement.id).reproduced
    ingest_events(store, [assignment("la-0", T0 - H, "c-1", "reassigned", "sf-x")])
    ingest_events(store, [{"type": "void", "id": "v-1", "target": "la-1", "reason": "wrong"}])
    check = verify_settlement(store, settlement.id)
    assert not check.reproduced
    assert check.input.changed
    assert {p.id for p in check.people} == {"sf-h", "sf-x"}


def test_a_deadline_past_the_year_9999_never_comes(leads: Leads) -> None:
    from datetime import UTC, datetime

    ingest_events(leads.store, NETWORK)
    last = datetime(9999, 12, 31, 23, 0, tzinfo=UTC)
    ingest_events(leads.store, [assignment("la-1", last, "c-1"), assignment("la-2", T0, "c-2")])
    result = reclaim(leads.store, datetime(9999, 12, 31, 23, 59, tzinfo=UTC), POLICY)
    assert [r.lead for r in result.reclaimed] == ["c-2"]

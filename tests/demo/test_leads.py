"""The demo network's lead pools (``demo/leads.py``): every customer is assigned once, some leads
sit with a colleague until they are reclaimed at the default deadline and reassigned; reclaiming
the loaded demo finds nothing more to do, and the lead-stage credit of a missed lead goes to the
colleague who held it."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from contribnet.demo.generator import generate_with_summary
from contribnet.demo.leads import LeadStream
from contribnet.domain.leads import PoolPolicy, reclaim_id
from contribnet.services.ingest import ingest_events
from contribnet.services.journeys import customer_journey
from contribnet.services.leads import reclaim
from contribnet.store import open_store


def _stream(seed: int) -> tuple[list[dict], LeadStream]:
    events, _ = generate_with_summary("tiny", seed)
    leads = LeadStream(seed)
    return list(leads.wrap(events)), leads


def test_the_stream_assigns_each_customer_once_and_reclaims_some() -> None:
    events, leads = _stream(7)
    added = [e for e in events if e["type"] == "lead_assignment"]
    reasons = Counter(e["reason"] for e in added)
    customers = {e["customer"] for e in events if e["type"] == "touch"}
    assert reasons["assigned"] == len(customers) == leads.assigned
    assert 0 < reasons["reclaimed"] == reasons["reassigned"] == leads.reclaimed
    follow_ups = [e for e in events if e["type"] == "activity"]
    assert len(follow_ups) == leads.follow_ups == leads.reclaimed
    by_id = {e["id"]: e for e in added}
    for e in added:
        if e["reason"] == "reclaimed":
            held = by_id[e["id"].removesuffix("~reclaimed")]
            assert e["id"] == reclaim_id(held["id"]) and e["staff"] == held["staff"]
            deadline = datetime.fromisoformat(held["at"]) + timedelta(hours=72)
            assert datetime.fromisoformat(e["at"]) == deadline
    assert _stream(7)[0] == events  # the same seed, the same stream


def test_the_loaded_demo_has_nothing_left_to_reclaim(tmp_path: Path) -> None:
    events, leads = _stream(7)
    store = open_store(f"sqlite:///{tmp_path / 'demo.db'}")
    try:
        ingest_events(store, events)
        last = max(datetime.fromisoformat(e["at"]) for e in events if e["type"] == "touch")
        result = reclaim(store, last - timedelta(days=4), PoolPolicy())
        # what is left are the leads whose one follow-up, the first touch, was voided later
        voided = {e["target"] for e in events if e["type"] == "void"}
        first = {}
        for e in events:
            if e["type"] == "touch":
                first.setdefault(e["customer"], e["id"])
        assert len(result.reclaimed) < leads.reclaimed
        assert all(first[r.lead] in voided for r in result.reclaimed)
        missed = next(
            e for e in events if e["type"] == "lead_assignment" and e["id"].endswith("-2")
        )
        holdings = customer_journey(store, missed["lead"]).holdings
        assert [h["ended_by"] for h in holdings] == ["reclaimed", None]
        assert holdings[1]["staff"] == missed["staff"] != holdings[0]["staff"]
    finally:
        store.close()


def test_a_missed_lead_s_lead_stage_credit_goes_to_its_holder(tmp_path: Path) -> None:
    from contribnet.credit import compute_split
    from contribnet.domain.policy import Policy

    events, _ = _stream(7)
    store = open_store(f"sqlite:///{tmp_path / 'demo.db'}")
    try:
        ingest_events(store, events)
        holder = {
            e["lead"]: e["staff"]
            for e in events
            if e["type"] == "lead_assignment" and e["reason"] == "reclaimed"
        }
        deals = [e for e in events if e["type"] == "deal" and e["customer"] in holder]
        assert deals
        for deal in deals:
            split = compute_split(store.deal_journey(deal["id"]), Policy())
            marked = [
                (a.id, t.held_by, t.touched_by)
                for a in split.allocations
                for t in a.explanation.touches
                if t.touched_by
            ]
            assert marked and all(a == h == holder[deal["customer"]] for a, h, _ in marked)
            assert sum(a.amount for a in split.allocations) == deal["reward_pool"]
    finally:
        store.close()

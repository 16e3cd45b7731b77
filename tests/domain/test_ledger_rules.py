"""The ledger's rules (domain/ledger.py) without a store: the chain of a deal's settlements, what
recording a batch does, and "the same id is the same request or a conflict"."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from contribnet.credit import compute_split
from contribnet.domain.events import Deal, Touch
from contribnet.domain.journey import DealJourney
from contribnet.domain.ledger import (
    next_settlement,
    reversal,
    same_inputs,
    same_request,
    settlement_outcomes,
)
from contribnet.domain.policy import Policy
from contribnet.domain.settlement import Adjustment, RecordConflict, Settlement, settlement_id
from contribnet.services.policies import policy_record

AT = datetime(2025, 1, 20, tzinfo=UTC)
NOW = datetime(2025, 1, 21, tzinfo=UTC)
V1 = policy_record(Policy(), "test")


def _journey(deal: str = "d-1") -> DealJourney:
    touch = Touch(
        id=f"t-{deal}",
        at=datetime(2025, 1, 3, tzinfo=UTC),
        customer="c",
        staff="sf-x",
        store="st-a",
        stage="test_drive",
    )
    closed = Deal(
        id=deal,
        customer="c",
        store="st-b",
        staff="sf-y",
        closed_at=AT,
        amount=30_000_000,
        reward_pool=500_000,
    )
    return DealJourney(deal=closed, touches=(touch,))


def _first(deal: str = "d-1") -> Settlement:
    journey = _journey(deal)
    return next_settlement(compute_split(journey, V1.policy), journey, V1, "t", now=NOW)


def test_a_chain_counts_up_and_supersedes_the_previous_settlement() -> None:
    journey = _journey()
    split = compute_split(journey, V1.policy)
    first = next_settlement(split, journey, V1, "t", now=NOW)
    assert (first.seq, first.supersedes, first.reason) == (1, None, None)
    assert first.id == settlement_id("d-1", 1, split.input_hash, V1.id, split.model)
    assert sum(c.amount for c in first.credits) == first.pool == 500_000
    second = next_settlement(split, journey, V1, "u", previous=first, reason="why", now=NOW)
    assert (second.seq, second.supersedes, second.reason) == (2, first.id, "why")
    assert second.slot == "d-1#2" and second.id != first.id
    assert same_inputs(first, split.input_hash, V1.id, split.model)
    assert not same_inputs(first, split.input_hash, V1.id, "shapley")


def test_a_reversal_pays_nothing_and_is_the_same_each_time() -> None:
    first = _first()
    undone = reversal(first, "t", "cancelled", now=NOW)
    assert (undone.seq, undone.supersedes, undone.reason) == (2, first.id, "cancelled")
    assert undone.allocations == [] and undone.credits == []
    assert (undone.policy, undone.model) == (first.policy, first.model)
    assert reversal(first, "other", "again", now=AT).id == undone.id


def test_outcomes_of_a_batch_see_what_the_batch_created() -> None:
    first, other = _first("d-1"), _first("d-2")
    journey = _journey("d-1")
    split = compute_split(journey, V1.policy)
    second = next_settlement(split, journey, V1, "t", previous=first, reason="r", now=NOW)
    rival = second.model_copy(update={"id": "stl-rival"})
    batch = [first, second, rival, other, first]
    assert settlement_outcomes(batch, set(), {}) == [
        "created",
        "created",
        "conflict",  # d-1's current settlement is ``second`` by now
        "created",
        "existing",
    ]
    # recorded already: d-1 settled by ``first``, d-2 by someone else
    recorded = {first.id, "stl-elsewhere"}
    current = {"d-1": first.id, "d-2": "stl-elsewhere"}
    assert settlement_outcomes([first, second, other], recorded, current) == [
        "existing",
        "created",
        "conflict",
    ]


def test_the_same_id_is_the_same_request_or_a_conflict() -> None:
    adjustment = Adjustment(
        id="adj-1",
        deal="d-1",
        closed_at=AT,
        settlement="stl-1",
        from_staff="sf-y",
        to_staff="sf-x",
        amount=100,
        reason="lost log",
        requested_by="leader",
        created_at=NOW,
    )
    # a retry made later by someone else is still the same request
    retry = adjustment.model_copy(update={"created_at": AT, "requested_by": "admin"})
    assert same_request("adjustment", adjustment, retry) is adjustment
    with pytest.raises(RecordConflict) as conflict:
        same_request("adjustment", adjustment, adjustment.model_copy(update={"amount": 101}))
    assert (conflict.value.kind, conflict.value.id) == ("adjustment", "adj-1")
    other_version = policy_record(Policy(stage_weights={"test_drive": 60}), "test")
    assert other_version.id == V1.id
    assert same_request("policy", V1, policy_record(Policy(), "someone else")) is V1
    with pytest.raises(RecordConflict):
        same_request("policy", V1, other_version)

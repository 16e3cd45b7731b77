"""The credit ledger's rules, written once for every store and service; no I/O.

The records are in :mod:`contribnet.domain.settlement`; this module says how they follow one
another. A deal's settlements form a chain (:func:`next_settlement`; :func:`reversal` when the
deal was voided after it was settled); a settlement is recorded only if it still supersedes its
deal's current one (:func:`settlement_outcomes`); an id already recorded is answered with the
recorded record if it is the same request, and refused otherwise (:func:`same_request`); an
adjustment never moves more than its giver holds (:func:`check_adjustment`). The stores apply
the last three inside their write transactions, on what is recorded at that moment.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Protocol, TypeVar

from contribnet.domain.journey import DealJourney
from contribnet.domain.settlement import (
    Adjustment,
    InvalidRequest,
    PolicyRecord,
    RecordConflict,
    RecordOutcome,
    Settlement,
    SettlementConflict,
    credits_of,
    settlement_id,
)
from contribnet.domain.split import Split

__all__ = [
    "check_adjustment",
    "held_on_deal",
    "next_settlement",
    "reversal",
    "same_inputs",
    "same_request",
    "settlement_outcomes",
]


def next_settlement(
    split: Split,
    journey: DealJourney,
    policy: PolicyRecord,
    requested_by: str,
    *,
    previous: Settlement | None = None,
    reason: str | None = None,
    now: datetime,
) -> Settlement:
    """The settlement record of a split: the first of its deal's chain, or the one after
    ``previous`` (one higher ``seq``, superseding it)."""
    deal = journey.deal
    seq = previous.seq + 1 if previous is not None else 1
    return Settlement(
        id=settlement_id(deal.id, seq, split.input_hash, policy.id, split.model),
        deal=deal.id,
        seq=seq,
        closed_at=deal.closed_at,
        deal_store=deal.store,
        closer=deal.staff,
        pool=deal.reward_pool,
        model=split.model,
        policy=policy.id,
        policy_name=policy.name,
        policy_version=policy.version,
        input_hash=split.input_hash,
        allocations=split.allocations,
        credits=credits_of(split),
        requested_by=requested_by,
        created_at=now,
        supersedes=previous.id if previous is not None else None,
        reason=reason,
    )


def reversal(current: Settlement, requested_by: str, reason: str, *, now: datetime) -> Settlement:
    """The settlement paying nothing that supersedes ``current``: its deal was voided (a
    cancelled order) after it was settled. Its input hash stands for "voided", so reversing the
    same settlement twice gives the same id."""
    hashed = hashlib.sha256(f"voided\x1f{current.deal}".encode()).hexdigest()[:32]
    seq = current.seq + 1
    return current.model_copy(
        update={
            "id": settlement_id(current.deal, seq, hashed, current.policy, current.model),
            "seq": seq,
            "input_hash": hashed,
            "allocations": [],
            "credits": [],
            "requested_by": requested_by,
            "created_at": now,
            "supersedes": current.id,
            "reason": reason,
        }
    )


def same_inputs(settlement: Settlement, input_hash: str, policy: str, model: str) -> bool:
    """Whether ``settlement`` was computed from these very inputs (journey and tables by their
    hash, policy version, model): settling again would record nothing new."""
    return (settlement.input_hash, settlement.policy, settlement.model) == (
        input_hash,
        policy,
        model,
    )


def settlement_outcomes(
    settlements: Sequence[Settlement],
    recorded: Collection[str],
    current: Mapping[str, str | None],
) -> list[RecordOutcome]:
    """What recording each settlement of a batch does, in order, given the ids ``recorded``
    already and each deal's ``current`` settlement id (a deal absent from it has none).

    ``existing``: its id is recorded, nothing is written. ``conflict``: its deal's current
    settlement is not the one it supersedes (another writer settled first), nothing is written.
    ``created``: it is written and becomes its deal's current settlement, which the settlements
    after it in the batch see.

    >>> from datetime import UTC, datetime
    >>> at = datetime(2025, 1, 10, tzinfo=UTC)
    >>> def s(id, seq, supersedes=None):
    ...     return Settlement(id=id, deal="d-1", seq=seq, closed_at=at, deal_store="st",
    ...         closer="sf", pool=0, model="m", policy="p@1", policy_name="p",
    ...         policy_version="1", input_hash="h", allocations=[], credits=[],
    ...         requested_by="t", created_at=at, supersedes=supersedes)
    >>> settlement_outcomes([s("a", 1), s("b", 2, "a"), s("c", 2, "a"), s("a", 1)], set(), {})
    ['created', 'created', 'conflict', 'existing']
    """
    seen = set(recorded)
    now_current = dict(current)
    outcomes: list[RecordOutcome] = []
    for s in settlements:
        if s.id in seen:
            outcomes.append("existing")
        elif now_current.get(s.deal) != s.supersedes:
            outcomes.append("conflict")
        else:
            outcomes.append("created")
            seen.add(s.id)
            now_current[s.deal] = s.id
    return outcomes


class _Record(Protocol):
    """A record kept under a caller's id: a policy version or an adjustment."""

    @property
    def id(self) -> str: ...

    def content(self) -> object: ...


_RecordT = TypeVar("_RecordT", bound=_Record)


def same_request(kind: str, recorded: _RecordT, new: _RecordT) -> _RecordT:
    """The record found under ``new``'s id, if it is the same request again (equal
    :meth:`content`); ``RecordConflict`` otherwise -- records are never edited."""
    if recorded.content() != new.content():
        raise RecordConflict(kind, new.id)
    return recorded


def held_on_deal(current: Settlement, earlier: Sequence[Adjustment], staff: str) -> int | None:
    """What ``staff`` holds on a deal: their amount in its current settlement plus what earlier
    adjustments moved to them, minus what they moved away; ``None`` if they are neither credited
    by the settlement nor given anything by an adjustment."""
    credited = [a.amount for a in current.allocations if a.kind == "staff" and a.id == staff]
    if not credited and not any(a.to_staff == staff for a in earlier):
        return None
    held = sum(credited)
    held += sum(a.amount for a in earlier if a.to_staff == staff)
    held -= sum(a.amount for a in earlier if a.from_staff == staff)
    return held


def check_adjustment(
    current: Settlement | None, earlier: Sequence[Adjustment], adjustment: Adjustment
) -> None:
    """The ledger's rule for a new adjustment, given the deal's current settlement and every
    adjustment recorded on it: the deal is settled, and ``from_staff`` holds at least ``amount``.

    The stores call this inside the transaction that writes the adjustment, with the deal locked,
    so concurrent adjustments can never overdraw a staff member's credit together.
    """
    deal = adjustment.deal
    if current is None:
        raise InvalidRequest.one("deal", f"deal {deal!r} is not settled yet: settle it first")
    if current.id != adjustment.settlement:
        raise SettlementConflict(
            deal,
            current.id,
            f"deal {deal!r} was re-settled while this adjustment was made; send it again",
            field="deal",
        )
    held = held_on_deal(current, earlier, adjustment.from_staff)
    if held is None:
        raise InvalidRequest.one(
            "from_staff", f"{adjustment.from_staff!r} is not credited on deal {deal!r}"
        )
    if adjustment.amount > held:
        raise InvalidRequest.one(
            "amount",
            f"{adjustment.from_staff!r} holds {held} fen on deal {deal!r};"
            f" cannot move {adjustment.amount}",
        )

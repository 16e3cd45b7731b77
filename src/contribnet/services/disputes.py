"""Disputes: a staff member questions their line on a settled deal; a leader resolves it.

* :func:`open_dispute` -- by a staff key on its own line (staff defaults to the key's own), or
  by a leader or admin on a staff member's behalf. The deal must be settled and the staff
  member hold something on it (:func:`~contribnet.domain.ledger.held_on_deal`).
* :func:`resolve_dispute` -- ``reject``, or ``accept``; accepting with an ``amount`` records the
  adjustment ``adj-{dispute id}`` of that many fen to the disputing staff member from
  ``from_staff`` (default: the deal's closer) by the ledger's usual rules, so the money stays
  exact: the disputing member's statement total rises by the amount and ``from_staff``'s falls
  by it. A dispute is resolved once; whoever disputes never resolves it.

Every step is one entry of the audit trail (``dispute_opened``, ``adjusted``,
``dispute_resolved``).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from contribnet.domain.audit import actor_of
from contribnet.domain.disputes import (
    AlreadyDisputed,
    DecisionKind,
    Dispute,
    DisputeRefused,
    DisputeResolved,
    DisputeStatus,
    NoSettledLine,
    Resolution,
    adjustment_id,
    check_resolver,
)
from contribnet.domain.ledger import held_on_deal
from contribnet.domain.settlement import InvalidRequest, period_bounds
from contribnet.services import audit
from contribnet.services.reports import check_period
from contribnet.services.settlement import adjust, history
from contribnet.store.base import Store
from contribnet.store.disputes import dispute_store

__all__ = ["list_disputes", "open_dispute", "resolve_dispute"]


def open_dispute(
    store: Store, deal: str, message: str, requested_by: str, staff: str | None = None
) -> Dispute:
    """Open a dispute on ``staff``'s line of ``deal`` (default: the staff member of the staff key
    in ``requested_by``). A staff key may dispute only its own lines (``DisputeRefused``).
    ``NotFound`` for an unknown deal; ``NoSettledLine`` if the deal is not settled or pays the
    staff member nothing; ``AlreadyDisputed`` if their dispute on it is still open."""
    actor = actor_of(requested_by)
    message = message.strip()
    if not message:
        raise InvalidRequest.one("message", "say what is wrong with the line")
    if staff is None:
        if actor.role != "staff" or actor.staff is None:
            raise InvalidRequest.one("staff", "name the staff member whose line is disputed")
        staff = actor.staff
    if actor.role == "staff" and staff != actor.staff:
        raise DisputeRefused("a staff key disputes only its own lines")
    chain = history(store, deal)  # NotFound for an unknown deal
    if not chain:
        raise NoSettledLine(f"staff member {staff!r}", deal)
    current = chain[-1]
    held = held_on_deal(current, store.ledger.adjustments(deal=deal), staff)
    if held is None:
        raise NoSettledLine(f"staff member {staff!r}", deal)
    port = dispute_store(store)
    # The usual case answered at once; the port checks again on its unique key, so of two
    # concurrent openers one gets AlreadyDisputed there and nothing of it is written.
    if port.disputes(status="open", staff=staff, deal=deal):
        raise AlreadyDisputed(f"staff member {staff!r}", deal)
    dispute = Dispute(
        id=f"dp-{uuid.uuid4().hex[:20]}",
        deal=deal,
        closed_at=current.closed_at,
        staff=staff,
        settlement=current.id,
        amount=held,
        message=message,
        opened_by=requested_by,
        opened_at=datetime.now(UTC),
    )
    with audit.unit(store):
        port.put_dispute(dispute)
        audit.record(store, "dispute_opened", requested_by, (dispute.id, deal, staff), message)
    return dispute


def list_disputes(
    store: Store,
    *,
    status: DisputeStatus | None = None,
    staff: str | None = None,
    start: date | None = None,
    end: date | None = None,
) -> list[Dispute]:
    """Disputes on deals closed on the days ``start`` to ``end`` (China Standard Time,
    inclusive; ``None`` open), of ``staff`` and in ``status`` if given, in the order opened."""
    check_period(start, end)
    lo, hi = period_bounds(start, end)
    return dispute_store(store).disputes(status=status, staff=staff, start=lo, end=hi)


def resolve_dispute(
    store: Store,
    dispute_id: str,
    decision: DecisionKind,
    reason: str,
    requested_by: str,
    *,
    amount: int | None = None,
    from_staff: str | None = None,
) -> Dispute:
    """Resolve a dispute once. ``accept`` with an ``amount`` moves that many fen to the
    disputing staff member from ``from_staff`` (default: the deal's closer) as the adjustment
    ``adj-{dispute id}``, checked like any adjustment (``from_staff`` must hold the amount).
    ``DisputeRefused`` if the resolver is the disputing staff member; ``DisputeResolved`` if it
    is resolved already; ``NotFound`` for an unknown id."""
    port = dispute_store(store)
    dispute = port.dispute(dispute_id)
    check_resolver(dispute, actor_of(requested_by).staff)
    if dispute.resolution is not None:
        raise DisputeResolved("dispute", dispute_id)
    reason = reason.strip()
    if not reason:
        raise InvalidRequest.one("reason", "give the reason for the decision")
    if decision == "reject" and (amount is not None or from_staff is not None):
        field = "amount" if amount is not None else "from_staff"
        raise InvalidRequest.one(field, "only an accepted dispute moves credit")
    if amount is None and from_staff is not None:
        raise InvalidRequest.one("from_staff", "give the amount to move from them")
    # On SQLite the adjustment, the resolution and their entries are all or nothing.
    with audit.unit(store):
        adjustment = None
        if amount is not None:
            source = from_staff or history(store, dispute.deal)[-1].closer
            if source == dispute.staff:
                raise InvalidRequest.one(
                    "from_staff", f"{source!r} opened the dispute: name whom the amount comes from"
                )
            adjustment, _ = adjust(
                store,
                dispute.deal,
                from_staff=source,
                to_staff=dispute.staff,
                amount=amount,
                reason=f"dispute {dispute.id} accepted: {reason}",
                requested_by=requested_by,
                adjustment_id=adjustment_id(dispute.id),
            )
        resolved = port.resolve(
            dispute.id,
            Resolution(
                decision=decision,
                reason=reason,
                amount=amount,
                from_staff=adjustment.from_staff if adjustment else None,
                adjustment=adjustment.id if adjustment else None,
                resolved_by=requested_by,
                resolved_at=datetime.now(UTC),
            ),
        )
        targets = [dispute.id, dispute.deal, dispute.staff]
        if adjustment is not None:
            targets += [adjustment.id, adjustment.from_staff]
        audit.record(store, "dispute_resolved", requested_by, targets, f"{decision}: {reason}")
    return resolved

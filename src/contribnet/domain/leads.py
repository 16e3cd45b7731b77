"""Lead pools: who held a lead when, the pool policy's follow-up deadline, and which leads are due
for reclaim.

A *lead* is a customer handed to one staff member at a time through ``lead_assignment`` events
(``domain/events.py``). The **holder** of a lead at an instant ``t`` is the ``staff`` of the
latest live assignment at or before ``t`` (ordered by ``at``, then id) if its reason is
``assigned`` or ``reassigned``; after a ``reclaimed`` one the lead is in the pool and nobody holds
it. A holder **followed up** when they touched the customer, or logged an activity naming the
customer, at or after the assignment and at or before its **deadline**: the assignment's ``at``
plus the follow-up hours of the holder's region (the region of their store on the assignment's
day; the policy's default hours for a region it does not list). A holding whose deadline has
passed without a follow-up is reclaimed at the deadline.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from contribnet.domain.events import LeadAssignment
from contribnet.domain.limits import MAX_ID_LENGTH

__all__ = [
    "DEFAULT_FOLLOW_UP_HOURS",
    "FollowUpWindow",
    "Holding",
    "PoolPolicy",
    "current_holdings",
    "deadline",
    "holder_at",
    "holding_history",
    "reclaim_event",
    "reclaim_id",
]

#: How long a holder has to follow a lead up when the policy says nothing else.
DEFAULT_FOLLOW_UP_HOURS = 72.0


class PoolPolicy(BaseModel):
    """The pool policy: hours a holder has to follow a lead up, by region (``region_hours``),
    ``follow_up_hours`` elsewhere. Read from TOML (``policies/pool/default.toml``).

    >>> PoolPolicy(region_hours={"East": 48}).hours("East"), PoolPolicy().hours(None)
    (48.0, 72.0)
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "pool"
    description: str = ""
    follow_up_hours: float = Field(default=DEFAULT_FOLLOW_UP_HOURS, gt=0, le=24 * 365)
    region_hours: dict[str, float] = Field(default_factory=dict)

    def hours(self, region: str | None) -> float:
        """The follow-up hours of a region (``None``: unknown region)."""
        if region is not None and region in self.region_hours:
            return float(self.region_hours[region])
        return float(self.follow_up_hours)


class Holding(BaseModel):
    """One staff member's holding of a lead: from ``from`` (the assignment that gave it, and its
    ``reason``) until ``to`` (the next assignment's instant; ``None`` while they still hold it),
    and why it ended (``ended_by``: ``reclaimed`` or ``reassigned``, ``None`` while held)."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    staff: str
    from_: datetime = Field(alias="from")
    to: datetime | None = None
    reason: str
    assignment: str
    ended_by: str | None = None


def _ordered(assignments: Iterable[LeadAssignment]) -> list[LeadAssignment]:
    return sorted(assignments, key=lambda a: (a.at, a.id))


def holding_history(assignments: Iterable[LeadAssignment]) -> list[Holding]:
    """Who held the lead when, from its live assignments (any order): one :class:`Holding` per
    ``assigned``/``reassigned`` assignment, ending at the next assignment.

    >>> from datetime import UTC, datetime
    >>> at = lambda day: datetime(2025, 1, day, tzinfo=UTC)
    >>> events = [LeadAssignment(id="a1", at=at(1), lead="c", reason="assigned", staff="x"),
    ...           LeadAssignment(id="a2", at=at(4), lead="c", reason="reclaimed", staff="x"),
    ...           LeadAssignment(id="a3", at=at(5), lead="c", reason="reassigned", staff="y")]
    >>> [(h.staff, h.from_.day, h.to and h.to.day, h.ended_by) for h in holding_history(events)]
    [('x', 1, 4, 'reclaimed'), ('y', 5, None, None)]
    """
    ordered = _ordered(assignments)
    history = []
    for i, a in enumerate(ordered):
        if a.reason == "reclaimed" or a.staff is None:
            continue
        after = ordered[i + 1] if i + 1 < len(ordered) else None
        history.append(
            Holding(
                staff=a.staff,
                from_=a.at,
                to=after.at if after else None,
                reason=a.reason,
                assignment=a.id,
                ended_by=after.reason if after else None,
            )
        )
    return history


def holder_at(assignments: Sequence[LeadAssignment], at: datetime) -> str | None:
    """The holder of the lead at ``at`` (``None``: never assigned by then, or in the pool);
    ``assignments`` are the lead's live assignments sorted by ``(at, id)``.

    >>> from datetime import UTC, datetime
    >>> a = [LeadAssignment(id="a1", at=datetime(2025, 1, 1, tzinfo=UTC), lead="c",
    ...                     reason="assigned", staff="x")]
    >>> holder_at(a, datetime(2025, 1, 1, tzinfo=UTC)), holder_at(a, datetime(2024, 12, 31,
    ...     tzinfo=UTC))
    ('x', None)
    """
    holder = None
    for a in assignments:
        if a.at > at:
            break
        holder = None if a.reason == "reclaimed" else a.staff
    return holder


def current_holdings(
    assignments: Iterable[LeadAssignment], as_of: datetime
) -> dict[str, LeadAssignment]:
    """Per lead, the assignment by which someone holds it at ``as_of`` (leads in the pool, or
    not assigned yet, left out)."""
    latest: dict[str, LeadAssignment] = {}
    for a in _ordered(assignments):
        if a.at <= as_of:
            latest[a.lead] = a
    return {lead: a for lead, a in latest.items() if a.reason != "reclaimed" and a.staff}


@dataclass(frozen=True)
class FollowUpWindow:
    """Where a holder's follow-up must fall: a touch of ``customer`` by ``staff``, or an activity
    of ``staff`` naming ``customer``, in ``[start, end]`` (``assignment`` names the holding)."""

    assignment: str
    customer: str
    staff: str
    start: datetime
    end: datetime


def deadline(holding: LeadAssignment, hours: float) -> datetime | None:
    """When the holder's time to follow up ends: ``hours`` after the assignment; ``None`` if
    that is past the last representable instant (year 9999), i.e. never.

    >>> from datetime import UTC, datetime
    >>> a = LeadAssignment(id="a1", at=datetime(2025, 1, 1, tzinfo=UTC), lead="c",
    ...                    reason="assigned", staff="x")
    >>> deadline(a, 48).isoformat(), deadline(a.model_copy(update={"at": datetime.max.replace(
    ...     tzinfo=UTC)}), 1)
    ('2025-01-03T00:00:00+00:00', None)
    """
    try:
        return holding.at + timedelta(hours=hours)
    except OverflowError:
        return None


def reclaim_id(assignment_id: str) -> str:
    """The id of the reclaim of a holding: one per assignment, so that reclaiming again (or
    twice at once) records nothing new.

    >>> reclaim_id("la-1")
    'la-1~reclaimed'
    """
    id_ = f"{assignment_id}~reclaimed"
    if len(id_) <= MAX_ID_LENGTH:
        return id_
    # a long id would make one over the limit: its digest is as deterministic
    return "reclaimed~" + hashlib.sha256(assignment_id.encode()).hexdigest()[:32]


def reclaim_event(holding: LeadAssignment, due: datetime) -> LeadAssignment:
    """The reclaim of a holding not followed up: at its deadline ``due``, from its holder. Its
    content depends on nothing but the holding and its deadline, so a second run sends the same
    event, a duplicate."""
    return LeadAssignment(
        id=reclaim_id(holding.id),
        at=due,
        lead=holding.lead,
        reason="reclaimed",
        staff=holding.staff,
    )

"""Read models: a customer's journey as stored, and one deal's journey as the engine sees it."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from contribnet.domain.events import (
    Customer,
    Deal,
    Handover,
    JointEvent,
    LeadAssignment,
    Referral,
    Staff,
    Store,
    Touch,
)

__all__ = [
    "DealJourney",
    "DealMark",
    "Journey",
    "Page",
    "VoidedItem",
    "earlier_live_deals",
    "owning_deal",
]


class Journey(BaseModel):
    """Everything recorded about one customer, voided items included and flagged.

    Items keep the field names of their events and carry ``"voided": true|false``; touches are
    ordered by ``at`` then ``id``. ``customer`` is null when only references to the customer have
    arrived so far (their own record is linked when it comes).
    """

    customer: dict[str, Any] | None
    touches: list[dict[str, Any]] = Field(default_factory=list)
    referrals: list[dict[str, Any]] = Field(default_factory=list)
    handovers: list[dict[str, Any]] = Field(default_factory=list)
    joint_events: list[dict[str, Any]] = Field(default_factory=list)
    deals: list[dict[str, Any]] = Field(default_factory=list)
    #: The customer's ``lead_assignment`` events (lead pools), by ``at`` then id.
    lead_assignments: list[dict[str, Any]] = Field(default_factory=list)
    #: Who held the lead when (``domain/leads.py``), from the live assignments:
    #: ``[{staff, from, to, reason, assignment, ended_by}]``; filled by the journey service.
    holdings: list[dict[str, Any]] = Field(default_factory=list)

    def with_counted_for(self) -> Journey:
        """The journey with ``counted_for`` on every touch, referral and handover: the live deal
        the contribution belongs to (:func:`owning_deal`), ``None`` if voided or after the
        customer's last live deal. It earns on that deal if it is within the deal's lookback
        and its stage weighs more than 0 (the deal's split lists it either way)."""
        live = sorted(
            DealMark(datetime.fromisoformat(d["closed_at"]), d["id"])
            for d in self.deals
            if not d["voided"]
        )

        def mark(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
            out = []
            for item in items:
                owner = (
                    None
                    if item["voided"]
                    else owning_deal(datetime.fromisoformat(item["at"]), live)
                )
                out.append({**item, "counted_for": owner.id if owner else None})
            return out

        return self.model_copy(
            update={
                "touches": mark(self.touches),
                "referrals": mark(self.referrals),
                "handovers": mark(self.handovers),
            }
        )


class DealMark(NamedTuple):
    """Where a deal sits in its customer's history: its close, then its id (the order of deals)."""

    closed_at: datetime
    id: str


class VoidedItem(NamedTuple):
    """A voided contribution of the customer (touch, referral or handover): it counts for no one,
    and a deal's explanation says so when it falls in the deal's window."""

    at: datetime
    id: str
    source: str


def earlier_live_deals(deal: DealMark, live: Iterable[DealMark]) -> tuple[DealMark, ...]:
    """The customer's live deals ordered before ``deal`` by ``(closed_at, id)``, oldest first.

    ``live`` is any iterable of :class:`DealMark` (the customer's non-voided deals, in any order,
    ``deal`` itself included or not). Two deals closed at the same instant (two cars in one
    order) are ordered by id.

    >>> from datetime import UTC, datetime
    >>> jan, mar = datetime(2025, 1, 9, tzinfo=UTC), datetime(2025, 3, 9, tzinfo=UTC)
    >>> marks = [DealMark(mar, "d-2"), DealMark(jan, "d-1"), DealMark(mar, "d-3")]
    >>> [m.id for m in earlier_live_deals(DealMark(mar, "d-3"), marks)]
    ['d-1', 'd-2']
    """
    return tuple(sorted(m for m in live if (m.closed_at, m.id) < (deal.closed_at, deal.id)))


def owning_deal(at: datetime, deals: Sequence[DealMark]) -> DealMark | None:
    """The deal a contribution made at ``at`` belongs to: the first of the customer's live
    ``deals`` (sorted by close, then id) that closes at or after it; ``None`` if none does.

    This is contribnet's rule for paying each contribution once: a customer who buys twice
    pays their first deal's contributors on the first deal only, and the second deal's window
    starts just after the first closed. Deals closed at the same instant go by id.

    >>> from datetime import UTC, datetime
    >>> deals = [DealMark(datetime(2025, 1, 9, tzinfo=UTC), "d-jan"),
    ...          DealMark(datetime(2025, 3, 9, tzinfo=UTC), "d-mar")]
    >>> owning_deal(datetime(2025, 1, 9, tzinfo=UTC), deals).id
    'd-jan'
    >>> owning_deal(datetime(2025, 2, 1, tzinfo=UTC), deals).id
    'd-mar'
    >>> owning_deal(datetime(2025, 4, 1, tzinfo=UTC), deals) is None
    True
    """
    i = bisect_left([d.closed_at for d in deals], at)
    return deals[i] if i < len(deals) else None


class DealJourney(BaseModel):
    """The input of the credit engine: one deal and the customer's journey, voided events removed.

    ``handovers`` are the handovers that include the deal's customer; ``joint_events`` the ones
    its touches name; ``stores`` every store that the deal, the touches, referrals and joint events
    reference (when known); ``staff`` the employment spells of every staff member involved.
    ``earlier_deals`` are the customer's live deals ordered before this one (by close, then id,
    oldest first): a contribution belongs to the first live deal that closes at or after it, so
    everything up to the latest of them was that deal's, not this one's (``credit/guards.py``).
    ``voided`` are the customer's voided contributions, kept only to explain that they did not
    count. ``assignments`` are the customer's live ``lead_assignment`` events by ``(at, id)``:
    the holding history that gives lead-stage credit to the lead's holder (``credit/guards.py``);
    ``None`` when there are none, so that such a journey hashes as before lead pools existed.
    """

    model_config = ConfigDict(frozen=True)

    deal: Deal
    customer: Customer | None = None
    touches: tuple[Touch, ...] = ()
    referrals: tuple[Referral, ...] = ()
    handovers: tuple[Handover, ...] = ()
    joint_events: tuple[JointEvent, ...] = ()
    stores: dict[str, Store] = Field(default_factory=dict)
    staff: dict[str, tuple[Staff, ...]] = Field(default_factory=dict)
    earlier_deals: tuple[DealMark, ...] = ()
    voided: tuple[VoidedItem, ...] = ()
    assignments: tuple[LeadAssignment, ...] | None = None


class Page(BaseModel):
    """One page of a list endpoint."""

    items: list[dict[str, Any]]
    offset: int
    limit: int
    total: int

"""Use case: a customer's journey as analysts and staff read it."""

from __future__ import annotations

from contribnet.domain.events import LeadAssignment, stored
from contribnet.domain.journey import Journey
from contribnet.domain.leads import Holding, holding_history
from contribnet.store import Store

__all__ = ["customer_journey", "journey_holdings"]


def journey_holdings(journey: Journey) -> list[Holding]:
    """Who held the customer's lead when (``domain/leads.py``), from the journey's live lead
    assignments; empty if the customer was never assigned as a lead."""
    live = (stored(LeadAssignment, a) for a in journey.lead_assignments if not a["voided"])
    return holding_history(live)


def customer_journey(store: Store, customer_id: str) -> Journey:
    """Everything recorded about a customer, each contribution marked with the live deal it
    counts for (``counted_for``), and who held the customer's lead when (``holdings``); raises
    ``NotFound`` for an unknown customer."""
    journey = store.journey(customer_id).with_counted_for()
    holdings = [h.model_dump(mode="json", by_alias=True) for h in journey_holdings(journey)]
    return journey.model_copy(update={"holdings": holdings})

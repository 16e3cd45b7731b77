"""Use case: a customer's journey as analysts and staff read it."""

from __future__ import annotations

from contribnet.domain.journey import Journey
from contribnet.store import Store

__all__ = ["customer_journey"]


def customer_journey(store: Store, customer_id: str) -> Journey:
    """Everything recorded about a customer, each contribution marked with the live deal it
    counts for (``counted_for``); raises ``NotFound`` for an unknown customer."""
    return store.journey(customer_id).with_counted_for()

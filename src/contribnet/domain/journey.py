"""Read models: a customer's journey as stored, and the journey of one deal as the credit engine sees it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from contribnet.domain.events import (
    Customer,
    Deal,
    Handover,
    JointEvent,
    Referral,
    Staff,
    Store,
    Touch,
)

__all__ = ["DealJourney", "Journey", "Page"]


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


class DealJourney(BaseModel):
    """The input of the credit engine: one deal and the customer's journey, voided events removed.

    ``handovers`` are the handovers that include the deal's customer; ``joint_events`` the ones
    its touches name; ``stores`` every store that the deal, the touches, referrals and joint events
    reference (when known); ``staff`` the employment spells of every staff member involved.
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


class Page(BaseModel):
    """One page of a list endpoint."""

    items: list[dict[str, Any]]
    offset: int
    limit: int
    total: int

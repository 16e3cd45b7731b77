"""The event stream: everything that happens along a customer's journey, as append-only events.

Every event has a ``type`` and an ``id`` chosen by the sender. Entity events (brand, store, staff,
customer) use the entity's id; activity events (touch, referral, handover, joint_event, deal, void)
use their own id. The *event key* identifies an event for idempotency: the id, except for staff
events, where each event is one employment spell and the key is ``"{id}@{from}"`` — so a staff
member who moves stores sends a second staff event with a later ``from``.

Money is integer minor units (fen). Timestamps are timezone-aware ISO 8601 (a naive timestamp is
read as UTC) and normalised to UTC, so the same instant written two ways is the same event.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    TypeAdapter,
    ValidationInfo,
    field_validator,
)

__all__ = [
    "DEFAULT_STAGES",
    "MAX_BATCH",
    "MONEY_FIELDS",
    "Brand",
    "Customer",
    "Deal",
    "Event",
    "EventBatch",
    "Handover",
    "JointEvent",
    "Referral",
    "Staff",
    "Store",
    "Touch",
    "Void",
    "EVENT_TYPES",
    "VOIDABLE_TYPES",
    "event_adapter",
    "event_hash",
    "event_key",
    "canonical_json",
]

#: The default stage vocabulary; a deployment may configure its own (``CONTRIBNET_STAGES``).
DEFAULT_STAGES: tuple[str, ...] = (
    "lead",
    "reception",
    "consultation",
    "test_drive",
    "referral",
    "handover",
    "event",
    "quote",
    "order",
    "delivery",
    "follow_up",
)

#: The most events one ``POST /v1/events`` call may carry.
MAX_BATCH = 10_000


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    if value.tzinfo is UTC:
        return value
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_utc)]
Id = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\s@]+$")]
# Strict: money is an integer of fen. "100" or 100.0 (or true) is a mistake upstream, likely a
# unit or a type error, and a mistake about money must be refused, not coerced.
Fen = Annotated[int, Strict(), Field(ge=0, le=10**15)]
#: The money fields (``Fen``) of the events, which a text format (CSV) must turn into integers.
MONEY_FIELDS: frozenset[str] = frozenset({"amount", "reward_pool", "points_pool"})


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    id: Id


class Brand(_Event):
    type: Literal["brand"] = "brand"
    name: str = Field(min_length=1)


class Store(_Event):
    type: Literal["store"] = "store"
    name: str = Field(min_length=1)
    brand: Id
    city: str = Field(min_length=1)
    region: str = Field(min_length=1)
    mall: str | None = None


class Staff(_Event):
    """One employment spell: staff ``id`` works at ``store`` in ``role`` from ``from`` to ``to``."""

    type: Literal["staff"] = "staff"
    name: str = Field(min_length=1)
    store: Id
    role: str = Field(min_length=1)
    from_: date | None = Field(default=None, alias="from")
    to: date | None = None

    @field_validator("to")
    @classmethod
    def _spell_is_ordered(cls, to: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("from_")
        if to is not None and start is not None and to < start:
            raise ValueError("'to' is before 'from'")
        return to


class Customer(_Event):
    type: Literal["customer"] = "customer"
    name: str | None = None
    city: str | None = None


class Touch(_Event):
    """A staff member touched a customer at a store, at one stage of the journey."""

    type: Literal["touch"] = "touch"
    at: UtcDatetime
    customer: Id
    staff: Id
    store: Id
    stage: str = Field(min_length=1)
    channel: str | None = None
    joint_event: Id | None = None
    evidence: dict[str, Any] | None = None


class Referral(_Event):
    """A customer referred to a store, by a staff member (often cross-brand) or by an owner."""

    type: Literal["referral"] = "referral"
    at: UtcDatetime
    customer: Id
    to_store: Id
    referrer_staff: Id | None = None
    referrer_customer: Id | None = Field(default=None, validate_default=True)

    @field_validator("referrer_customer")
    @classmethod
    def _one_referrer(cls, referrer: str | None, info: ValidationInfo) -> str | None:
        if (info.data.get("referrer_staff") is None) == (referrer is None):
            raise ValueError("give exactly one of 'referrer_staff' and 'referrer_customer'")
        return referrer


class Handover(_Event):
    """Staff ``from_staff`` handed ``customers`` to ``to_staff`` (bulk handovers carry many)."""

    type: Literal["handover"] = "handover"
    at: UtcDatetime
    from_staff: Id
    to_staff: Id
    customers: list[Id] = Field(min_length=1, max_length=100_000)


class JointEvent(_Event):
    """A roadshow or ad campaign organised together by several stores."""

    type: Literal["joint_event"] = "joint_event"
    at: UtcDatetime
    name: str = Field(min_length=1)
    organisers: list[Id] = Field(min_length=1)


class Deal(_Event):
    """A closed order; ``amount`` and ``reward_pool`` are integer fen."""

    type: Literal["deal"] = "deal"
    customer: Id
    store: Id
    staff: Id
    closed_at: UtcDatetime
    amount: Fen
    reward_pool: Fen
    points_pool: Fen | None = None


class Void(_Event):
    """Retracts the event whose id is ``target``; nothing is ever deleted."""

    type: Literal["void"] = "void"
    target: Id
    reason: str = Field(min_length=1)


Event = Annotated[
    Brand | Store | Staff | Customer | Touch | Referral | Handover | JointEvent | Deal | Void,
    Field(discriminator="type"),
]

EVENT_TYPES: tuple[str, ...] = (
    "brand",
    "store",
    "staff",
    "customer",
    "touch",
    "referral",
    "handover",
    "joint_event",
    "deal",
    "void",
)

#: Activity events may be voided; entity records are corrected by sending a new version instead.
VOIDABLE_TYPES = frozenset({"touch", "referral", "handover", "joint_event", "deal"})

event_adapter: TypeAdapter[Event] = TypeAdapter(Event)


class EventBatch(BaseModel):
    """The body of ``POST /v1/events``."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "events": [
                        {"type": "brand", "id": "nio", "name": "NIO"},
                        {
                            "type": "store",
                            "id": "st-sh-1",
                            "name": "NIO House Shanghai",
                            "brand": "nio",
                            "city": "Shanghai",
                            "region": "East",
                        },
                        {
                            "type": "touch",
                            "id": "t-1",
                            "at": "2025-01-05T10:00:00Z",
                            "customer": "c-1",
                            "staff": "sf-1",
                            "store": "st-sh-1",
                            "stage": "test_drive",
                        },
                    ]
                }
            ]
        }
    )

    events: list[dict[str, Any]] = Field(max_length=MAX_BATCH)


def event_key(event: Event) -> str:
    """The idempotency key: the id, or ``id@from`` for a staff employment spell."""
    if isinstance(event, Staff):
        return f"{event.id}@{event.from_.isoformat() if event.from_ else ''}"
    return event.id


def canonical_json(event: Event) -> bytes:
    """The canonical JSON of an event: field names as sent, UTC times, no nulls.

    The model fixes the field order, so equal events always serialise to equal bytes.
    """
    return event.__pydantic_serializer__.to_json(event, by_alias=True, exclude_none=True)


def event_hash(canonical: bytes) -> str:
    """A content hash of the canonical JSON: equal for the same event however it was written."""
    return hashlib.sha256(canonical).hexdigest()[:32]

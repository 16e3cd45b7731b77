"""The event stream: everything that happens along a customer's journey, as append-only events.

Every event has a ``type`` and an ``id`` chosen by the sender. Entity events (brand, store, staff,
customer) use the entity's id; the events of what happens (touch, referral, handover, joint_event,
deal, activity, lead_assignment, void) use their own id. The *event key* identifies an event for
idempotency: the id, except for staff events, where each event is one employment spell and the
key is ``"{id}@{from}"`` — so a staff member who moves stores sends a second staff event with a
later ``from``.

Money is integer minor units (fen). Timestamps are timezone-aware ISO 8601 (a naive timestamp is
read as UTC) and normalised to UTC, so the same instant written two ways is the same event.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from types import UnionType
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    TypeAdapter,
    ValidationInfo,
    field_validator,
)

from contribnet.domain.evidence import EvidenceField
from contribnet.domain.limits import MAX_CUSTOMERS_PER_HANDOVER, MAX_ID_LENGTH, MAX_ORGANISERS
from contribnet.domain.unchecked import unchecked
from contribnet.domain.values import Date as _Date
from contribnet.domain.values import Id as Id
from contribnet.domain.values import Note as Note
from contribnet.domain.values import Text as Text
from contribnet.domain.values import UtcDatetime as UtcDatetime

__all__ = [
    "DEFAULT_ACTIONS",
    "DEFAULT_STAGES",
    "MAX_BATCH",
    "MAX_ID_LENGTH",
    "MONEY_FIELDS",
    "Activity",
    "Brand",
    "Customer",
    "Deal",
    "Event",
    "EventBatch",
    "Handover",
    "JointEvent",
    "LEAD_REASONS",
    "LeadAssignment",
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
    "stored",
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

#: The default vocabulary of ``activity`` actions: the nurturing steps that earn points (see
#: ``domain/points.py``); a deployment may configure its own (``CONTRIBNET_ACTIONS``).
DEFAULT_ACTIONS: tuple[str, ...] = (
    "wechat_add",
    "store_invite",
    "test_drive_invite",
    "material_sent",
    "deposit_taken",
)

#: The most events one ``POST /v1/events`` call may carry.
MAX_BATCH = 10_000


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
    name: Text


class Store(_Event):
    type: Literal["store"] = "store"
    name: Text
    brand: Id
    city: Text
    region: Text
    mall: Note | None = None


class Staff(_Event):
    """One employment spell: staff ``id`` works at ``store`` in ``role`` from ``from`` to ``to``."""

    type: Literal["staff"] = "staff"
    name: Text
    store: Id
    role: Text
    from_: _Date | None = Field(default=None, alias="from")
    to: _Date | None = None

    @field_validator("to")
    @classmethod
    def _spell_is_ordered(cls, to: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("from_")
        if to is not None and start is not None and to < start:
            raise ValueError("'to' is before 'from'")
        return to


class Customer(_Event):
    type: Literal["customer"] = "customer"
    name: Note | None = None
    city: Note | None = None


class Touch(_Event):
    """A staff member touched a customer at a store, at one stage of the journey."""

    type: Literal["touch"] = "touch"
    at: UtcDatetime
    customer: Id
    staff: Id
    store: Id
    stage: Text
    channel: Note | None = None
    joint_event: Id | None = None
    evidence: EvidenceField | None = None


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
    customers: list[Id] = Field(min_length=1, max_length=MAX_CUSTOMERS_PER_HANDOVER)


class JointEvent(_Event):
    """A roadshow or ad campaign organised together by several stores."""

    type: Literal["joint_event"] = "joint_event"
    at: UtcDatetime
    name: Text
    organisers: list[Id] = Field(min_length=1, max_length=MAX_ORGANISERS)


class Activity(_Event):
    """A staff member did one of the nurturing ``action``s (added the customer on WeChat, invited
    them to the store or to a test drive, sent material, took a deposit); it earns points under
    the points policy in force (``domain/points.py``). ``customer`` is optional: material may be
    sent to a whole list."""

    type: Literal["activity"] = "activity"
    at: UtcDatetime
    staff: Id
    customer: Id | None = None
    action: Text
    evidence: EvidenceField | None = None


#: Why a lead changed hands (``LeadAssignment.reason``).
LEAD_REASONS: tuple[str, ...] = ("assigned", "reclaimed", "reassigned")


class LeadAssignment(_Event):
    """The lead ``lead`` (a customer id) changed hands at ``at``: ``assigned`` or ``reassigned``
    to ``staff``, or ``reclaimed`` into the pool from ``staff`` (the holder it was taken from;
    optional, since the pool holds it afterwards). ``domain/leads.py`` turns them into the
    holding history and says when a holder must follow up (the pool policy)."""

    type: Literal["lead_assignment"] = "lead_assignment"
    at: UtcDatetime
    lead: Id
    reason: Literal["assigned", "reclaimed", "reassigned"]
    staff: Id | None = Field(default=None, validate_default=True)

    @field_validator("staff")
    @classmethod
    def _holder_named(cls, staff: str | None, info: ValidationInfo) -> str | None:
        reason = info.data.get("reason")
        if staff is None and reason in ("assigned", "reassigned"):
            raise ValueError(f"a lead {reason} to someone names them in 'staff'")
        return staff


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
    reason: Text

    @field_validator("target")
    @classmethod
    def _not_itself(cls, target: str, info: ValidationInfo) -> str:
        if target == info.data.get("id"):
            raise ValueError("a void cannot void itself ('target' is its own 'id')")
        return target


Event = Annotated[
    Brand
    | Store
    | Staff
    | Customer
    | Touch
    | Referral
    | Handover
    | JointEvent
    | Deal
    | Activity
    | LeadAssignment
    | Void,
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
    "activity",
    "lead_assignment",
    "void",
)

#: What happened (touches to lead assignments) may be voided; entity records are corrected by
#: sending a new version instead.
VOIDABLE_TYPES = frozenset(
    {"touch", "referral", "handover", "joint_event", "deal", "activity", "lead_assignment"}
)

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
                            "evidence": {"kind": "test_drive_log", "ref": "td-2025-0105-881"},
                        },
                    ]
                }
            ]
        }
    )

    events: list[dict[str, Any]] = Field(max_length=MAX_BATCH)


_E = TypeVar("_E", bound=_Event)


def _stored_instant(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _members(annotation: Any) -> tuple[Any, ...]:
    """The types a field may hold: the members of a union, or the type itself."""
    return get_args(annotation) if get_origin(annotation) in (Union, UnionType) else (annotation,)


def _temporal_parsers(model: type[_Event]) -> dict[str, Any]:
    """The parsers of a model's instants and dates (stored as ISO text), by field name."""
    parsers: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        kinds = [
            get_args(k)[0] if get_origin(k) is Annotated else k for k in _members(info.annotation)
        ]
        if datetime in kinds:
            parsers[name] = _stored_instant
        elif date in kinds:
            parsers[name] = date.fromisoformat
    return parsers


_PARSERS: dict[type[_Event], dict[str, Any]] = {}


def stored(model: type[_E], fields: dict[str, Any]) -> _E:
    """An event read back from the store, built from its stored fields without validating it again.

    Every stored event was validated when it was accepted; the read path builds thousands of them
    per settlement chunk, and validating them again (id grammar, evidence size, ...) cost more
    than computing their splits. What validation would still do on the way back is done here: ISO
    text becomes instants in UTC and dates. A record accepted under older, looser rules stays
    readable. ``tests/domain/test_unchecked.py`` checks that it equals the validated event.

    >>> stored(Touch, {"id": "t-1", "at": "2025-01-05T10:00:00Z", "customer": "c-1",
    ...     "staff": "sf-1", "store": "st-1", "stage": "lead"}).at.isoformat()
    '2025-01-05T10:00:00+00:00'
    """
    parsers = _PARSERS.get(model)
    if parsers is None:
        parsers = _PARSERS[model] = _temporal_parsers(model)
    event = unchecked(model, fields)
    for name, parse in parsers.items():
        value = event.__dict__[name]
        if isinstance(value, str):
            event.__dict__[name] = parse(value)
    return event


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

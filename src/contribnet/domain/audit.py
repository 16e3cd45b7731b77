"""The audit trail: who changed what, when, with which key and why.

An :class:`AuditEntry` is appended by the services for every change they make -- events
written or voided, settlements and the ones superseding them, adjustments, policy versions, API
keys created or revoked, flag reviews, redemptions, disputes opened and resolved -- and is
never edited. One entry may touch many records: a batch of events touches each event, its
customer and its staff, so the trail of any one of them (``targets``) finds it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal, NamedTuple, get_args

from pydantic import BaseModel, ConfigDict, Field

from contribnet.domain.events import Event

__all__ = [
    "AUDIT_ACTIONS",
    "MAX_LISTED_TARGETS",
    "Actor",
    "AuditAction",
    "AuditEntry",
    "actor_of",
    "event_targets",
]

#: Targets an entry lists (a batch of 10,000 events touches some 20,000 ids: every one is in the
#: trail's index, so its trail finds the entry, but the entry itself lists the first ones).
MAX_LISTED_TARGETS = 100

AuditAction = Literal[
    "event_written",
    "event_voided",
    "settled",
    "superseded",
    "adjusted",
    "policy_version",
    "points_policy_version",
    "key_created",
    "key_revoked",
    "flag_reviewed",
    "redemption",
    "redemption_reversed",
    "dispute_opened",
    "dispute_resolved",
]
AUDIT_ACTIONS: tuple[AuditAction, ...] = get_args(AuditAction)


class Actor(NamedTuple):
    """Who made a change: the role of the key, the staff member a staff key names, and the key's
    public id (``key-…``; None for the command line)."""

    role: str
    staff: str | None
    key: str | None


def actor_of(requested_by: str) -> Actor:
    """The actor a ledger record's ``requested_by`` names (``role[:staff] (key-…)``, as the API
    writes it; the command line writes ``cli:user``, which has no key).

    >>> actor_of("leader (key-97a74635e1f9)")
    Actor(role='leader', staff=None, key='key-97a74635e1f9')
    >>> actor_of("staff:sf-x (key-0123456789ab)")
    Actor(role='staff', staff='sf-x', key='key-0123456789ab')
    >>> actor_of("cli:alice")
    Actor(role='cli', staff='alice', key=None)
    """
    who, _, rest = requested_by.partition(" (")
    key = rest.removesuffix(")") if rest else None
    role, _, staff = who.partition(":")
    return Actor(role, staff or None, key)


class AuditEntry(BaseModel):
    """One change, as the audit trail keeps it (append-only)."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "au-5b0e9d4c1a2f3e6d7c8b",
                    "at": "2025-02-01T02:00:00Z",
                    "action": "adjusted",
                    "actor": "leader (key-97a74635e1f9)",
                    "actor_role": "leader",
                    "actor_key": "key-97a74635e1f9",
                    "targets": ["adj-dp-1", "d-1", "sf-x", "sf-y"],
                    "targets_total": 4,
                    "reason": "dispute dp-1 accepted: two test drives were missed",
                }
            ]
        },
    )

    id: str
    at: datetime = Field(description="when the change was recorded (UTC)")
    action: AuditAction
    actor: str = Field(description="who asked, as the change itself records it")
    actor_role: str
    actor_key: str | None = Field(description="the public id of the API key used")
    targets: tuple[str, ...] = Field(
        description=f"ids of the records the change touched (the first {MAX_LISTED_TARGETS})"
    )
    targets_total: int = Field(description="how many records the change touched")
    reason: str | None = None


#: The fields of an event that name another record (any event type; missing ones are skipped).
_REFERENCES = (
    "customer",
    "staff",
    "from_staff",
    "to_staff",
    "referrer_staff",
    "referrer_customer",
    "target",
)


def event_targets(events: Iterable[Event]) -> list[str]:
    """The ids a batch of events touches: each event's id, and the customers, staff members and
    void targets it names; each once, in first-seen order.

    >>> from contribnet.domain.events import Void
    >>> event_targets([Void(id="v-1", target="t-1", reason="typo")])
    ['v-1', 't-1']
    """
    seen: dict[str, None] = {}
    for event in events:
        seen[event.id] = None
        # the fields themselves: asking a model for one it lacks costs a raised AttributeError,
        # most of the time of importing a file
        fields = event.__dict__
        for name in _REFERENCES:
            value = fields.get(name)
            if isinstance(value, str):
                seen[value] = None
        for customer in fields.get("customers") or ():
            seen[str(customer)] = None
    return list(seen)

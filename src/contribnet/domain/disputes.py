"""Disputes: a staff member questions a line of their statement; a leader resolves it.

A :class:`Dispute` is opened on one settled deal for one staff member credited on it, and is
resolved once (:class:`Resolution`): ``reject``, or ``accept`` -- with an ``amount``, accepting
records an adjustment of that many fen to the disputing staff member (``adj-{dispute id}``,
under the ledger's usual rules, :func:`contribnet.domain.ledger.check_adjustment`). The staff
member who disputes can never resolve their own dispute (:func:`check_resolver`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from contribnet.domain.errors import ContribnetError
from contribnet.domain.settlement import RecordConflict

__all__ = [
    "AlreadyDisputed",
    "DecisionKind",
    "Dispute",
    "DisputeRefused",
    "DisputeResolved",
    "DisputeStatus",
    "NoSettledLine",
    "Resolution",
    "adjustment_id",
    "check_resolver",
]

DisputeStatus = Literal["open", "resolved"]
DecisionKind = Literal["accept", "reject"]


class DisputeRefused(ContribnetError):
    """The caller may not do this to this dispute (HTTP 403): say, resolve their own."""


class DisputeResolved(RecordConflict):
    """The dispute is resolved already: a resolution is never replaced (HTTP 409)."""

    def __str__(self) -> str:
        return f"dispute {self.id!r} is resolved already; a resolution is never replaced"


class NoSettledLine(RecordConflict):
    """The staff member has no line on the deal's current settlement to dispute (HTTP 409)."""

    def __str__(self) -> str:
        return f"{self.kind} has no settled line on deal {self.id!r} to dispute"


class AlreadyDisputed(RecordConflict):
    """The staff member has an open dispute on the deal already (HTTP 409)."""

    def __str__(self) -> str:
        return f"{self.kind} has an open dispute on deal {self.id!r} already"


class Resolution(BaseModel):
    """How a leader or admin resolved a dispute; ``adjustment`` names the adjustment an accepted
    amount recorded."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    decision: DecisionKind
    reason: str
    amount: int | None = Field(default=None, description="fen moved to the disputing staff")
    from_staff: str | None = Field(default=None, description="whom the amount was moved from")
    adjustment: str | None = None
    resolved_by: str
    resolved_at: datetime


class Dispute(BaseModel):
    """A staff member's question about their line on a settled deal."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "dp-5b0e9d4c1a2f3e6d7c8b",
                    "deal": "d-1",
                    "closed_at": "2025-01-10T04:00:00Z",
                    "staff": "sf-x",
                    "settlement": "stl-5b0e9d4c1a2f3e6d7c8b9a01",
                    "amount": 125000,
                    "message": "my second test drive is missing",
                    "opened_by": "staff:sf-x (key-0123456789ab)",
                    "opened_at": "2025-01-12T02:00:00Z",
                    "status": "open",
                    "resolution": None,
                }
            ]
        },
    )

    id: str
    deal: str
    closed_at: datetime = Field(description="the deal's close: statements list it by it")
    staff: str = Field(description="the disputing staff member")
    settlement: str = Field(description="the deal's current settlement when it was opened")
    amount: int = Field(description="fen the staff member held on the deal when it was opened")
    message: str
    opened_by: str
    opened_at: datetime
    resolution: Resolution | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def status(self) -> DisputeStatus:
        return "open" if self.resolution is None else "resolved"


def adjustment_id(dispute_id: str) -> str:
    """The id of the adjustment an accepted dispute records: one per dispute, so a resolution
    sent twice cannot move the money twice.

    >>> adjustment_id("dp-1")
    'adj-dp-1'
    """
    return f"adj-{dispute_id}"


def check_resolver(dispute: Dispute, resolver_staff: str | None) -> None:
    """The disputing staff member never resolves their own dispute, whatever key they hold."""
    if resolver_staff is not None and resolver_staff == dispute.staff:
        raise DisputeRefused(
            f"{resolver_staff!r} opened dispute {dispute.id!r} and may not resolve it"
        )

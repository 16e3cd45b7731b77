"""Disputes: a staff member questions a line of their statement; a leader or admin resolves it."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field, Strict

from contribnet.api.auth import require_own_staff, require_roles
from contribnet.api.deps import StoreDep
from contribnet.api.limits import StrictJsonRoute
from contribnet.api.routers.credit import requested_by
from contribnet.domain.disputes import DecisionKind, Dispute, DisputeStatus
from contribnet.domain.events import Id, Text
from contribnet.domain.roles import Principal, Role
from contribnet.services import disputes as dispute_service

router = APIRouter(prefix="/v1", route_class=StrictJsonRoute, tags=["disputes"])


class DisputeRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"deal": "d-1", "message": "my test drive is missing"}]},
    )

    deal: Id
    message: Text
    staff: Id | None = Field(
        default=None, description="whose line: a staff key's own by default (and only)"
    )


class ResolutionRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"decision": "accept", "reason": "gate log shows the drive", "amount": 20000}
            ]
        },
    )

    decision: DecisionKind
    reason: Text
    amount: Annotated[int, Strict(), Field(gt=0, le=10**15)] | None = Field(
        default=None, description="fen to move to the disputing staff member (accept only)"
    )
    from_staff: Id | None = Field(
        default=None, description="whom the amount comes from; default the deal's closer"
    )


class DisputeList(BaseModel):
    disputes: list[Dispute]
    total: int


@router.post(
    "/disputes",
    operation_id="openDispute",
    response_model=Dispute,
    status_code=status.HTTP_201_CREATED,
    responses={
        403: {"description": "A staff key disputing another's line; the ingest or analyst role."},
        404: {"description": "No such deal."},
        409: {"description": "No settled line of the staff member on the deal, or one open."},
        422: {"description": "A missing message or staff member, named."},
    },
    summary="Dispute a line of a statement",
)
def open_dispute(
    body: DisputeRequest,
    store: StoreDep,
    principal: Annotated[Principal, Depends(require_roles("staff", "leader"))],
) -> Dispute:
    """A staff key disputes its own line (`staff` defaults to it; another's is a 403); a leader
    or admin may open one on a staff member's behalf, naming `staff`."""
    return dispute_service.open_dispute(
        store, body.deal, body.message, requested_by(principal), body.staff
    )


@router.get(
    "/disputes",
    operation_id="listDisputes",
    response_model=DisputeList,
    responses={403: {"description": "A staff key asking for another's disputes."}},
    summary="Disputes, open or resolved, by staff member and the deals' close",
)
def list_disputes(
    store: StoreDep,
    principal: Annotated[Principal, Depends(require_roles("staff", "leader"))],
    dispute_status: Annotated[
        DisputeStatus | None, Query(alias="status", description="open or resolved")
    ] = None,
    staff: Annotated[str | None, Query(description="the disputing staff member")] = None,
    start: Annotated[
        date | None, Query(alias="from", description="first close day (China Standard Time)")
    ] = None,
    end: Annotated[
        date | None,
        Query(alias="to", description="last close day (China Standard Time), inclusive"),
    ] = None,
) -> DisputeList:
    """A staff key sees its own disputes only."""
    if principal.role is Role.STAFF:
        staff = staff or principal.staff
        require_own_staff(principal, staff or "")
    found = dispute_service.list_disputes(
        store, status=dispute_status, staff=staff, start=start, end=end
    )
    return DisputeList(disputes=found, total=len(found))


@router.post(
    "/disputes/{dispute_id}/resolution",
    operation_id="resolveDispute",
    response_model=Dispute,
    responses={
        403: {"description": "Not a leader or admin key; or the disputing staff member's own."},
        404: {"description": "No such dispute."},
        409: {"description": "Resolved already; or the adjustment conflicts with the ledger."},
        422: {"description": "A bad decision, reason, amount or from_staff, named."},
    },
    summary="Resolve a dispute: accept (optionally moving fen) or reject",
)
def resolve_dispute(
    dispute_id: Annotated[str, Path(examples=["dp-5b0e9d4c1a2f3e6d7c8b"])],
    body: ResolutionRequest,
    store: StoreDep,
    principal: Annotated[Principal, Depends(require_roles("leader"))],
) -> Dispute:
    """Accepting with an `amount` records the adjustment `adj-{dispute id}` of that many fen to
    the disputing staff member from `from_staff` (default: the deal's closer), under the
    ledger's rules (`from_staff` must hold it). A dispute is resolved once (again: 409); the
    disputing staff member never resolves it (403)."""
    return dispute_service.resolve_dispute(
        store,
        dispute_id,
        body.decision,
        body.reason,
        requested_by(principal),
        amount=body.amount,
        from_staff=body.from_staff,
    )

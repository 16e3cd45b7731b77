"""The audit trail: every change touching one id. Read-only: no route edits or deletes it."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel, Field

from contribnet.api.auth import require_roles
from contribnet.api.deps import StoreDep
from contribnet.api.limits import StrictJsonRoute
from contribnet.domain.audit import AuditEntry
from contribnet.domain.roles import Principal, Role
from contribnet.services import audit as audit_service

router = APIRouter(prefix="/v1", route_class=StrictJsonRoute, tags=["audit"])


class AuditTrail(BaseModel):
    """The entries touching one id, oldest first."""

    target: str
    entries: list[AuditEntry]
    total: int = Field(description="how many entries")


@router.get(
    "/audit",
    operation_id="getAuditTrail",
    response_model=AuditTrail,
    responses={
        403: {"description": "The ingest role; a staff key asking about anything but itself."},
        422: {"description": "A missing target or a bad period, named."},
    },
    summary="Every change touching one id: when, by which key and role, and why",
)
def get_audit_trail(
    store: StoreDep,
    principal: Annotated[Principal, Depends(require_roles("leader", "analyst", "staff"))],
    target: Annotated[
        str,
        Query(min_length=1, max_length=200, description="any id", examples=["d-1"]),
    ],
    start: Annotated[
        date | None, Query(alias="from", description="first day (China Standard Time)")
    ] = None,
    end: Annotated[
        date | None, Query(alias="to", description="last day (China Standard Time), inclusive")
    ] = None,
) -> AuditTrail:
    """Events written and voided (one entry per batch, listing every event written and the
    customers and staff they name), settlements and the ones superseding them, adjustments,
    policy versions, API keys created and revoked, flag reviews, redemptions, disputes opened
    and resolved. Admins, leaders and analysts read any id's trail; a staff key reads only the
    trail of its own staff id (what was recorded about them, and what they did), each entry
    listing that id alone (`targets_total` still counts every record touched). Append-only:
    there is no route to edit or delete an entry."""
    if principal.role is Role.STAFF and target != principal.staff:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "a staff key reads only its own staff id's trail"
        )
    staff_key = principal.role is Role.STAFF
    entries = audit_service.trail(store, target, start, end, hide_others=staff_key)
    return AuditTrail(target=target, entries=entries, total=len(entries))

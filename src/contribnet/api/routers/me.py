"""``/v1/me``: who the key is; ``/v1/staff/{id}/view``: a staff member's own view of their pay
(credit by month, each deal explained, contributions that did not count). A staff key sees only
its own; leaders and admins any staff member's."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel

from contribnet.api.auth import require_own_staff, require_roles
from contribnet.api.deps import StoreDep
from contribnet.domain.roles import Principal
from contribnet.services.staff_view import StaffView, staff_view

router = APIRouter(prefix="/v1", tags=["reports"])


class Me(BaseModel):
    """The caller's role, and for a staff key the staff member it stands for."""

    role: str
    staff: str | None = None


@router.get("/me", response_model=Me, summary="The caller's role (and staff member)")
def get_me(
    principal: Annotated[Principal, Depends(require_roles("analyst", "leader", "staff"))],
) -> Me:
    """What the key is: the page shows a staff key its own view, a leader the network. Ingest
    keys read nothing, this included."""
    return Me(role=principal.role.value, staff=principal.staff)


@router.get(
    "/staff/{staff_id}/view",
    operation_id="getStaffView",
    response_model=StaffView,
    responses={
        403: {"description": "A staff key asking for someone else's view."},
        404: {"description": "No such staff member."},
    },
    summary="A staff member's own view: credit by month, each deal explained, what did not count",
)
def get_staff_view(
    staff_id: Annotated[str, Path(examples=["sf-sh-nio-1-01"])],
    store: StoreDep,
    principal: Annotated[Principal, Depends(require_roles("leader", "staff"))],
    start: Annotated[
        date | None, Query(alias="from", description="first close day (China Standard Time)")
    ] = None,
    end: Annotated[
        date | None, Query(alias="to", description="last close day (China Standard Time)")
    ] = None,
) -> StaffView:
    """Per deal closed in the period that credits the staff member: the amount, the share, the
    sentence explaining it and each touch with its weight and the total it is divided by; the
    months' totals; and the staff member's contributions on those deals that earned nothing,
    with the reason. A staff key reads only its own view."""
    require_own_staff(principal, staff_id)
    return staff_view(store, staff_id, start, end)

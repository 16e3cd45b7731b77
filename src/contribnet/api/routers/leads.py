"""Lead pools: reclaim the leads not followed up in time, and a lead's holding history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field

from contribnet.api.auth import require_roles
from contribnet.api.deps import SettingsDep, StoreDep
from contribnet.api.limits import StrictJsonRoute
from contribnet.domain.events import UtcDatetime
from contribnet.domain.roles import Principal
from contribnet.services import leads as leads_service

router = APIRouter(prefix="/v1", route_class=StrictJsonRoute, tags=["leads"])

Leaders = Annotated[Principal, Depends(require_roles("leader"))]
Readers = Annotated[Principal, Depends(require_roles("analyst", "leader"))]


class ReclaimRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"at": "2025-01-10T00:00:00Z"}]}
    )

    at: UtcDatetime | None = Field(
        default=None, description="reclaim as of this instant (ISO 8601); default: now"
    )


@router.post(
    "/leads:reclaim",
    operation_id="reclaimLeads",
    response_model=leads_service.ReclaimResult,
    responses={422: {"description": "A bad field, named."}},
    summary="Reclaim into the pool the leads whose holder did not follow up in time",
)
def post_reclaim(
    store: StoreDep, settings: SettingsDep, _: Leaders, body: ReclaimRequest | None = None
) -> leads_service.ReclaimResult:
    """Finds, as of `at` (default now), every lead whose holder did not touch the customer or
    log an activity naming them between the assignment and its deadline (the assignment plus the
    pool policy's follow-up hours of the holder's region, `CONTRIBNET_POOL_POLICY`), and records
    a `lead_assignment` with reason `reclaimed` for each, at the deadline. Idempotent: the
    reclaim of a holding always has the same id and content, so running it again (or twice at
    once) records nothing new (`accepted` 0, the rest `duplicates`)."""
    policy = leads_service.load_pool_policy(settings.pool_policy)
    return leads_service.reclaim(
        store,
        body.at if body else None,
        policy,
        settings.stages,
        settings.actions,
    )


@router.get(
    "/leads/{customer_id}",
    operation_id="getLeadHistory",
    response_model=leads_service.LeadHistory,
    responses={404: {"description": "Nothing is recorded of that customer."}},
    summary="Who held a lead (a customer) when",
)
def get_lead_history(
    customer_id: Annotated[str, Path(examples=["c-0000007"])], store: StoreDep, _: Readers
) -> Any:
    """The lead's holder now (null: in the pool, or never assigned) and its holding history
    `[{staff, from, to, reason, assignment, ended_by}]`: each holding from the assignment that
    gave it (`reason` assigned or reassigned) to the next assignment (`ended_by` reclaimed or
    reassigned; `to` null while held). Voided assignments do not count."""
    return leads_service.lead_history(store, customer_id)

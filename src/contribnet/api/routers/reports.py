"""Reports on settled credit: statements, roll-ups, and what-if simulations of two policies."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from contribnet.api.auth import require_own_staff, require_roles
from contribnet.api.contract import ModelName
from contribnet.api.deps import StoreDep
from contribnet.api.limits import StrictJsonRoute
from contribnet.domain.roles import Principal
from contribnet.services import reports

router = APIRouter(prefix="/v1", route_class=StrictJsonRoute, tags=["reports"])

From = Annotated[
    date | None,
    Query(
        alias="from", description="first close day (China Standard Time)", examples=["2025-01-01"]
    ),
]
To = Annotated[
    date | None,
    Query(
        alias="to",
        description="last close day (China Standard Time), inclusive",
        examples=["2025-01-31"],
    ),
]


@router.get(
    "/staff/{staff_id}/statement",
    operation_id="getStaffStatement",
    response_model=reports.Statement,
    responses={
        200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with `format=csv`."},
        403: {"description": "A staff key asking for someone else's statement."},
        404: {"description": "No such staff member."},
    },
    summary="A staff member's statement for the deals closed in a period",
)
def get_statement(
    staff_id: Annotated[str, Path(examples=["sf-sh-nio-1-01"])],
    store: StoreDep,
    principal: Annotated[Principal, Depends(require_roles("leader", "staff"))],
    start: From = None,
    end: To = None,
    format: Annotated[Literal["json", "csv"], Query(description="json or csv")] = "json",
) -> Any:
    """Per deal: the amount, the share, the touches that earned it by stage, and the sentence
    explaining it; the adjustments moving credit to or from the staff member; their disputes,
    open and resolved (an accepted one's adjustment is among the adjustments); the totals
    (settled + adjustments). A staff key reads only its own statement."""
    require_own_staff(principal, staff_id)
    statement = reports.statement(store, staff_id, start, end)
    if format == "csv":
        name = f"statement-{staff_id}-{start or 'start'}-{end or 'now'}.csv"
        return Response(
            reports.statement_csv(statement),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return statement


@router.get(
    "/rollups",
    operation_id="getRollup",
    response_model=reports.Rollup,
    summary="Credit per staff member, store, brand, city or region, with assists",
)
def get_rollup(
    store: StoreDep,
    _: Annotated[Principal, Depends(require_roles("leader", "analyst"))],
    level: Annotated[
        Literal["staff", "store", "brand", "city", "region"], Query(description="how to group")
    ] = "store",
    start: From = None,
    end: To = None,
) -> reports.Rollup:
    """Amounts credited by current settlements (and adjustments) on the deals closed in the
    period; ``assist_*`` counts credit earned on deals that another unit of the same level
    closed -- another staff member, store, brand, city or region."""
    return reports.rollup(store, level, start, end)


class SimulationRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "policy_a": "default@1",
                    "policy_b": {"name": "what-if", "stage_weights": {"test_drive": 40.0}},
                    "from": "2025-01-01",
                    "to": "2025-01-31",
                }
            ]
        },
    )

    policy_a: str | dict[str, Any] = Field(
        description="a recorded version (`name@version` or a name) or a policy's keys inline"
    )
    policy_b: str | dict[str, Any]
    model_a: ModelName | None = Field(default=None, description="default: policy_a's model")
    model_b: ModelName | None = Field(default=None, description="default: policy_b's model")
    from_: date | None = Field(default=None, alias="from")
    to: date | None = None


@router.post(
    "/simulations",
    operation_id="simulatePolicies",
    response_model=reports.Simulation,
    responses={422: {"description": "A bad policy, model or period (too many deals), named."}},
    summary="Compare two policies on the deals closed in a period (nothing is written)",
)
async def post_simulation(
    store: StoreDep,
    _: Annotated[Principal, Depends(require_roles("leader", "analyst"))],
    body: SimulationRequest,
) -> reports.Simulation:
    """Recomputes each deal under both policies: per staff member and per store, the amount
    under each and the delta. Inline policies are not recorded; nothing else is either."""
    return await run_in_threadpool(
        reports.simulate,
        store,
        body.policy_a,
        body.policy_b,
        body.from_,
        body.to,
        model_a=body.model_a,
        model_b=body.model_b,
    )

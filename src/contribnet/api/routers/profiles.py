"""Advisor profiles, leaderboards and the advisors whose activity is falling.

``/v1/staff/at-risk`` is a fixed path under ``/v1/staff/{id}``: the app includes this router
before the one serving ``/v1/staff/{id}``, so that the fixed path is matched first.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.concurrency import run_in_threadpool

from contribnet.api.auth import require_own_staff, require_roles
from contribnet.api.deps import SettingsDep, StoreDep
from contribnet.api.limits import StrictJsonRoute
from contribnet.domain.roles import Principal
from contribnet.graph.profiles import Metric
from contribnet.services import profiles

router = APIRouter(prefix="/v1", route_class=StrictJsonRoute, tags=["profiles"])

Readers = Annotated[Principal, Depends(require_roles("analyst", "leader"))]

From = Annotated[
    date | None,
    Query(alias="from", description="first day (China Standard Time)", examples=["2025-01-01"]),
]
To = Annotated[
    date | None,
    Query(
        alias="to", description="last day (China Standard Time), inclusive", examples=["2025-03-31"]
    ),
]


@router.get(
    "/staff/at-risk",
    operation_id="listAtRiskStaff",
    response_model=profiles.AtRiskList,
    responses={422: {"description": "A bad window or threshold, named."}},
    summary="Advisors whose activity fell by more than a share over the last weeks",
)
async def get_at_risk(
    store: StoreDep,
    settings: SettingsDep,
    _: Readers,
    weeks: Annotated[int, Query(ge=1, le=52, description="weeks in each window")] = 4,
    drop: Annotated[
        float | None,
        Query(gt=0, lt=1, description="the fall (a share) to exceed; default: settings"),
    ] = None,
    start: Annotated[
        date | None,
        Query(alias="from", description="first day of the recent window (default: `weeks` back)"),
    ] = None,
    end: Annotated[
        date | None,
        Query(alias="to", description="last day of the recent window (default: today)"),
    ] = None,
) -> profiles.AtRiskList:
    """Advisors employed on the recent window's last day whose activity -- touches plus
    activities -- fell from the earlier window (as many days, just before) to the recent one by
    more than `drop` (default `CONTRIBNET_AT_RISK_DROP`, 0.5): each with `before`, `after` and
    `fall = (before - after) / before`, steepest fall first."""
    threshold = settings.at_risk_drop if drop is None else drop
    return await run_in_threadpool(profiles.at_risk, store, threshold, weeks, start, end)


@router.get(
    "/staff/{staff_id}/profile",
    operation_id="getStaffProfile",
    response_model=profiles.ProfileView,
    response_model_by_alias=True,
    responses={
        403: {"description": "A staff key asking for someone else's profile."},
        404: {"description": "No such staff member."},
        422: {"description": "A bad period, named."},
    },
    summary="A staff member's profile by stage, beside the region's advisors",
)
async def get_profile(
    staff_id: Annotated[str, Path(examples=["sf-sh-nio-1-01"])],
    store: StoreDep,
    settings: SettingsDep,
    principal: Annotated[Principal, Depends(require_roles("analyst", "leader", "staff"))],
    start: Annotated[
        date | None,
        Query(
            alias="from",
            description="first day (China Standard Time); default: 12 weeks ending on `to`",
            examples=["2025-01-01"],
        ),
    ] = None,
    end: Annotated[
        date | None,
        Query(
            alias="to",
            description="last day (China Standard Time), inclusive; default: today",
            examples=["2025-03-31"],
        ),
    ] = None,
) -> profiles.ProfileView:
    """Per stage: touches, customers touched, deals contributed to, customers converted (their
    touch counted on a deal closed in the period), conversion (converted / customers), credit
    earned (fen, current settlements), assists given (fen earned on deals
    others closed) and received (fen paid to others on deals this staff member closed); in all,
    with activity points and activity (touches + activities). Each figure beside the average and
    the top decile (90th percentile) of the advisors of the staff member's region over the same
    period. Without `from` and `to` the period is the last 12 weeks up to today (a profile is
    about recent performance). A staff key reads only its own."""
    require_own_staff(principal, staff_id)
    return await run_in_threadpool(
        profiles.staff_profile, store, staff_id, start, end, settings.stages
    )


@router.get(
    "/leaderboards",
    operation_id="getLeaderboard",
    response_model=profiles.Leaderboard,
    response_model_by_alias=True,
    responses={422: {"description": "An unknown metric or a bad period, named."}},
    summary="Advisors ranked by credit, deals, touches, points or conversion",
)
async def get_leaderboard(
    store: StoreDep,
    _: Readers,
    metric: Annotated[Metric, Query(description="what to rank by")],
    region: Annotated[str | None, Query(max_length=200, examples=["East"])] = None,
    brand: Annotated[str | None, Query(max_length=200, examples=["onvo"])] = None,
    start: From = None,
    end: To = None,
    limit: Annotated[int, Query(ge=1, le=500, description="rows")] = 20,
) -> profiles.Leaderboard:
    """The advisors (their home store's region and brand, if given) ranked by `metric` over
    the period, highest first, then by id."""
    return await run_in_threadpool(
        profiles.leaderboard, store, metric, start, end, region=region, brand=brand, limit=limit
    )

"""Fraud signals: the flags of a period (JSON or CSV), and a leader's review of one."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from contribnet.api.auth import require_roles
from contribnet.api.deps import SettingsDep, StoreDep
from contribnet.api.limits import StrictJsonRoute
from contribnet.api.routers.credit import requested_by
from contribnet.domain.events import Text
from contribnet.domain.flags import Decision, Flag, FlagKind, FlagReview
from contribnet.domain.roles import Principal
from contribnet.services import flags as flags_service

router = APIRouter(prefix="/v1", route_class=StrictJsonRoute, tags=["flags"])

#: Flags name staff and customers under suspicion: leaders (and admins) only.
Leaders = Annotated[Principal, Depends(require_roles("leader"))]

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


class FlagList(BaseModel):
    """The flags of a period, by time then id."""

    flags: list[Flag]
    total: int = Field(description="how many flags")


@router.get(
    "/flags",
    operation_id="listFlags",
    response_model=FlagList,
    responses={
        200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with `format=csv`."},
        403: {"description": "A role other than leader or admin."},
        422: {"description": "A bad period or kind, named."},
    },
    summary="Suspicious records of a period: the fraud rules' flags, with their reviews",
)
def list_flags(
    store: StoreDep,
    settings: SettingsDep,
    _: Leaders,
    start: From = None,
    end: To = None,
    kind: Annotated[
        list[FlagKind] | None,
        Query(description="only flags of these rules (repeatable)", examples=["grab"]),
    ] = None,
    format: Annotated[Literal["json", "csv"], Query(description="json or csv")] = "json",
) -> Any:
    """Each flag names its rule (`kind`), the records involved (`records`), the suspects among
    them (what a confirmation voids), the staff, customers and deals concerned, and a plain
    `reason`. Its `id` is derived from the rule and the records, so it is the same on every
    call. Rules: `late_log`, `outside_employment`, `impossible_travel`, `touch_burst`,
    `referral_ring`, `evidence_reuse`, `grab` (README, Fraud signals); thresholds from
    `CONTRIBNET_FLAG_RULES`."""
    flags = flags_service.list_flags(store, start, end, kind, settings.flag_rules)
    if format == "csv":
        return Response(
            flags_service.flags_csv(flags),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="flags.csv"'},
        )
    return FlagList(flags=flags, total=len(flags))


class ReviewRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"decision": "confirm", "reason": "no test drive that day (gate log)"}]
        },
    )

    decision: Decision = Field(
        description="dismiss (recorded only) or confirm (voids the suspect records)"
    )
    reason: Text


@router.post(
    "/flags/{flag_id}/review",
    operation_id="reviewFlag",
    response_model=FlagReview,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"description": "The same decision and reason again: the recorded review."},
        403: {"description": "A role other than leader or admin."},
        404: {"description": "No rule raises that flag now (and it was never reviewed)."},
        409: {"description": "The flag was reviewed with another decision or reason."},
        422: {"description": "A bad decision or reason, named."},
    },
    summary="Review a flag: dismiss it, or confirm it (voiding its suspect records)",
)
def review_flag(
    flag_id: Annotated[str, Path(examples=["fl-grab-40b62fca5b570573"])],
    store: StoreDep,
    settings: SettingsDep,
    principal: Leaders,
    response: Response,
    body: ReviewRequest,
) -> FlagReview:
    """A flag is reviewed once. `confirm` voids its suspect records with the reason, through
    the ordinary void events (`v-{flag id}-{n}`); `dismiss` records the review only. Either way
    the flag shows its review from then on."""
    review, created = flags_service.review_flag(
        store,
        flag_id,
        body.decision,
        body.reason,
        requested_by(principal),
        rules=settings.flag_rules,
        stages=settings.stages,
        actions=settings.actions,
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return review

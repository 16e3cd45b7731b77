"""Activity points: an account's ledger (JSON or CSV), redemptions and their reversals, and the
points policy versions."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from contribnet.api.auth import require_own_staff, require_roles
from contribnet.api.deps import SettingsDep, StoreDep
from contribnet.api.limits import StrictJsonRoute
from contribnet.api.routers.credit import requested_by
from contribnet.domain import strict_json
from contribnet.domain.events import Id, Text
from contribnet.domain.points import (
    MAX_POINTS,
    HolderKind,
    PointsPolicy,
    PointsPolicyRecord,
    Redemption,
    Reversal,
)
from contribnet.domain.roles import Principal
from contribnet.domain.settlement import InvalidRequest
from contribnet.services import points as points_service

router = APIRouter(prefix="/v1", route_class=StrictJsonRoute, tags=["points"])

Leaders = Annotated[Principal, Depends(require_roles("leader"))]
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
Format = Annotated[Literal["json", "csv"], Query(description="json or csv")]
Bom = Annotated[bool, Query(description="CSV only: start with a UTF-8 byte-order mark (for Excel)")]

_STATEMENT: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with `format=csv`."},
    404: {"description": "Nothing is recorded of that account holder."},
    422: {"description": "A bad period, named."},
}


def _answer(statement: points_service.PointsStatement, fmt: str, bom: bool) -> Any:
    if fmt != "csv":
        return statement
    start = statement.from_ or "start"
    end = statement.to or "now"
    name = f"points-{statement.holder}-{start}-{end}.csv"
    return Response(
        points_service.points_csv(statement, bom=bom),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/staff/{staff_id}/points",
    operation_id="getStaffPoints",
    response_model=points_service.PointsStatement,
    responses={**_STATEMENT, 403: {"description": "A staff key asking for someone else's."}},
    summary="A staff member's points ledger for a period, with the balance",
)
def get_staff_points(
    staff_id: Annotated[str, Path(examples=["sf-sh-nio-1-01"])],
    store: StoreDep,
    principal: Annotated[Principal, Depends(require_roles("analyst", "leader", "staff"))],
    start: From = None,
    end: To = None,
    format: Format = "json",
    bom: Bom = False,
) -> Any:
    """Every entry of the period in time order -- each activity's points (the points policy
    version and region that priced it, what the daily cap left of it), redemptions (negative)
    and their reversals -- with the balance before the period (`opening`), at its end
    (`balance`) and now (`available`). A staff key reads only its own. `format=csv` gives the
    same as CSV with the running balance."""
    require_own_staff(principal, staff_id)
    statement = points_service.points_statement(store, "staff", staff_id, start, end)
    return _answer(statement, format, bom)


@router.get(
    "/customers/{customer_id}/points",
    operation_id="getOwnerPoints",
    response_model=points_service.PointsStatement,
    responses=_STATEMENT,
    summary="An owner's points ledger for a period (owner referrals), with the balance",
)
def get_owner_points(
    customer_id: Annotated[str, Path(examples=["c-0000007"])],
    store: StoreDep,
    _: Readers,
    start: From = None,
    end: To = None,
    format: Format = "json",
    bom: Bom = False,
) -> Any:
    """The points an owner (a customer) earned for referrals -- those of the current settlement
    of each deal they are credited on, at its close -- their redemptions and reversals, and the
    balances, as for a staff member."""
    statement = points_service.points_statement(store, "owner", customer_id, start, end)
    return _answer(statement, format, bom)


class RedemptionRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "rd-2025-03-0001",
                    "staff": "sf-sh-nio-1-01",
                    "points": 120,
                    "reason": "10 extra leads from the March pool",
                }
            ]
        },
    )

    id: Id = Field(description="an id of your choosing: the request is idempotent by it")
    staff: Id | None = Field(default=None, description="whose points: a staff member ...")
    owner: Id | None = Field(default=None, description="... or an owner (customer)")
    points: int = Field(strict=True, gt=0, le=MAX_POINTS, description="whole points")
    reason: Text


class RedemptionView(Redemption):
    """A redemption, and its reversal if it was reversed."""

    reversal: Reversal | None = None


@router.post(
    "/points/redemptions",
    operation_id="redeemPoints",
    response_model=Redemption,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"description": "The same id and content again: the recorded redemption."},
        409: {"description": "That id is recorded with other content."},
        422: {"description": "A bad field, or more points than the balance holds; named."},
    },
    summary="Redeem points (never more than the balance)",
)
def post_redemption(
    store: StoreDep, principal: Leaders, response: Response, body: RedemptionRequest
) -> Redemption:
    """Spends points of a staff member's (`staff`) or an owner's (`owner`) account: a ledger
    entry of minus `points`. Refused (422 naming `points`) if the balance does not cover it;
    the balance is computed in the store's write transaction with the account locked, so
    parallel redemptions never overdraw. Idempotent by `id`."""
    if (body.staff is None) == (body.owner is None):
        raise InvalidRequest.one("staff", "give exactly one of 'staff' and 'owner'")
    kind: HolderKind = "staff" if body.staff is not None else "owner"
    holder = body.staff if body.staff is not None else body.owner
    assert holder is not None
    redemption, created = points_service.redeem(
        store, body.id, kind, holder, body.points, body.reason, requested_by(principal)
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return redemption


@router.get(
    "/points/redemptions/{redemption_id}",
    operation_id="getRedemption",
    response_model=RedemptionView,
    responses={404: {"description": "No such redemption."}},
    summary="A redemption, and its reversal if any",
)
def get_redemption(
    redemption_id: Annotated[str, Path(examples=["rd-2025-03-0001"])],
    store: StoreDep,
    _: Readers,
) -> RedemptionView:
    redemption, reversal = points_service.find_redemption(store, redemption_id)
    return RedemptionView(**dict(redemption), reversal=reversal)


class ReversalRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reason": "the leads were never assigned"}]},
    )

    reason: Text


@router.post(
    "/points/redemptions/{redemption_id}/reversal",
    operation_id="reverseRedemption",
    response_model=Reversal,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"description": "The same reversal again: the recorded one."},
        404: {"description": "No such redemption."},
        409: {"description": "The redemption was reversed with another reason."},
    },
    summary="Give a redemption's points back (once)",
)
def post_reversal(
    redemption_id: Annotated[str, Path(examples=["rd-2025-03-0001"])],
    store: StoreDep,
    principal: Leaders,
    response: Response,
    body: ReversalRequest,
) -> Reversal:
    """A ledger entry of plus the redemption's points; a redemption is reversed at most once
    (the same reason again answers the recorded reversal)."""
    reversal, created = points_service.reverse(
        store, redemption_id, body.reason, requested_by(principal)
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return reversal


_TOML_TYPES = ("application/toml", "text/plain", "text/x-toml", "application/x-toml")
_EXAMPLE_TOML = """name = "points"
effective_from = 2025-03-01
description = "Store invitations weigh less in the East."

[region_actions.East]
store_invite = 3
"""


@router.post(
    "/points/policies",
    operation_id="createPointsPolicy",
    response_model=PointsPolicyRecord,
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"description": "The same version with identical values again: the recorded one."},
        409: {"description": "That name@version is recorded with other values."},
        422: {"description": "Not TOML/JSON, an unknown key, action or a bad value; named."},
    },
    summary="Add a points policy version (never an edit)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": PointsPolicy.model_json_schema(),
                    "example": {
                        "name": "points",
                        "effective_from": "2025-03-01",
                        "region_actions": {"East": {"store_invite": 3}},
                    },
                },
                "application/toml": {"schema": {"type": "string"}, "example": _EXAMPLE_TOML},
            },
        }
    },
)
async def post_points_policy(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    principal: Annotated[Principal, Depends(require_roles())],
    response: Response,
) -> PointsPolicyRecord:
    """The body is a points policy in TOML (``Content-Type: application/toml``, as in
    ``policies/points/default.toml``) or the same keys as JSON. ``effective_from`` is required;
    ``name`` defaults to ``points``; without ``version`` the next whole number is assigned. The
    version in force on an activity's day (China Standard Time) prices it: the latest
    ``effective_from`` on or before that day; of versions with the same ``effective_from``, the
    one recorded last."""
    raw = await request.body()
    kind = request.headers.get("content-type", "application/json").split(";")[0].strip()
    data: dict[str, Any] | str
    if kind in _TOML_TYPES:
        try:
            data = raw.decode()
        except UnicodeDecodeError:
            raise InvalidRequest.one("policy", "TOML must be UTF-8") from None
    else:
        try:  # strictly, as every JSON body (api/limits.py): no repeated keys, bounded depth
            data = strict_json.loads(raw or b"null")
        except strict_json.JsonRefused as exc:
            field = "policy" if exc.field == "body" else exc.field
            raise InvalidRequest.one(field, exc.message) from None
    record, created = await run_in_threadpool(
        points_service.add_points_policy, store, data, requested_by(principal), settings.actions
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return record


@router.get(
    "/points/policies",
    operation_id="listPointsPolicies",
    response_model=list[PointsPolicyRecord],
    summary="Every points policy version, in the order recorded",
)
def list_points_policies(
    store: StoreDep,
    _: Annotated[Principal, Depends(require_roles("analyst", "leader", "staff"))],
) -> list[PointsPolicyRecord]:
    return points_service.points_policies(store)

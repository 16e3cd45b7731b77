"""Credit: previews, settlements (one deal, or a period in a batch) and adjustments."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from contribnet.api.auth import require_roles
from contribnet.api.contract import ModelName
from contribnet.api.deps import SettingsDep, StoreDep, hot_read_slots
from contribnet.api.limits import StrictJsonRoute
from contribnet.credit import Split
from contribnet.domain.roles import Principal
from contribnet.domain.settlement import Adjustment, Settlement
from contribnet.services import credit as credit_service
from contribnet.services import settlement as settlement_service

router = APIRouter(prefix="/v1", route_class=StrictJsonRoute, tags=["credit"])

Readers = Annotated[Principal, Depends(require_roles("analyst", "leader"))]
Leaders = Annotated[Principal, Depends(require_roles("leader"))]
DealId = Annotated[str, Path(description="the deal's id", examples=["d-1"])]

_ERRORS: dict[int | str, dict[str, str]] = {
    404: {"description": "No such deal (or it is voided)."},
    422: {"description": "A bad parameter (unknown model or policy, no policy in force), named."},
}


def requested_by(principal: Principal) -> str:
    """Who asked, as settlements, adjustments and policies record it: the role (with the staff
    id of a staff key) and the key used, e.g. ``leader (key-97a74635e1f9)``."""
    role = principal.role.value
    who = f"{role}:{principal.staff}" if principal.staff else role
    return f"{who} ({principal.key})" if principal.key else who


class CreditPreview(Split):
    """The split the deal would be settled with now; ``policy_id`` names the version used."""

    policy_id: str = Field(
        description="the policy version used, name@version", examples=["default@1"]
    )
    held_by: list[str] = Field(
        default_factory=list,
        description="open fraud flags that hold the deal out of settlement under this policy "
        "(`hold_flagged`) until a leader reviews them; empty: settling would pay this split",
    )


@router.get(
    "/deals/{deal_id}/credit",
    operation_id="getDealCredit",
    response_model=CreditPreview,
    responses=_ERRORS,
    summary="Preview a deal's credit split (nothing is written)",
)
async def get_credit(
    deal_id: DealId,
    store: StoreDep,
    _: Readers,
    settings: SettingsDep,
    model: Annotated[
        ModelName | None,
        Query(description="a credit model; default: the policy's", examples=["shapley"]),
    ] = None,
    policy: Annotated[
        str | None,
        Query(
            description="a policy version `name@version` or a name (its latest version); "
            "default: the version in force at the deal's close",
            examples=["default@1"],
        ),
    ] = None,
) -> Response:
    """The split computed from the journey as stored now: who gets what share of the reward
    pool, in exact fen, and why. Settling with the same policy and model records this split."""
    # Previews are the hot path: a few at a time in worker threads, the rest waiting in line
    # (first come, first served) rather than all contending for the interpreter at once; and
    # the split, built by the engine's own models, is serialised once, not validated again.
    async with hot_read_slots():
        found = await run_in_threadpool(
            credit_service.preview,
            store,
            deal_id,
            model=model,
            policy=policy,
            flag_rules=settings.flag_rules,
        )
    body = CreditPreview.model_construct(
        **dict(found.split), policy_id=found.policy.id, held_by=list(found.held_by)
    )
    return Response(body.model_dump_json(), media_type="application/json")


class SettleRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{}, {"reason": "two touches logged late", "model": "shapley"}]
        },
    )

    policy: str | None = Field(
        default=None,
        description="a policy version or name; default: the version in force at the deal's close",
    )
    model: ModelName | None = Field(
        default=None, description="a credit model; default: the policy's"
    )
    reason: str | None = Field(
        default=None,
        max_length=2000,
        description="why the previous settlement is superseded; required when the inputs changed",
    )


class SettlementHistory(BaseModel):
    deal: str
    current: str | None = Field(description="the current settlement's id (the last)")
    settlements: list[Settlement] = Field(description="oldest first")


@router.post(
    "/deals/{deal_id}/settlements",
    operation_id="settleDeal",
    response_model=Settlement,
    status_code=status.HTTP_201_CREATED,
    responses={
        **_ERRORS,
        200: {"description": "Unchanged inputs: the current settlement, as recorded."},
        409: {
            "description": "Inputs changed since the deal was settled and no reason was given; "
            "or the deal is held by open fraud flags (`field`: `flags`, the flags named) under "
            "a policy with `hold_flagged`, until a leader reviews them."
        },
    },
    summary="Settle a deal: record its split, immutably",
)
def post_settlement(
    deal_id: DealId,
    store: StoreDep,
    principal: Leaders,
    response: Response,
    settings: SettingsDep,
    body: SettleRequest | None = None,
) -> Settlement:
    """Computes the split under the policy in force at the deal's close (or the one named) and
    records it with the input hash, who asked and when. Settling again with unchanged inputs
    returns the same settlement (200). After late or voided touches, or under another policy
    or model, a ``reason`` is required (else 409): the new settlement supersedes the previous
    one, which stays readable in the history."""
    body = body or SettleRequest()
    settlement, created = settlement_service.settle(
        store,
        deal_id,
        requested_by=requested_by(principal),
        policy=body.policy,
        model=body.model,
        reason=body.reason,
        flag_rules=settings.flag_rules,
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return settlement


@router.get(
    "/deals/{deal_id}/settlements",
    operation_id="listDealSettlements",
    response_model=SettlementHistory,
    responses=_ERRORS,
    summary="A deal's settlements, oldest first",
)
def get_settlements(deal_id: DealId, store: StoreDep, _: Readers) -> SettlementHistory:
    chain = settlement_service.history(store, deal_id)
    return SettlementHistory(
        deal=deal_id, current=chain[-1].id if chain else None, settlements=chain
    )


@router.get(
    "/settlements/{settlement_id}",
    response_model=Settlement,
    responses={404: {"description": "No such settlement."}},
    summary="One settlement by id",
)
def get_settlement(settlement_id: str, store: StoreDep, _: Readers) -> Settlement:
    return store.ledger.settlement(settlement_id)


class BatchRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        json_schema_extra={"examples": [{"from": "2025-01-01", "to": "2025-01-31"}]},
    )

    from_: date | None = Field(default=None, alias="from", description="first close day (CST)")
    to: date | None = Field(default=None, description="last close day (CST), inclusive")
    policy: str | None = Field(default=None, description="default: in force at each close")
    model: ModelName | None = Field(default=None, description="default: the policy's")


class BatchResult(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "total": 1200,
                    "done": 1200,
                    "created": 1198,
                    "existing": 0,
                    "skipped": 1,
                    "failures": 1,
                    "failed": [
                        {
                            "deal": "d-9",
                            "message": "policy: no policy is "
                            "in force on 2024-10-30 (before every "
                            "effective_from): name one",
                        }
                    ],
                    "finished": True,
                }
            ]
        }
    )

    total: int = Field(description="unsettled deals in the period when the batch started")
    done: int = Field(description="deals looked at so far")
    created: int = Field(description="settlements recorded")
    existing: int = Field(description="already recorded (a restarted batch)")
    skipped: int = Field(description="settled or voided meanwhile by someone else")
    failures: int = Field(description="deals that could not be settled (left unsettled)")
    failed: list[dict[str, str]] = Field(description="the first 100 failures")
    held: int = Field(
        default=0,
        description="deals held out of settlement by open fraud flags (policy `hold_flagged`), "
        "left unsettled until a leader reviews the flags",
    )
    held_by: list[dict[str, str | list[str]]] = Field(
        default_factory=list, description="the first 100 held deals, each with its open flags"
    )
    finished: bool


def _result(progress: settlement_service.BatchProgress) -> BatchResult:
    return BatchResult(
        total=progress.total,
        done=progress.done,
        created=progress.created,
        existing=progress.existing,
        skipped=progress.skipped,
        failures=progress.failures,
        failed=[{"deal": d, "message": m} for d, m in progress.failed],
        held=progress.held,
        held_by=[{"deal": d, "flags": list(f)} for d, f in progress.held_by],
        finished=progress.finished,
    )


@router.post(
    "/settlements:batch",
    operation_id="settlePeriod",
    response_model=BatchResult,
    responses={
        200: {
            "description": "The batch's outcome; with `Accept: application/x-ndjson`, one "
            "progress line (the same fields) after each chunk, the last with `finished: true`.",
            "content": {"application/x-ndjson": {}},
        },
        422: {"description": "A bad period, policy or model, named."},
    },
    summary="Settle every unsettled deal closed in a period",
)
async def post_batch(
    request: Request,
    store: StoreDep,
    principal: Leaders,
    settings: SettingsDep,
    body: BatchRequest,
) -> BatchResult | StreamingResponse:
    """Restartable: a batch that is stopped or crashes has recorded whole chunks; running it
    again settles only the deals still unsettled, so every deal is settled exactly once."""
    progress = settlement_service.settle_period(
        store,
        body.from_,
        body.to,
        requested_by=requested_by(principal),
        policy=body.policy,
        model=body.model,
        flag_rules=settings.flag_rules,
    )
    first = await run_in_threadpool(next, progress)  # validates the request before any output
    if "application/x-ndjson" in request.headers.get("accept", ""):

        def lines() -> Iterator[bytes]:
            yield _result(first).model_dump_json().encode() + b"\n"
            try:
                for step in progress:
                    yield _result(step).model_dump_json().encode() + b"\n"
            except Exception as exc:  # the client sees why the stream stopped
                yield json.dumps({"error": str(exc)}).encode() + b"\n"

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    def run() -> settlement_service.BatchProgress:
        last = first
        for step in progress:
            last = step
        return last

    return _result(await run_in_threadpool(run))


class AdjustmentRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "adj-2025-01-d-1",
                    "from_staff": "sf-y",
                    "to_staff": "sf-x",
                    "amount": 20000,
                    "reason": "X ran the second test drive; the log was lost",
                }
            ]
        },
    )

    id: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="an id of your choosing makes the request idempotent",
    )
    from_staff: str = Field(min_length=1)
    to_staff: str = Field(min_length=1)
    amount: int = Field(gt=0, le=10**15, description="fen")
    reason: str = Field(min_length=1, max_length=2000)


@router.post(
    "/deals/{deal_id}/adjustments",
    operation_id="adjustDealCredit",
    response_model=Adjustment,
    status_code=status.HTTP_201_CREATED,
    responses={
        **_ERRORS,
        200: {"description": "The same id and content again: the recorded adjustment."},
        409: {"description": "That id is recorded with other content."},
    },
    summary="Move part of a settled deal's credit between staff members",
)
def post_adjustment(
    deal_id: DealId,
    store: StoreDep,
    principal: Leaders,
    response: Response,
    body: AdjustmentRequest,
) -> Adjustment:
    """Append-only: an adjustment is never edited; it shows in both staff members' statements
    and in roll-ups. ``from_staff`` must hold at least ``amount`` on the deal."""
    adjustment, created = settlement_service.adjust(
        store,
        deal_id,
        from_staff=body.from_staff,
        to_staff=body.to_staff,
        amount=body.amount,
        reason=body.reason,
        requested_by=requested_by(principal),
        adjustment_id=body.id,
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return adjustment


@router.get(
    "/deals/{deal_id}/adjustments",
    operation_id="listDealAdjustments",
    response_model=list[Adjustment],
    summary="A deal's adjustments, in the order recorded",
)
def get_adjustments(deal_id: DealId, store: StoreDep, _: Readers) -> list[Adjustment]:
    return store.ledger.adjustments(deal=deal_id)

"""Payroll's listing of a period's settlements (JSON pages with a ``next`` link, or CSV), and the
re-derivation of one settlement from the events and the policy version it recorded."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import Field

from contribnet.api.auth import require_roles
from contribnet.api.deps import StoreDep
from contribnet.domain.roles import Principal
from contribnet.services import payroll
from contribnet.services import verify as verify_service

router = APIRouter(prefix="/v1", tags=["payroll"])

#: Payroll reads everyone's credit: leaders and analysts (and admins); staff keys may not.
PayrollReaders = Annotated[Principal, Depends(require_roles("leader", "analyst"))]


class SettlementListing(payroll.SettlementPage):
    next: str | None = Field(
        default=None, description="the next page's URL (same filters); null on the last page"
    )


@router.get(
    "/settlements",
    response_model=SettlementListing,
    responses={
        200: {
            "content": {"text/csv": {}},
            "description": "JSON pages, or with `format=csv` the whole listing as CSV "
            "(one row per deal and person credited).",
        },
        403: {"description": "A role that may not read payroll (staff, ingest)."},
        422: {"description": "A bad period, cursor, limit or unknown staff member, named."},
    },
    summary="The current settlements of the deals closed in a period (payroll)",
    operation_id="listSettlements",
)
async def list_settlements(
    request: Request,
    store: StoreDep,
    _: PayrollReaders,
    start: Annotated[
        date | None,
        Query(alias="from", description="first close day (China Standard Time)"),
    ] = None,
    end: Annotated[
        date | None,
        Query(alias="to", description="last close day (China Standard Time), inclusive"),
    ] = None,
    at_store: Annotated[
        str | None,
        Query(
            alias="store",
            description="only deals closed at this store or crediting someone for it",
            examples=["st-sh-nio-1"],
        ),
    ] = None,
    staff: Annotated[
        str | None, Query(description="only deals crediting this staff member")
    ] = None,
    cursor: Annotated[
        str | None, Query(description="the `cursor` of the previous page, as given")
    ] = None,
    limit: Annotated[
        int, Query(ge=1, le=payroll.MAX_LIMIT, description="settlements per page")
    ] = 100,
    format: Annotated[Literal["json", "csv"], Query(description="json or csv")] = "json",
    bom: Annotated[
        bool, Query(description="CSV only: start with a UTF-8 byte-order mark (for Excel)")
    ] = False,
) -> Any:
    """Pages in the order of the ledger (close, then deal). Follow `next` until it is null to
    list every settlement once. The CSV holds the whole listing (from `cursor` on) with names
    beside ids: deal, closed_at (RFC 3339, UTC), deal_store, settlement, policy, model, kind,
    person, name, store, share, amount_fen, amount (yuan), points."""
    if format == "csv":
        chunks = await run_in_threadpool(
            payroll.settlements_csv,
            store,
            start,
            end,
            at_store=at_store,
            staff=staff,
            cursor=cursor,
            bom=bom,
        )
        name = f"settlements-{start or 'start'}-{end or 'now'}.csv"
        return StreamingResponse(
            chunks,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    page = await run_in_threadpool(
        payroll.settlement_page,
        store,
        start,
        end,
        at_store=at_store,
        staff=staff,
        cursor=cursor,
        limit=limit,
    )
    next_url = None
    if page.cursor:  # a relative link: right behind a proxy too
        query = request.url.include_query_params(cursor=page.cursor).query
        next_url = f"{request.url.path}?{query}"
    return SettlementListing(**dict(page), next=next_url)


@router.post(
    "/settlements/{settlement_id}:verify",
    response_model=verify_service.Verification,
    responses={
        403: {"description": "A role that may not read payroll (staff, ingest)."},
        404: {"description": "No such settlement."},
    },
    summary="Compute a settlement again from the events and the policy version it recorded",
    operation_id="verifySettlement",
)
async def verify_settlement(
    settlement_id: Annotated[
        str, Path(description="the settlement's id", examples=["stl-5b0e9d4c1a2f3e6d7c8b9a01"])
    ],
    store: StoreDep,
    _: PayrollReaders,
) -> verify_service.Verification:
    """Writes nothing. The split is computed again under the settlement's own policy version
    and model (a superseded settlement too) from the events as stored now: `reproduced`, or per
    person the recorded and recomputed fen and their difference, whether the input hash
    differs, which of the journey's events were edited in the database since they were
    accepted (`altered_events`) and which were received after the settlement
    (`late_events`)."""
    return await run_in_threadpool(verify_service.verify_settlement, store, settlement_id)

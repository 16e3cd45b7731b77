"""Reads: a customer's journey, and stores, staff and deals one by one or a page at a time."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Response
from fastapi.concurrency import run_in_threadpool

from contribnet.api.auth import require_own_staff, require_roles
from contribnet.api.deps import StoreDep, hot_read_slots
from contribnet.domain.errors import NotFound
from contribnet.domain.journey import Journey, Page
from contribnet.domain.roles import Principal, Role
from contribnet.domain.settlement import InvalidRequest, period_bounds
from contribnet.services.journeys import customer_journey

router = APIRouter(prefix="/v1", tags=["reads"])

_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "Nothing with that id is recorded."}
}
#: The most items a page may skip: an int64 offset (2^63) would overflow the stores' queries.
MAX_OFFSET = 10**9
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="items to skip")]
Limit = Annotated[int, Query(ge=1, le=1000, description="items in the page")]


@router.get("/customers/{customer_id}/journey", response_model=Journey, responses=_NOT_FOUND)
async def get_customer_journey(
    customer_id: Annotated[str, Path(examples=["c-1"])],
    store: StoreDep,
    principal: Annotated[Principal, Depends(require_roles("analyst", "leader", "staff"))],
) -> Response:
    """Everything recorded about a customer; touches ordered by ``at`` then ``id``; each item
    flagged ``voided``, each contribution with ``counted_for``: the live deal it counts for (a
    contribution counts for the customer's first live deal closing at or after it). A staff key
    sees only journeys its staff member took part in: any other customer, recorded or not, is
    answered 404 alike, so that a staff key cannot tell which customers exist."""
    # A hot read, as previews are: computed a few at a time in worker threads, and the journey
    # (a Journey already) serialised once rather than dumped and validated again by FastAPI,
    # which cost more CPU than reading it (0.40 ms against 0.24 ms on the demo network).
    async with hot_read_slots():
        journey = await run_in_threadpool(customer_journey, store, customer_id)
    if principal.role is Role.STAFF and principal.staff not in _participants(journey):
        raise NotFound("customer", customer_id)
    return Response(journey.model_dump_json(), media_type="application/json")


def _participants(journey: Journey) -> set[str]:
    staff = {t["staff"] for t in journey.touches} | {d["staff"] for d in journey.deals}
    staff |= {r["referrer_staff"] for r in journey.referrals if r.get("referrer_staff")}
    staff |= {h["from_staff"] for h in journey.handovers} | {
        h["to_staff"] for h in journey.handovers
    }
    return staff


# Ingest keys write events and read nothing (README, "Who may do what").
_readers = require_roles("analyst", "leader", "staff")
Readers = Annotated[Principal, Depends(_readers)]
Listers = Annotated[Principal, Depends(require_roles("analyst", "leader"))]
StoreId = Annotated[str, Path(description="the store's id", examples=["st-sh-nio-1"])]
StaffId = Annotated[str, Path(description="the staff member's id", examples=["sf-sh-nio-1-01"])]
DealId = Annotated[str, Path(description="the deal's id", examples=["d-1"])]


@router.get(
    "/stores/{store_id}", response_model=dict[str, Any], responses=_NOT_FOUND, name="get_store"
)
def get_store_by_id(store_id: StoreId, store: StoreDep, _: Readers) -> dict[str, Any]:
    """One store by id."""
    return store.get("store", store_id)


@router.get("/staff/{staff_id}", response_model=dict[str, Any], responses=_NOT_FOUND)
def get_staff(staff_id: StaffId, store: StoreDep, principal: Readers) -> dict[str, Any]:
    """One staff member by id, with their employment spells. A staff key reads only itself."""
    require_own_staff(principal, staff_id)
    return store.get("staff", staff_id)


@router.get("/deals/{deal_id}", response_model=dict[str, Any], responses=_NOT_FOUND)
def get_deal(deal_id: DealId, store: StoreDep, principal: Readers) -> dict[str, Any]:
    """One deal by id (``voided`` says whether it was retracted)."""
    if principal.role is Role.STAFF:
        raise HTTPException(403, "a staff key reads deals through its statement")
    return store.get("deal", deal_id)


@router.get("/stores", response_model=Page)
def list_stores(store: StoreDep, _: Listers, offset: Offset = 0, limit: Limit = 100) -> Page:
    """A page of stores, ordered by id."""
    return store.list("stores", offset, limit)


@router.get("/staff", response_model=Page)
def list_staff(store: StoreDep, _: Listers, offset: Offset = 0, limit: Limit = 100) -> Page:
    """A page of staff, ordered by id."""
    return store.list("staff", offset, limit)


@router.get("/customers", response_model=Page)
def list_customers(store: StoreDep, _: Listers, offset: Offset = 0, limit: Limit = 100) -> Page:
    """A page of customers, ordered by id."""
    return store.list("customers", offset, limit)


@router.get("/deals", response_model=Page)
def list_deals(
    store: StoreDep,
    _: Listers,
    offset: Offset = 0,
    limit: Limit = 100,
    at_store: Annotated[
        str | None,
        Query(alias="store", description="only deals closed at this store", examples=["st-1"]),
    ] = None,
    staff: Annotated[
        str | None, Query(description="only deals this staff member closed", examples=["sf-1"])
    ] = None,
    start: Annotated[
        date | None,
        Query(
            alias="from",
            description="only deals closed on or after this day (China Standard Time)",
            examples=["2025-01-01"],
        ),
    ] = None,
    end: Annotated[
        date | None,
        Query(
            alias="to",
            description="only deals closed on or before this day (China Standard Time)",
            examples=["2025-01-31"],
        ),
    ] = None,
) -> Page:
    """A page of deals, ordered by id; voided ones included (``voided: true``). ``total``
    counts the deals matching the filters."""
    if start is not None and end is not None and start > end:
        raise InvalidRequest.one("query.to", f"to ({end}) is before from ({start})")
    lo, hi = period_bounds(start, end)
    return store.list("deals", offset, limit, store=at_store, staff=staff, start=lo, end=hi)

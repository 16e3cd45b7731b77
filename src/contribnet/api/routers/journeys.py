"""Reads: a customer's journey, and stores, staff and deals one by one or a page at a time."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query

from contribnet.api.auth import require_own_staff, require_roles
from contribnet.api.deps import StoreDep
from contribnet.domain.journey import Journey, Page
from contribnet.domain.roles import Principal, Role
from contribnet.services.journeys import customer_journey

router = APIRouter(prefix="/v1", tags=["reads"])

_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "Nothing with that id is recorded."}
}
Offset = Annotated[int, Query(ge=0, description="items to skip")]
Limit = Annotated[int, Query(ge=1, le=1000, description="items in the page")]


@router.get("/customers/{customer_id}/journey", response_model=Journey, responses=_NOT_FOUND)
def get_journey(
    customer_id: Annotated[str, Path(examples=["c-1"])],
    store: StoreDep,
    principal: Annotated[Principal, Depends(require_roles("analyst", "leader", "staff"))],
) -> Journey:
    """Everything recorded about a customer; touches ordered by ``at`` then ``id``; each item
    flagged ``voided``, each contribution with ``counted_for``: the live deal it counts for (a
    contribution counts for the customer's first live deal closing at or after it). A staff key
    sees only journeys its staff member took part in."""
    journey = customer_journey(store, customer_id)
    if principal.role is Role.STAFF and principal.staff not in _participants(journey):
        raise HTTPException(403, "a staff key sees only journeys its staff member took part in")
    return journey


def _participants(journey: Journey) -> set[str]:
    staff = {t["staff"] for t in journey.touches} | {d["staff"] for d in journey.deals}
    staff |= {r["referrer_staff"] for r in journey.referrals if r.get("referrer_staff")}
    staff |= {h["from_staff"] for h in journey.handovers} | {
        h["to_staff"] for h in journey.handovers
    }
    return staff


_readers = require_roles("analyst", "leader", "ingest", "staff")


def _one(kind: str, summary: str) -> Any:
    def read(
        item_id: str, store: StoreDep, principal: Annotated[Principal, Depends(_readers)]
    ) -> dict[str, Any]:
        if kind == "staff":
            require_own_staff(principal, item_id)
        elif kind == "deal" and principal.role is Role.STAFF:
            raise HTTPException(403, "a staff key reads deals through its statement")
        return store.get(kind, item_id)

    read.__doc__ = summary
    return read


def _page(kind: str, summary: str) -> Any:
    def read(
        store: StoreDep,
        _: Annotated[Principal, Depends(require_roles("analyst", "leader", "ingest"))],
        offset: Offset = 0,
        limit: Limit = 100,
    ) -> Page:
        return store.list(kind, offset, limit)

    read.__doc__ = summary
    return read


for _kind, _path, _plural in (
    ("store", "stores", "stores"),
    ("staff", "staff", "staff"),
    ("deal", "deals", "deals"),
):
    router.add_api_route(
        f"/{_path}/{{item_id}}",
        _one(_kind, f"One {_kind} by id."),
        methods=["GET"],
        responses=_NOT_FOUND,
        name=f"get_{_kind}",
    )
    router.add_api_route(
        f"/{_path}",
        _page(_plural, f"A page of {_plural}, ordered by id."),
        methods=["GET"],
        response_model=Page,
        name=f"list_{_plural}",
    )
router.add_api_route(
    "/customers",
    _page("customers", "A page of customers, ordered by id."),
    methods=["GET"],
    response_model=Page,
    name="list_customers",
)

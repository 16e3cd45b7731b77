"""A staff member's own view of their pay: credit by month, each deal's line explained in plain
words, and their contributions on those deals that did not count, with the reason.

It reads the current settlements crediting the staff member (as :func:`reports.statement`
does) and recomputes each of those deals' splits under the policy version and model its
settlement recorded, for the items of the journey that earned nothing (``not_counted``): the
settlement stores what was paid, the split also says what was not.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from contribnet.credit import CreditContext, CreditError, compute_split
from contribnet.domain.errors import NotFound
from contribnet.domain.settlement import Settlement, period_bounds
from contribnet.graph import business_day
from contribnet.services.credit import credit_context
from contribnet.services.policies import find_policy
from contribnet.services.reports import check_period
from contribnet.store.base import Store

__all__ = ["StaffView", "staff_view"]


class ViewTouch(BaseModel):
    """A touch (referral, handover) that earned part of the line: ``credit`` is its part of the
    deal's pool; ``factors`` the weight it got and the total that weight is divided by."""

    id: str
    source: str
    stage: str
    at: datetime
    store: str | None = None
    credit: float
    factors: dict[str, float]


class ViewLine(BaseModel):
    """One deal the staff member is credited on."""

    deal: str
    month: str = Field(description="YYYY-MM of the close (China Standard Time)")
    closed_at: datetime
    deal_store: str
    deal_store_name: str | None = None
    closer: str
    closer_name: str | None = None
    closed_by_me: bool
    pool: int = Field(description="the deal's reward pool, fen")
    amount: int = Field(description="fen credited to the staff member")
    share: float
    model: str
    policy: str
    explanation: str
    touches: list[ViewTouch]


class ViewNotCounted(BaseModel):
    """A contribution of the staff member on one of those deals that earned nothing there."""

    deal: str
    id: str
    source: str
    stage: str | None = None
    at: datetime | None = None
    code: str
    reason: str
    ref: str | None = None


class ViewMonth(BaseModel):
    month: str
    deals: int
    amount: int
    assists: int = Field(description="fen earned on deals someone else closed")


class StaffView(BaseModel):
    """What a staff member sees of their own pay in a period."""

    model_config = ConfigDict(populate_by_name=True)

    staff: str
    name: str | None = None
    store: str | None = None
    from_: date | None = Field(default=None, alias="from")
    to: date | None = None
    total: int
    deals: int
    months: list[ViewMonth]
    lines: list[ViewLine]
    not_counted: list[ViewNotCounted]
    not_recomputed: list[str] = Field(
        default_factory=list,
        description="deals whose split could not be recomputed for the items that did not count",
    )


def staff_view(store: Store, staff: str, start: date | None, end: date | None) -> StaffView:
    """The staff member's view of the deals closed from ``start`` to ``end`` (business days,
    inclusive); ``NotFound`` for an unknown staff member."""
    check_period(start, end)
    record = store.get("staff", staff)
    lo, hi = period_bounds(start, end)
    settlements = list(store.ledger.current_settlements(lo, hi, staff=staff))
    stores = {s["id"]: s.get("name") for s in store.list("stores", 0, 1_000_000).items}
    names = _staff_names(store, {s.closer for s in settlements})
    lines = [line for s in settlements if (line := _line(s, staff, stores, names)) is not None]
    months: dict[str, ViewMonth] = {}
    for line in lines:
        m = months.setdefault(line.month, ViewMonth(month=line.month, deals=0, amount=0, assists=0))
        m.deals += 1
        m.amount += line.amount
        if not line.closed_by_me:
            m.assists += line.amount
    not_counted, failed = _not_counted(store, settlements, staff)
    return StaffView(
        staff=staff,
        name=record.get("name"),
        store=record.get("store"),
        from_=start,
        to=end,
        total=sum(line.amount for line in lines),
        deals=len(lines),
        months=[months[k] for k in sorted(months)],
        lines=lines,
        not_counted=not_counted,
        not_recomputed=failed,
    )


def _staff_names(store: Store, ids: set[str]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for staff_id in ids:
        try:
            out[staff_id] = store.get("staff", staff_id).get("name")
        except NotFound:  # a closer whose staff record never arrived
            out[staff_id] = None
    return out


def _line(
    s: Settlement, staff: str, stores: dict[str, str | None], names: dict[str, str | None]
) -> ViewLine | None:
    for a in s.allocations:
        if a.kind == "staff" and a.id == staff:
            return ViewLine(
                deal=s.deal,
                month=business_day(s.closed_at).strftime("%Y-%m"),
                closed_at=s.closed_at,
                deal_store=s.deal_store,
                deal_store_name=stores.get(s.deal_store),
                closer=s.closer,
                closer_name=names.get(s.closer),
                closed_by_me=s.closer == staff,
                pool=s.pool,
                amount=a.amount,
                share=a.share,
                model=s.model,
                policy=s.policy,
                explanation=a.explanation.text,
                touches=[
                    ViewTouch(
                        id=t.id,
                        source=t.source,
                        stage=t.stage,
                        at=t.at,
                        store=t.store,
                        credit=t.credit,
                        factors=dict(t.factors),
                    )
                    for t in a.explanation.touches
                ],
            )
    return None


def _not_counted(
    store: Store, settlements: list[Settlement], staff: str
) -> tuple[list[ViewNotCounted], list[str]]:
    """The staff member's items that earned nothing on their deals, from each deal's split
    recomputed under its settlement's policy version and model."""
    if not settlements:
        return [], []
    records = store.ledger.policies()
    journeys = store.deal_journeys([s.deal for s in settlements])
    contexts: dict[tuple[str, str], CreditContext | None] = {}
    out: list[ViewNotCounted] = []
    failed: list[str] = []
    by_deal: defaultdict[str, list[ViewNotCounted]] = defaultdict(list)
    for s in settlements:
        journey = journeys.get(s.deal)
        if journey is None:
            failed.append(s.deal)
            continue
        try:
            record = find_policy(records, s.policy)
            if (record.id, s.model) not in contexts:
                contexts[record.id, s.model] = credit_context(store, record.policy, s.model)
            split = compute_split(journey, record.policy, s.model, contexts[record.id, s.model])
        except (CreditError, NotFound, ValueError):
            failed.append(s.deal)
            continue
        for item in split.not_counted:
            if item.kind == "staff" and item.contributor == staff:
                by_deal[s.deal].append(
                    ViewNotCounted(
                        deal=s.deal,
                        id=item.id,
                        source=item.source,
                        stage=item.stage,
                        at=item.at,
                        code=item.code,
                        reason=item.reason,
                        ref=item.ref,
                    )
                )
    for s in settlements:
        out += by_deal.get(s.deal, [])
    return out, failed

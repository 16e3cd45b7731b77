"""Reports on settled credit: a staff member's statement, roll-ups, and policy simulations.

Every report covers the deals *closed* in a period (business days in China Standard Time,
inclusive), as their current settlements stand now, with the adjustments made to those deals.
So a statement's total is its settled amounts plus its adjustments, and a roll-up at the staff
level gives each staff member exactly their statement's totals; at the other levels the same
money is grouped by the store it was earned for (adjustments by the store the staff member was
credited for on that deal, else where they worked when it closed).
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from contribnet.credit import CreditError, compute_split, store_totals
from contribnet.credit.explain import money
from contribnet.domain.disputes import Dispute
from contribnet.domain.errors import NotFound
from contribnet.domain.policy import Policy
from contribnet.domain.settlement import (
    InvalidRequest,
    PolicyRecord,
    Settlement,
    business_date,
    period_bounds,
)
from contribnet.services.credit import check_model, credit_context
from contribnet.services.policies import find_policy, parse_policy
from contribnet.services.settlement import credit_rows, store_directory
from contribnet.store.base import Store
from contribnet.store.disputes import dispute_store

__all__ = [
    "LEVELS",
    "MAX_SIMULATION_DEALS",
    "Rollup",
    "Simulation",
    "Statement",
    "check_period",
    "rollup",
    "simulate",
    "statement",
    "statement_csv",
]

Level = Literal["staff", "store", "brand", "city", "region"]
LEVELS: tuple[str, ...] = ("staff", "store", "brand", "city", "region")
#: A simulation recomputes every deal twice; beyond this many deals, narrow the period.
MAX_SIMULATION_DEALS = 20_000


def check_period(start: date | None, end: date | None) -> None:
    """A period's days are in range (see :func:`period_bounds`) and in order."""
    period_bounds(start, end)
    if start is not None and end is not None and end < start:
        raise InvalidRequest.one("to", f"{end.isoformat()} is before from {start.isoformat()}")


# --- statements ------------------------------------------------------------------------------


class StatementTouch(BaseModel):
    """A touch that earned part of the amount: its share of the deal's pool is ``credit``."""

    id: str
    source: str
    stage: str
    at: datetime
    store: str | None = None
    credit: float


class StatementLine(BaseModel):
    deal: str
    closed_at: datetime
    deal_store: str
    settlement: str
    model: str
    policy: str
    amount: int = Field(description="fen credited by the settlement")
    share: float
    store: str | None = None
    stages: dict[str, int] = Field(description="touches that earned it, by stage")
    touches: list[StatementTouch]
    explanation: str


class StatementAdjustment(BaseModel):
    id: str
    deal: str
    closed_at: datetime
    amount: int = Field(description="fen: positive if moved to this staff member, else negative")
    counterpart: str
    reason: str
    requested_by: str
    created_at: datetime


class StatementTotals(BaseModel):
    deals: int
    settled: int = Field(description="fen credited by current settlements")
    adjustments: int = Field(description="net fen moved by adjustments")
    total: int = Field(description="settled + adjustments")


class Statement(BaseModel):
    """What a staff member earned on the deals closed in a period, fen by fen, with reasons."""

    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "staff": "sf-x",
                    "name": "Xu",
                    "from": "2025-01-01",
                    "to": "2025-01-31",
                    "generated_at": "2025-02-01T02:00:00Z",
                    "lines": [
                        {
                            "deal": "d-1",
                            "closed_at": "2025-01-10T06:00:00Z",
                            "deal_store": "st-b",
                            "settlement": "stl-5b0e9d4c1a2f3e6d7c8b9a01",
                            "model": "stage_weighted",
                            "policy": "default@1",
                            "amount": 312500,
                            "share": 0.625,
                            "store": "st-a",
                            "stages": {"test_drive": 3},
                            "touches": [],
                            "explanation": "Xu (sf-x; st-a, nio) gets 62.5% = ¥3,125.00 under "
                            "stage_weighted for 3 test_drive touches (weight 25; saturated "
                            "×0.5, ×0.25).",
                        }
                    ],
                    "adjustments": [],
                    "totals": {"deals": 1, "settled": 312500, "adjustments": 0, "total": 312500},
                }
            ]
        },
    )

    staff: str
    name: str | None = None
    from_: date | None = Field(default=None, alias="from")
    to: date | None = None
    generated_at: datetime
    lines: list[StatementLine]
    adjustments: list[StatementAdjustment]
    disputes: list[Dispute] = Field(
        default=[], description="the staff member's disputes on these deals, open and resolved"
    )
    totals: StatementTotals


def _line(settlement: Settlement, staff: str) -> StatementLine | None:
    for a in settlement.allocations:
        if a.kind == "staff" and a.id == staff:
            touches = [
                StatementTouch(
                    id=t.id, source=t.source, stage=t.stage, at=t.at, store=t.store, credit=t.credit
                )
                for t in a.explanation.touches
            ]
            return StatementLine(
                deal=settlement.deal,
                closed_at=settlement.closed_at,
                deal_store=settlement.deal_store,
                settlement=settlement.id,
                model=settlement.model,
                policy=settlement.policy,
                amount=a.amount,
                share=a.share,
                store=a.store,
                stages=dict(Counter(t.stage for t in touches)),
                touches=touches,
                explanation=a.explanation.text,
            )
    return None


def statement(store: Store, staff: str, start: date | None, end: date | None) -> Statement:
    """A staff member's statement: per deal closed in the period, the amount, share, touches
    and the sentence explaining it; the adjustments to or from them; their disputes on those
    deals, open and resolved; the totals."""
    check_period(start, end)
    name = store.get("staff", staff).get("name")  # NotFound for an unknown staff member
    lo, hi = period_bounds(start, end)
    lines = [
        line
        for s in store.ledger.current_settlements(lo, hi, staff=staff)
        if (line := _line(s, staff)) is not None
    ]
    adjustments = [
        StatementAdjustment(
            id=a.id,
            deal=a.deal,
            closed_at=a.closed_at,
            amount=a.amount if a.to_staff == staff else -a.amount,
            counterpart=a.from_staff if a.to_staff == staff else a.to_staff,
            reason=a.reason,
            requested_by=a.requested_by,
            created_at=a.created_at,
        )
        for a in store.ledger.adjustments(lo, hi, staff=staff)
    ]
    settled = sum(line.amount for line in lines)
    adjusted = sum(a.amount for a in adjustments)
    return Statement(
        staff=staff,
        name=name,
        from_=start,
        to=end,
        generated_at=datetime.now(UTC),
        lines=lines,
        adjustments=adjustments,
        disputes=dispute_store(store).disputes(staff=staff, start=lo, end=hi),
        totals=StatementTotals(
            deals=len({line.deal for line in lines} | {a.deal for a in adjustments}),
            settled=settled,
            adjustments=adjusted,
            total=settled + adjusted,
        ),
    )


CSV_COLUMNS = (
    "kind",
    "staff",
    "name",
    "deal",
    "closed_at",
    "deal_store",
    "settlement",
    "policy",
    "model",
    "store",
    "share",
    "amount_fen",
    "amount",
    "stages",
    "explanation",
    "dispute",
    "dispute_status",
)


def _rfc3339(at: datetime) -> str:
    """RFC 3339 UTC with ``Z``, as the JSON statement writes it."""
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _dispute_text(d: Dispute) -> str:
    """A dispute in one cell: what was said, by whom, and how it was resolved."""
    opened = f"held {money(d.amount)}: {d.message} ({d.opened_by}, {_rfc3339(d.opened_at)})"
    r = d.resolution
    if r is None:
        return opened
    moved = f", {money(r.amount)} from {r.from_staff} as {r.adjustment}" if r.amount else ""
    return (
        f"{opened}; {r.decision}ed{moved}: {r.reason} ({r.resolved_by}, {_rfc3339(r.resolved_at)})"
    )


def statement_csv(s: Statement) -> str:
    """The statement as CSV: one row per deal, one per adjustment, one per dispute, and a total
    row. A deal's row names its latest dispute (``dispute``, ``dispute_status``: ``open`` or
    ``resolved``); a dispute's own row leaves the amounts empty -- an accepted amount is paid by
    its adjustment's row -- so the amounts of every row but the total add up to the total."""
    latest = {d.deal: d for d in s.disputes}  # in the order opened: the last one stays
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for line in s.lines:
        stages = "; ".join(f"{stage}×{n}" for stage, n in line.stages.items())
        disputed = latest.get(line.deal)
        writer.writerow(
            [
                "settlement",
                s.staff,
                s.name or "",
                line.deal,
                _rfc3339(line.closed_at),
                line.deal_store,
                line.settlement,
                line.policy,
                line.model,
                line.store or "",
                f"{line.share:.6f}",
                line.amount,
                money(line.amount),
                stages,
                line.explanation,
                disputed.id if disputed else "",
                disputed.status if disputed else "",
            ]
        )
    for a in s.adjustments:
        writer.writerow(
            [
                "adjustment",
                s.staff,
                s.name or "",
                a.deal,
                _rfc3339(a.closed_at),
                "",
                "",
                "",
                "",
                "",
                "",
                a.amount,
                money(a.amount),
                "",
                f"{'from' if a.amount > 0 else 'to'} {a.counterpart}: {a.reason} "
                f"({a.requested_by}, {_rfc3339(a.created_at)})",
                "",
                "",
            ]
        )
    for d in s.disputes:
        writer.writerow(
            [
                "dispute",
                s.staff,
                s.name or "",
                d.deal,
                _rfc3339(d.closed_at),
                "",
                d.settlement,
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                _dispute_text(d),
                d.id,
                d.status,
            ]
        )
    t = s.totals
    writer.writerow(
        [
            "total",
            s.staff,
            s.name or "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            t.total,
            money(t.total),
            "",
            f"{t.deals} deals: settled {money(t.settled)}, adjustments {money(t.adjustments)}",
            "",
            "",
        ]
    )
    return out.getvalue()


# --- roll-ups --------------------------------------------------------------------------------


class RollupRow(BaseModel):
    key: str | None = Field(description="the staff id, store id, brand, city or region")
    deals: int = Field(description="deals credited")
    amount: int = Field(description="fen credited by current settlements")
    assist_deals: int = Field(description="deals credited that another unit of this level closed")
    assist_amount: int = Field(description="fen earned on deals another unit of this level closed")
    adjustments: int = Field(description="net fen moved by adjustments")
    total: int = Field(description="amount + adjustments")


class Rollup(BaseModel):
    """Credited amounts and counts per staff member, store, brand, city or region."""

    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "level": "brand",
                    "from": "2025-01-01",
                    "to": "2025-03-31",
                    "rows": [
                        {
                            "key": "nio",
                            "deals": 812,
                            "amount": 401200000,
                            "assist_deals": 37,
                            "assist_amount": 6150000,
                            "adjustments": 0,
                            "total": 401200000,
                        }
                    ],
                    "totals": {
                        "deals": 1500,
                        "amount": 750000000,
                        "adjustments": 0,
                        "total": 750000000,
                        "owner_points": 52000,
                    },
                }
            ]
        },
    )

    level: Level
    from_: date | None = Field(default=None, alias="from")
    to: date | None = None
    rows: list[RollupRow]
    totals: dict[str, int]


@dataclass
class _Acc:
    deals: set[str]
    assist_deals: set[str]
    amount: int = 0
    assist_amount: int = 0
    adjustments: int = 0


def _staff_store_at(store: Store, staff: str, at: datetime) -> str | None:
    try:
        record = store.get("staff", staff)
    except NotFound:
        return None
    day = business_date(at)
    found = record.get("store")
    for spell in record.get("employment", []):
        start = spell.get("from")
        if start is None or date.fromisoformat(start) <= day:
            found = spell.get("store")
    return found


def rollup(store: Store, level: str, start: date | None, end: date | None) -> Rollup:
    """Credit per unit of ``level`` on the deals closed in the period, with assists: credit
    earned on deals that another unit of the same level closed (another staff member, store,
    brand, city or region). Owners' points are totalled, not grouped."""
    if level not in LEVELS:
        raise InvalidRequest.one("level", f"unknown level {level!r}; one of: {', '.join(LEVELS)}")
    check_period(start, end)
    directory = store_directory(store)

    def unit(store_id: str | None) -> str | None:
        if level == "store":
            return store_id
        record = directory.get(store_id) if store_id else None
        return record.get(level) if record else None

    acc: dict[str | None, _Acc] = defaultdict(lambda: _Acc(set(), set()))
    owner_points = 0
    for row in credit_rows(store, start, end):
        if row.kind != "staff":
            owner_points += row.points
            continue
        key = row.contributor if level == "staff" else unit(row.store)
        closer = row.closer if level == "staff" else unit(row.deal_store)
        a = acc[key]
        a.deals.add(row.deal)
        a.amount += row.amount
        if key != closer:
            a.assist_deals.add(row.deal)
            a.assist_amount += row.amount
    lo, hi = period_bounds(start, end)
    settlements: dict[str, Settlement] = {}
    for adj in store.ledger.adjustments(lo, hi):
        for staff, sign in ((adj.to_staff, 1), (adj.from_staff, -1)):
            if level == "staff":
                key = staff
            else:
                if adj.settlement not in settlements:
                    settlements[adj.settlement] = store.ledger.settlement(adj.settlement)
                home = next(
                    (
                        a.store
                        for a in settlements[adj.settlement].allocations
                        if a.kind == "staff" and a.id == staff
                    ),
                    None,
                ) or _staff_store_at(store, staff, adj.closed_at)
                key = unit(home)
            acc[key].adjustments += sign * adj.amount
    rows = [
        RollupRow(
            key=key,
            deals=len(a.deals),
            amount=a.amount,
            assist_deals=len(a.assist_deals),
            assist_amount=a.assist_amount,
            adjustments=a.adjustments,
            total=a.amount + a.adjustments,
        )
        for key, a in sorted(acc.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))
    ]
    amount = sum(r.amount for r in rows)
    adjustments = sum(r.adjustments for r in rows)
    return Rollup(
        level=level,
        from_=start,
        to=end,
        rows=rows,
        totals={
            "deals": len(set().union(*(a.deals for a in acc.values()))) if acc else 0,
            "amount": amount,
            "adjustments": adjustments,
            "total": amount + adjustments,
            "owner_points": owner_points,
        },
    )


# --- simulations -----------------------------------------------------------------------------


class SimulationRow(BaseModel):
    key: str | None
    amount_a: int
    amount_b: int
    delta: int = Field(description="amount_b - amount_a")


class Simulation(BaseModel):
    """What the deals closed in a period would pay under two policies; nothing is written."""

    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "policy_a": "default@1",
                    "policy_b": "default@2",
                    "model_a": "stage_weighted",
                    "model_b": "stage_weighted",
                    "from": "2025-01-01",
                    "to": "2025-01-31",
                    "deals": 412,
                    "failed": [],
                    "staff": [
                        {"key": "sf-x", "amount_a": 312500, "amount_b": 287000, "delta": -25500}
                    ],
                    "stores": [
                        {"key": "st-a", "amount_a": 900000, "amount_b": 951000, "delta": 51000}
                    ],
                    "totals": {"amount_a": 206000000, "amount_b": 206000000, "delta": 0},
                }
            ]
        },
    )

    policy_a: str
    policy_b: str
    model_a: str
    model_b: str
    from_: date | None = Field(default=None, alias="from")
    to: date | None = None
    deals: int
    failed: list[dict[str, str]]
    staff: list[SimulationRow]
    stores: list[SimulationRow]
    totals: dict[str, int]


def _simulated_policy(
    records: Sequence[PolicyRecord], ref: str | dict[str, Any], field: str
) -> tuple[str, Policy]:
    if isinstance(ref, str):
        try:
            record = find_policy(records, ref)
        except NotFound:
            raise InvalidRequest.one(field, f"no policy {ref!r} is recorded") from None
        return record.id, record.policy
    policy, _ = parse_policy(ref, for_storage=False, field=field)
    return f"{policy.name}@{policy.version} (not recorded)", policy


def _rows(a: dict[str, int], b: dict[str, int]) -> list[SimulationRow]:
    keys = sorted(set(a) | set(b))
    return [
        SimulationRow(
            key=k, amount_a=a.get(k, 0), amount_b=b.get(k, 0), delta=b.get(k, 0) - a.get(k, 0)
        )
        for k in keys
    ]


def simulate(
    store: Store,
    policy_a: str | dict[str, Any],
    policy_b: str | dict[str, Any],
    start: date | None,
    end: date | None,
    *,
    model_a: str | None = None,
    model_b: str | None = None,
    chunk: int = 500,
) -> Simulation:
    """Recompute every non-voided deal closed in the period under two policies (recorded ids or
    inline policies, TOML keys as JSON) and compare, per staff member and per store. Reads only:
    nothing is recorded, not even the policies."""
    check_period(start, end)
    records = store.ledger.policies()
    id_a, pa = _simulated_policy(records, policy_a, "policy_a")
    id_b, pb = _simulated_policy(records, policy_b, "policy_b")
    name_a = check_model(model_a or pa.model, "model_a")
    name_b = check_model(model_b or pb.model, "model_b")
    lo, hi = period_bounds(start, end)
    count = store.ledger.count_closed_deals(lo, hi)
    if count > MAX_SIMULATION_DEALS:
        raise InvalidRequest.one(
            "to",
            f"{count} deals closed in the period; a simulation covers at most "
            f"{MAX_SIMULATION_DEALS}: narrow the period",
        )
    try:
        ctx_a = credit_context(store, pa, name_a)
        ctx_b = credit_context(store, pb, name_b)
    except CreditError as exc:
        raise InvalidRequest.one("model_a", str(exc)) from None
    staff: tuple[Counter[str], Counter[str]] = (Counter(), Counter())
    stores: tuple[Counter[str], Counter[str]] = (Counter(), Counter())
    failed: list[dict[str, str]] = []
    deals = 0
    for ids in _deal_chunks(store, lo, hi, chunk):
        for deal_id, journey in store.deal_journeys(ids).items():
            try:
                splits = (
                    compute_split(journey, pa, name_a, ctx_a),
                    compute_split(journey, pb, name_b, ctx_b),
                )
            except CreditError as exc:
                failed.append({"deal": deal_id, "message": str(exc)})
                continue
            deals += 1
            for side, split in enumerate(splits):
                for a in split.allocations:
                    if a.kind == "staff":
                        staff[side][a.id] += a.amount
                stores[side].update(store_totals(split))
    total_a, total_b = sum(staff[0].values()), sum(staff[1].values())
    return Simulation(
        policy_a=id_a,
        policy_b=id_b,
        model_a=name_a,
        model_b=name_b,
        from_=start,
        to=end,
        deals=deals,
        failed=failed[:100],
        staff=_rows(staff[0], staff[1]),
        stores=_rows(stores[0], stores[1]),
        totals={"amount_a": total_a, "amount_b": total_b, "delta": total_b - total_a},
    )


def _deal_chunks(
    store: Store, lo: datetime | None, hi: datetime | None, size: int
) -> Iterable[list[str]]:
    after = None
    while True:
        refs = store.ledger.closed_deals(lo, hi, after=after, limit=size)
        if not refs:
            return
        yield [r.id for r in refs]
        after = refs[-1]

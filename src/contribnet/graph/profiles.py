"""Advisor profiles: who is strong at which stage, against the region's advisors; leaderboards;
advisors whose activity is falling.

Definitions
-----------
Over a period (business days ``from`` to ``to``, China Standard Time), for staff member ``x`` and
stage ``s``:

- **touches** -- ``x``'s live touches at ``s`` made in the period;
- **customers** -- the distinct customers of those touches;
- **deals** -- the distinct deals closed in the period on which ``x`` is credited for work at
  ``s``: ``s`` is the stage of a touch (or referral, handover) that counted for ``x`` on the
  deal's current settlement, as its explanation lists them (after the credit guards);
- **converted** -- those of the customers whose touch by ``x`` at ``s`` (made in the period)
  counted for ``x`` on a deal closed in the period;
- **conversion** -- ``converted / customers``, from 0 to 1; undefined (``None``) when ``x``
  touched no customer at ``s``. Not ``deals / customers``: deals closed in the period come from
  customers touched before it too, and a stage that is no touch (``referral``, ``handover``)
  has deals and no customers, so that ratio runs past 1 (31.5 for a demo advisor whose handovers
  closed). A customer touched near the period's end whose deal closes after it is not converted
  in the period;
- **credit** -- the fen ``x`` earned at ``s`` on those current settlements (what payroll pays,
  ``Ledger.current_settlements``; adjustments made after settling are not in it): each of ``x``'s
  allocations is split among the touches that counted in proportion to their credit, exactly by
  largest remainder (:func:`stage_credit`), so a staff member's stages sum to their credit;
- **assists given** -- the part of that credit earned on deals someone else closed (``x`` helped
  another closer: early work, a referral, a handover);
- **assists received** -- the fen at ``s`` paid to others on deals ``x`` closed (the help ``x``
  had). Over all staff, the assists given equal the assists received.

Beside the stages: **points** -- the activity points ``x`` earned in the period, as the points
ledger prices them (``contribnet.credit.points``); **activity** -- touches plus activities.

A staff member's **home** over a period is their employment spell in force on its last day, else
the latest that started by then; their region and brand are its store's. The **peers** of a
region are the staff whose home spell is an ``advisor``'s at a store of that region and overlaps
the period. Beside each figure a profile shows the peers' **average** (the mean over every peer,
a peer with nothing counting 0; for conversion the mean over peers for whom it is defined) and
**top decile**: the 90th percentile by nearest rank (:func:`top_decile`).

Worked example
--------------
Xu (``x``) test-drove customer c-1 twice and c-2 once; Yang (``y``) closed c-1's deal d-1 of
1,000 fen, settled 600 to Xu for the test drives and 400 to Yang for the order. Both are the
East's advisors.

>>> from datetime import UTC, date, datetime
>>> from contribnet.domain.events import Staff, Store
>>> from contribnet.domain.profiles import ProfileInputs, TouchMark
>>> from contribnet.domain.settlement import Settlement
>>> from contribnet.domain.split import Allocation, Explanation, TouchCredit
>>> at = datetime(2025, 1, 5, tzinfo=UTC)
>>> def alloc(staff, touch_id, stage, amount, share):
...     touch = TouchCredit(id=touch_id, source="touch", stage=stage, at=at, credit=share,
...                         factors={})
...     return Allocation(kind="staff", id=staff, share=share, amount=amount, points=0,
...         explanation=Explanation(text="", model_share=share, touches=[touch]))
>>> d1 = Settlement(id="s", deal="d-1", seq=1, closed_at=at, deal_store="st-a", closer="y",
...     pool=1000, model="m", policy="p@1", policy_name="p", policy_version="1",
...     input_hash="h", allocations=[alloc("x", "t-2", "test_drive", 600, 0.6),
...     alloc("y", "t-4", "order", 400, 0.4)], credits=[], requested_by="t", created_at=at)
>>> inputs = ProfileInputs(
...     touches=[TouchMark("t-1", "x", "c-1", "test_drive", at),
...              TouchMark("t-2", "x", "c-1", "test_drive", at),
...              TouchMark("t-3", "x", "c-2", "test_drive", at),
...              TouchMark("t-4", "y", "c-1", "order", at)],
...     spells={s: [Staff(id=s, name=s.upper(), store="st-a", role="advisor")] for s in "xy"},
...     stores={"st-a": Store(id="st-a", name="A", brand="nio", city="Shanghai", region="East")})
>>> figures = advisor_figures([d1], inputs.touches, {"x": 12}, {})
>>> td = figures["x"].stages["test_drive"]
>>> td.touches, td.customers, td.deals, td.converted, td.conversion, td.credit, td.assists_given
(3, 2, 1, 1, 0.5, 600, 600)
>>> figures["y"].stages["test_drive"].assists_received, figures["x"].points
(600, 12)
>>> period = Period(date(2025, 1, 1), date(2025, 1, 31))
>>> p = profile("x", figures, inputs, period, ["test_drive", "order"])
>>> p.region, p.peers
('East', 2)
>>> row = p.stages[0]
>>> row.stage, row.credit.value, row.credit.average, row.credit.top_decile
('test_drive', 600, 300.0, 600)
>>> [(r.staff, r.value) for r in leaderboard("credit", figures, inputs, period)]
[('x', 600), ('y', 400)]
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal, get_args

from contribnet.domain.allocation import allocate
from contribnet.domain.events import Staff
from contribnet.domain.profiles import ProfileInputs, TouchMark
from contribnet.domain.settlement import Settlement
from contribnet.domain.split import Allocation

__all__ = [
    "METRICS",
    "AdvisorFigures",
    "AtRisk",
    "Benchmark",
    "LeaderRow",
    "Metric",
    "Period",
    "Profile",
    "ProfileStage",
    "RegionStats",
    "StageFigures",
    "activity_counts",
    "advisor_figures",
    "at_risk",
    "benchmark",
    "home_spell",
    "leaderboard",
    "peers",
    "profile",
    "region_stats",
    "stage_credit",
    "top_decile",
]

#: The stage of credit that names no touch (a pool paid to the closer with nothing to explain
#: it: the engine names no stage then).
UNSTAGED = "other"

Metric = Literal["credit", "deals", "touches", "points", "conversion"]
#: What a leaderboard may rank by.
METRICS: tuple[str, ...] = get_args(Metric)


@dataclass(frozen=True)
class Period:
    """Business days ``first`` to ``last``, inclusive; ``None`` leaves a side open."""

    first: date | None
    last: date | None


def stage_credit(allocation: Allocation) -> dict[str, int]:
    """An allocation's fen by stage: its amount split among the touches that counted in
    proportion to their credit, exactly (largest remainder, ties by the touch's position). With
    no weight to go by the touches share it equally; with no touch it is :data:`UNSTAGED`.

    >>> from datetime import UTC, datetime
    >>> from contribnet.domain.split import Explanation, TouchCredit
    >>> at = datetime(2025, 1, 5, tzinfo=UTC)
    >>> touches = [TouchCredit(id=i, source="touch", stage=s, at=at, credit=c, factors={})
    ...            for i, s, c in [("t1", "reception", 0.1), ("t2", "test_drive", 0.1),
    ...                            ("t3", "test_drive", 0.1)]]
    >>> a = Allocation(kind="staff", id="x", share=0.3, amount=100, points=0,
    ...     explanation=Explanation(text="", model_share=0.3, touches=touches))
    >>> stage_credit(a)
    {'reception': 34, 'test_drive': 66}
    """
    touches = allocation.explanation.touches
    if not touches:
        return {UNSTAGED: allocation.amount}
    keys = [f"{i:06d}" for i in range(len(touches))]
    amounts = allocate(allocation.amount, [t.credit for t in touches], keys)
    if sum(amounts) != allocation.amount:  # every credit 0: share equally
        amounts = allocate(allocation.amount, [1.0] * len(touches), keys)
    out: dict[str, int] = {}
    for touch, amount in zip(touches, amounts, strict=True):
        out[touch.stage] = out.get(touch.stage, 0) + amount
    return out


@dataclass(frozen=True)
class StageFigures:
    """One staff member's figures at one stage over a period (see the module's definitions)."""

    stage: str
    touches: int = 0
    customers: int = 0
    deals: int = 0
    converted: int = 0
    credit: int = 0
    assists_given: int = 0
    assists_received: int = 0

    @property
    def conversion(self) -> float | None:
        return self.converted / self.customers if self.customers else None


@dataclass(frozen=True)
class AdvisorFigures:
    """One staff member's figures over a period: by stage, and in all (``customers`` and
    ``deals`` and ``converted`` counted once across stages)."""

    staff: str
    stages: Mapping[str, StageFigures]
    touches: int = 0
    customers: int = 0
    deals: int = 0
    converted: int = 0
    credit: int = 0
    assists_given: int = 0
    assists_received: int = 0
    points: int = 0
    activities: int = 0

    @property
    def conversion(self) -> float | None:
        return self.converted / self.customers if self.customers else None

    def metric(self, name: str) -> float | None:
        """The figure a leaderboard ranks by."""
        value: int = getattr(self, name)  # whole counts and fen stay whole
        return self.conversion if name == "conversion" else value


def advisor_figures(
    settlements: Iterable[Settlement],
    touches: Iterable[TouchMark],
    points: Mapping[str, int],
    activities: Mapping[str, int],
) -> dict[str, AdvisorFigures]:
    """Every staff member's figures over a period, from the current settlements of the deals
    closed in it, the live touches made in it, and the points and activities of each staff
    member in it. Staff with none of these are absent (their figures are all 0)."""
    touch_count: Counter[tuple[str, str]] = Counter()
    customers: defaultdict[tuple[str, str], set[str]] = defaultdict(set)
    all_customers: defaultdict[str, set[str]] = defaultdict(set)
    in_period: dict[str, TouchMark] = {}
    for t in touches:
        touch_count[t.staff, t.stage] += 1
        customers[t.staff, t.stage].add(t.customer)
        all_customers[t.staff].add(t.customer)
        in_period[t.id] = t
    converted: defaultdict[tuple[str, str], set[str]] = defaultdict(set)
    all_converted: defaultdict[str, set[str]] = defaultdict(set)
    deals: defaultdict[tuple[str, str], set[str]] = defaultdict(set)
    all_deals: defaultdict[str, set[str]] = defaultdict(set)
    credit: Counter[tuple[str, str]] = Counter()
    given: Counter[tuple[str, str]] = Counter()
    received: Counter[tuple[str, str]] = Counter()
    for s in settlements:
        for a in s.allocations:
            if a.kind != "staff":
                continue
            all_deals[a.id].add(s.deal)
            for counted in a.explanation.touches:
                deals[a.id, counted.stage].add(s.deal)
                mark = in_period.get(counted.id) if counted.source == "touch" else None
                if mark is not None and mark.staff == a.id:
                    converted[a.id, mark.stage].add(mark.customer)
                    all_converted[a.id].add(mark.customer)
            for stage, amount in stage_credit(a).items():
                credit[a.id, stage] += amount
                if a.id != s.closer:
                    given[a.id, stage] += amount
                    received[s.closer, stage] += amount
    keys = set(touch_count) | set(deals) | set(credit) | set(received)
    by_staff: defaultdict[str, dict[str, StageFigures]] = defaultdict(dict)
    for staff, stage in keys:
        by_staff[staff][stage] = StageFigures(
            stage=stage,
            touches=touch_count[staff, stage],
            customers=len(customers[staff, stage]),
            deals=len(deals[staff, stage]),
            converted=len(converted[staff, stage]),
            credit=credit[staff, stage],
            assists_given=given[staff, stage],
            assists_received=received[staff, stage],
        )
    everyone = set(by_staff) | {s for s, n in points.items() if n} | set(activities)
    out = {}
    for staff in sorted(everyone):
        stages = dict(sorted(by_staff[staff].items()))
        out[staff] = AdvisorFigures(
            staff=staff,
            stages=stages,
            touches=sum(f.touches for f in stages.values()),
            customers=len(all_customers[staff]),
            deals=len(all_deals[staff]),
            converted=len(all_converted[staff]),
            credit=sum(f.credit for f in stages.values()),
            assists_given=sum(f.assists_given for f in stages.values()),
            assists_received=sum(f.assists_received for f in stages.values()),
            points=points.get(staff, 0),
            activities=activities.get(staff, 0),
        )
    return out


def home_spell(spells: Sequence[Staff], period: Period) -> Staff | None:
    """The staff member's spell in force on the period's last day, else the latest that started
    by then; None if none had (or if they have no spell). With an open end, the latest spell.

    >>> a = Staff(id="x", name="X", store="st-a", role="advisor", **{"to": "2025-02-28"})
    >>> b = Staff(id="x", name="X", store="st-b", role="advisor", **{"from": "2025-03-01"})
    >>> home_spell([a, b], Period(None, date(2025, 2, 28))).store
    'st-a'
    >>> home_spell([a, b], Period(None, None)).store
    'st-b'
    """
    started = [
        s for s in spells if period.last is None or s.from_ is None or s.from_ <= period.last
    ]
    if not started:
        return None
    current = [s for s in started if s.to is None or period.last is None or s.to >= period.last]
    return (current or started)[-1]


def _overlaps(spell: Staff, period: Period) -> bool:
    starts_in_time = period.last is None or spell.from_ is None or spell.from_ <= period.last
    ends_in_time = period.first is None or spell.to is None or spell.to >= period.first
    return starts_in_time and ends_in_time


def peers(inputs: ProfileInputs, period: Period) -> dict[str, Staff]:
    """The advisors over the period: each staff member whose home spell is an ``advisor``'s and
    overlaps the period, with that spell."""
    out = {}
    for staff, spells in inputs.spells.items():
        spell = home_spell(spells, period)
        if spell is not None and spell.role == "advisor" and _overlaps(spell, period):
            out[staff] = spell
    return out


def top_decile(values: Sequence[float]) -> float | None:
    """The 90th percentile by nearest rank: the ``ceil(0.9 n)``-th smallest of ``n`` values
    (None of none). Of ten advisors the best but one; of five or fewer the best.

    >>> top_decile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), top_decile([3, 1, 2]), top_decile([])
    (9, 3, None)
    """
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(0.9 * len(ordered)), 1) - 1]


@dataclass(frozen=True)
class Benchmark:
    """A figure beside the region's advisors: their mean, and their top decile."""

    value: float | None
    average: float | None
    top_decile: float | None


def benchmark(value: float | None, peer_values: Sequence[float | None]) -> Benchmark:
    """``value`` beside the mean and the top decile of the peers' values (those defined).

    The mean is the correctly rounded sum (``math.fsum``) over the count, so it does not depend
    on the order the peers come in: each store hands them over in its own order, and a running
    float sum of conversions 2/3, 1/2, 1/3 is 1.4999999999999998 one way and 1.5 the other.

    >>> benchmark(4, [4, 0, 2, None])
    Benchmark(value=4, average=2.0, top_decile=4)
    >>> [benchmark(None, v).average for v in ([2 / 3, 1 / 2, 1 / 3], [1 / 3, 1 / 2, 2 / 3])]
    [0.5, 0.5]
    """
    defined = [v for v in peer_values if v is not None]
    average = math.fsum(defined) / len(defined) if defined else None
    return Benchmark(value, average, top_decile(defined))


@dataclass(frozen=True)
class ProfileStage:
    """A stage of a profile: each figure beside the region's advisors."""

    stage: str
    touches: Benchmark
    customers: Benchmark
    deals: Benchmark
    converted: Benchmark
    conversion: Benchmark
    credit: Benchmark
    assists_given: Benchmark
    assists_received: Benchmark


_STAGE_FIGURES = (
    "touches",
    "customers",
    "deals",
    "converted",
    "conversion",
    "credit",
    "assists_given",
    "assists_received",
)


@dataclass(frozen=True)
class Profile:
    """A staff member's profile over a period: per stage and in all (``total``, stage
    ``"total"``), with points and activity, each beside the advisors of their home region
    (``peers`` of them)."""

    staff: str
    name: str | None
    role: str | None
    store: str | None
    brand: str | None
    region: str | None
    peers: int
    stages: list[ProfileStage]
    total: ProfileStage
    points: Benchmark
    activities: Benchmark


@dataclass(frozen=True)
class RegionStats:
    """The advisors of one region over a period: how many, and the average and top decile of
    each figure (as :class:`Benchmark` with no ``value``), by stage and in all."""

    peers: int
    stages: Mapping[str, Mapping[str, Benchmark]]
    total: Mapping[str, Benchmark]
    points: Benchmark
    activities: Benchmark


_NO_PEERS = RegionStats(0, {}, {}, Benchmark(None, None, None), Benchmark(None, None, None))


def region_stats(
    figures: Mapping[str, AdvisorFigures], inputs: ProfileInputs, period: Period
) -> dict[str, RegionStats]:
    """Each region's advisors (:func:`peers`, by their home store's region) summed up once, so
    that the profiles of a whole network cost one pass over it."""
    empty = AdvisorFigures(staff="", stages={})
    by_region: defaultdict[str, list[AdvisorFigures]] = defaultdict(list)
    for staff, spell in peers(inputs, period).items():
        store = inputs.stores.get(spell.store)
        if store is not None:
            by_region[store.region].append(figures.get(staff, empty))
    out = {}
    for region, theirs in by_region.items():
        stages: set[str] = set().union(*(f.stages for f in theirs))
        out[region] = RegionStats(
            peers=len(theirs),
            stages={
                stage: {
                    name: benchmark(
                        None,
                        [getattr(f.stages.get(stage, StageFigures(stage)), name) for f in theirs],
                    )
                    for name in _STAGE_FIGURES
                }
                for stage in stages
            },
            total={
                name: benchmark(None, [getattr(f, name) for f in theirs]) for name in _STAGE_FIGURES
            },
            points=benchmark(None, [f.points for f in theirs]),
            activities=benchmark(None, [f.touches + f.activities for f in theirs]),
        )
    return out


def _beside(value: float | None, peers_: Benchmark | None) -> Benchmark:
    if peers_ is None:
        return Benchmark(value, None, None)
    return Benchmark(value, peers_.average, peers_.top_decile)


def _stage_row(
    stage: str, mine: StageFigures | AdvisorFigures, theirs: Mapping[str, Benchmark]
) -> ProfileStage:
    return ProfileStage(
        stage, *(_beside(getattr(mine, name), theirs.get(name)) for name in _STAGE_FIGURES)
    )


def profile(
    staff: str,
    figures: Mapping[str, AdvisorFigures],
    inputs: ProfileInputs,
    period: Period,
    stages: Sequence[str],
    regions: Mapping[str, RegionStats] | None = None,
) -> Profile:
    """A staff member's profile (see the module's definitions). Stages are listed in the order
    of ``stages`` (the deployment's vocabulary; others after it, by name) when the staff member
    or one of the peers has a figure there. ``regions`` are the :func:`region_stats` of the same
    figures, if computed already."""
    spell = home_spell(inputs.spells.get(staff, ()), period)
    home = inputs.stores.get(spell.store) if spell is not None else None
    region = home.region if home is not None else None
    if regions is None:
        regions = region_stats(figures, inputs, period)
    stats = regions.get(region, _NO_PEERS) if region is not None else _NO_PEERS
    mine = figures.get(staff, AdvisorFigures(staff=staff, stages={}))
    order = {s: i for i, s in enumerate(stages)}
    rows = [
        _stage_row(stage, mine.stages.get(stage, StageFigures(stage)), stats.stages.get(stage, {}))
        for stage in sorted(
            set(mine.stages) | set(stats.stages), key=lambda s: (order.get(s, len(order)), s)
        )
    ]
    return Profile(
        staff=staff,
        name=spell.name if spell is not None else None,
        role=spell.role if spell is not None else None,
        store=spell.store if spell is not None else None,
        brand=home.brand if home is not None else None,
        region=region,
        peers=stats.peers,
        stages=rows,
        total=_stage_row("total", mine, stats.total),
        points=_beside(mine.points, stats.points),
        activities=_beside(mine.touches + mine.activities, stats.activities),
    )


@dataclass(frozen=True)
class LeaderRow:
    rank: int
    staff: str
    name: str | None
    store: str | None
    region: str | None
    value: float


def leaderboard(
    metric: str,
    figures: Mapping[str, AdvisorFigures],
    inputs: ProfileInputs,
    period: Period,
    *,
    region: str | None = None,
    brand: str | None = None,
    limit: int | None = 20,
) -> list[LeaderRow]:
    """The advisors (:func:`peers`) of ``region`` and ``brand`` (their home store's; any if
    None) ranked by ``metric`` (one of :data:`METRICS`, the totals of :class:`AdvisorFigures`),
    highest first, then by id (by conversion: then by most customers, then id); an advisor whose
    conversion is undefined is not ranked by it. Ranks are 1, 2, 3, ... (ties get consecutive
    ranks)."""
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}")
    empty = AdvisorFigures(staff="", stages={})
    rows = []
    for staff, spell in peers(inputs, period).items():
        store = inputs.stores.get(spell.store)
        if region is not None and (store is None or store.region != region):
            continue
        if brand is not None and (store is None or store.brand != brand):
            continue
        value = figures.get(staff, empty).metric(metric)
        if value is None:
            continue
        weight = figures.get(staff, empty).customers if metric == "conversion" else 0
        rows.append((staff, spell, store.region if store else None, value, weight))
    rows.sort(key=lambda r: (-r[3], -r[4], r[0]))
    chosen = rows if limit is None else rows[:limit]
    return [
        LeaderRow(i, staff, spell.name, spell.store, where, value)
        for i, (staff, spell, where, value, _) in enumerate(chosen, start=1)
    ]


def activity_counts(inputs: ProfileInputs) -> Counter[str]:
    """Each staff member's activity: their touches plus their activities (of ``inputs``)."""
    counts = Counter(t.staff for t in inputs.touches)
    counts.update(a.staff for a in inputs.activities)
    return counts


@dataclass(frozen=True)
class AtRisk:
    """An advisor whose activity fell: ``before`` and ``after`` are the activity of the earlier
    and of the recent window, ``fall = (before - after) / before``."""

    staff: str
    name: str | None
    store: str | None
    region: str | None
    before: int
    after: int
    fall: float


def at_risk(
    before: Mapping[str, int],
    after: Mapping[str, int],
    inputs: ProfileInputs,
    recent: Period,
    drop: float,
) -> list[AtRisk]:
    """The advisors at risk: staff whose spell on the recent window's last day is an
    ``advisor``'s, with activity in the earlier window, whose activity fell by more than ``drop``
    (a share, 0 to 1) from the earlier window (``before``) to the recent one (``after``);
    steepest fall first, then most activity before, then id. Someone no longer employed on that
    day is not at risk: they left.

    >>> from contribnet.domain.events import Staff
    >>> spells = {s: [Staff(id=s, name=s, store="st-a", role="advisor")] for s in "xyz"}
    >>> rows = at_risk({"x": 10, "y": 10, "z": 4}, {"x": 4, "y": 6}, ProfileInputs(spells=spells),
    ...                Period(date(2025, 3, 1), date(2025, 3, 28)), 0.5)
    >>> [(r.staff, r.before, r.after, r.fall) for r in rows]
    [('z', 4, 0, 1.0), ('x', 10, 4, 0.6)]
    """
    rows = []
    for staff, spells in inputs.spells.items():
        had = before.get(staff, 0)
        if had <= 0:
            continue
        spell = home_spell(spells, recent)
        if spell is None or spell.role != "advisor":
            continue
        if recent.last is not None and spell.to is not None and spell.to < recent.last:
            continue
        now = after.get(staff, 0)
        fall = (had - now) / had
        if fall > drop:
            store = inputs.stores.get(spell.store)
            region = store.region if store is not None else None
            rows.append(AtRisk(staff, spell.name, spell.store, region, had, now, fall))
    rows.sort(key=lambda r: (-r.fall, -r.before, r.staff))
    return rows

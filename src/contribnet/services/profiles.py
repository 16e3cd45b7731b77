"""Advisor profiles, leaderboards and the at-risk list: reads orchestrated, figures computed by
:mod:`contribnet.graph.profiles` (where the definitions are).

Each answer is one bulk read of the period's touches, activities, spells and stores
(``store.profiles``), the current settlements of the deals closed in it (``Ledger.
current_settlements``, what payroll pays) and the points the activities earn under the points
policy in force (:func:`contribnet.credit.points.activity_entries`, as the points ledger prices
them). :func:`profile_board` computes every staff member's figures at once, so that many profiles
of one period (the benchmark's) cost one read.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property

from pydantic import BaseModel, Field

from contribnet.credit.points import activity_entries
from contribnet.domain.errors import NotFound
from contribnet.domain.events import DEFAULT_STAGES
from contribnet.domain.profiles import ProfileInputs
from contribnet.domain.settlement import (
    FIRST_DAY,
    InvalidRequest,
    Settlement,
    business_date,
    period_bounds,
)
from contribnet.graph import profiles as figures_of
from contribnet.graph.profiles import METRICS, AdvisorFigures, Period
from contribnet.services.points import pricing_policies
from contribnet.services.reports import check_period
from contribnet.store.base import Store
from contribnet.store.profiles import profile_store

__all__ = [
    "AtRiskList",
    "AtRiskRow",
    "BenchmarkView",
    "Leaderboard",
    "LeaderRow",
    "ProfileBoard",
    "ProfileStageView",
    "ProfileView",
    "DEFAULT_WEEKS",
    "at_risk",
    "default_window",
    "leaderboard",
    "profile_board",
    "staff_profile",
]


#: The weeks of a profile's default period, ending today (:func:`default_window`).
DEFAULT_WEEKS = 12


class BenchmarkView(BaseModel):
    value: int | float | None = Field(description="the staff member's figure")
    average: int | float | None = Field(description="the mean over the region's advisors")
    top_decile: int | float | None = Field(
        description="the 90th percentile (nearest rank) among the region's advisors"
    )


class ProfileStageView(BaseModel):
    stage: str
    touches: BenchmarkView
    customers: BenchmarkView = Field(description="distinct customers touched at the stage")
    deals: BenchmarkView = Field(description="deals closed in the period credited at the stage")
    converted: BenchmarkView = Field(
        description="customers whose touch at the stage counted on a deal closed in the period"
    )
    conversion: BenchmarkView = Field(description="converted / customers (null: no customer)")
    credit: BenchmarkView = Field(description="fen earned at the stage")
    assists_given: BenchmarkView = Field(description="fen earned on deals others closed")
    assists_received: BenchmarkView = Field(description="fen paid to others on deals they closed")


class ProfileView(BaseModel):
    """A staff member's profile over a period (definitions: ``contribnet.graph.profiles``)."""

    model_config = {"populate_by_name": True}

    staff: str
    name: str | None
    role: str | None
    store: str | None
    brand: str | None
    region: str | None
    from_: date | None = Field(default=None, alias="from")
    to: date | None = None
    peers: int = Field(description="the region's advisors the figures are compared with")
    stages: list[ProfileStageView]
    total: ProfileStageView
    points: BenchmarkView = Field(description="activity points earned in the period")
    activities: BenchmarkView = Field(description="touches plus activities in the period")


class LeaderRow(BaseModel):
    rank: int
    staff: str
    name: str | None
    store: str | None
    region: str | None
    value: int | float


class Leaderboard(BaseModel):
    model_config = {"populate_by_name": True}

    metric: str
    region: str | None = None
    brand: str | None = None
    from_: date | None = Field(default=None, alias="from")
    to: date | None = None
    rows: list[LeaderRow]


class AtRiskRow(BaseModel):
    staff: str
    name: str | None
    store: str | None
    region: str | None
    before: int = Field(description="touches plus activities in the earlier window")
    after: int = Field(description="touches plus activities in the recent window")
    fall: float = Field(description="(before - after) / before")


class AtRiskList(BaseModel):
    before_from: date
    before_to: date
    from_: date = Field(alias="from")
    to: date
    drop: float
    rows: list[AtRiskRow]

    model_config = {"populate_by_name": True}


@dataclass(frozen=True)
class ProfileBoard:
    """Every staff member's figures over one period, and what they were computed from."""

    period: Period
    inputs: ProfileInputs
    figures: dict[str, AdvisorFigures]

    @cached_property
    def regions(self) -> dict[str, figures_of.RegionStats]:
        """Each region's advisors summed up, once for all the profiles of the board."""
        return figures_of.region_stats(self.figures, self.inputs, self.period)


def _points(inputs: ProfileInputs, store: Store) -> dict[str, int]:
    """Each staff member's activity points of the period's activities."""
    regions = {s.id: s.region for s in inputs.stores.values()}
    earned: Counter[str] = Counter()
    entries = activity_entries(inputs.activities, pricing_policies(store), inputs.spells, regions)
    for activity, entry in zip(
        sorted(inputs.activities, key=lambda a: (a.at, a.id)), entries, strict=True
    ):
        earned[activity.staff] += entry.points
    return dict(earned)


def profile_board(store: Store, start: date | None, end: date | None) -> ProfileBoard:
    """Every staff member's figures over the days ``start`` to ``end`` (either may be open)."""
    check_period(start, end)
    lo, hi = period_bounds(start, end)
    inputs = profile_store(store).profile_inputs(lo, hi)
    return _board(store, inputs, lo, hi, Period(start, end))


def _board(
    store: Store,
    inputs: ProfileInputs,
    lo: datetime | None,
    hi: datetime | None,
    period: Period,
    only: set[str] | None = None,
) -> ProfileBoard:
    """The board of ``inputs``; with ``only``, the figures of those staff alone: their touches,
    activities and the settlements crediting them or closed by them are all their figures
    depend on, so theirs are exact and everyone else's are partial."""
    settlements: Iterable[Settlement] = store.ledger.current_settlements(lo, hi)
    if only is not None:
        inputs = ProfileInputs(
            touches=[t for t in inputs.touches if t.staff in only],
            activities=[a for a in inputs.activities if a.staff in only],
            spells=inputs.spells,
            stores=inputs.stores,
        )
        settlements = (
            s
            for s in settlements
            if s.closer in only or any(a.kind == "staff" and a.id in only for a in s.allocations)
        )
    figures = figures_of.advisor_figures(
        settlements,
        inputs.touches,
        _points(inputs, store),
        Counter(a.staff for a in inputs.activities),
    )
    return ProfileBoard(period, inputs, figures)


def _benchmark(b: figures_of.Benchmark) -> BenchmarkView:
    return BenchmarkView(value=b.value, average=b.average, top_decile=b.top_decile)


def _stage(row: figures_of.ProfileStage) -> ProfileStageView:
    return ProfileStageView(
        stage=row.stage,
        touches=_benchmark(row.touches),
        customers=_benchmark(row.customers),
        deals=_benchmark(row.deals),
        converted=_benchmark(row.converted),
        conversion=_benchmark(row.conversion),
        credit=_benchmark(row.credit),
        assists_given=_benchmark(row.assists_given),
        assists_received=_benchmark(row.assists_received),
    )


def board_profile(
    board: ProfileBoard, staff_id: str, stages: Sequence[str] = DEFAULT_STAGES
) -> ProfileView:
    """One staff member's profile from a board; ``NotFound`` if no spell of theirs is recorded."""
    if staff_id not in board.inputs.spells:
        raise NotFound("staff", staff_id)
    p = figures_of.profile(
        staff_id, board.figures, board.inputs, board.period, stages, board.regions
    )
    return ProfileView(
        staff=p.staff,
        name=p.name,
        role=p.role,
        store=p.store,
        brand=p.brand,
        region=p.region,
        from_=board.period.first,
        to=board.period.last,
        peers=p.peers,
        stages=[_stage(s) for s in p.stages],
        total=_stage(p.total),
        points=_benchmark(p.points),
        activities=_benchmark(p.activities),
    )


def default_window(
    start: date | None, end: date | None, today: date | None = None
) -> tuple[date, date]:
    """A profile's period: ``end`` defaults to today (China Standard Time) and ``start`` to
    :data:`DEFAULT_WEEKS` weeks ending on ``end`` (``7 * DEFAULT_WEEKS`` days), since a profile
    is about recent performance.

    >>> default_window(None, None, today=date(2025, 3, 31))
    (datetime.date(2025, 1, 7), datetime.date(2025, 3, 31))
    >>> default_window(date(2025, 3, 1), None, today=date(2025, 3, 31))
    (datetime.date(2025, 3, 1), datetime.date(2025, 3, 31))
    """
    last = end if end is not None else (today or business_date(datetime.now(UTC)))
    if start is not None:
        return start, last
    if last < FIRST_DAY + timedelta(days=7 * DEFAULT_WEEKS - 1):
        raise InvalidRequest.one(
            "to", f"the default {DEFAULT_WEEKS} weeks would start before year 1"
        )
    return last - timedelta(days=7 * DEFAULT_WEEKS - 1), last


def staff_profile(
    store: Store,
    staff_id: str,
    start: date | None,
    end: date | None,
    stages: Sequence[str] = DEFAULT_STAGES,
) -> ProfileView:
    """A staff member's profile over the days ``start`` to ``end`` (:func:`default_window` for
    those absent), beside their region's advisors; ``NotFound`` if no spell of theirs is
    recorded. Only the touches and activities of the staff member and their region's advisors
    are read, and only their figures computed."""
    start, end = default_window(start, end)
    check_period(start, end)
    lo, hi = period_bounds(start, end)
    reads = profile_store(store)
    # The spells and stores alone first (no staff: no touches), to know the region's advisors.
    directory = reads.profile_inputs(lo, hi, staff=())
    if staff_id not in directory.spells:
        raise NotFound("staff", staff_id)
    period = Period(start, end)
    region = _region_advisors(directory, period, staff_id)
    inputs = reads.profile_inputs(lo, hi, staff=region)
    board = _board(store, inputs, lo, hi, period, region)
    return board_profile(board, staff_id, stages)


def _region_advisors(inputs: ProfileInputs, period: Period, staff_id: str) -> set[str]:
    """The staff member and the advisors of their home region (the profile's peers)."""
    home = figures_of.home_spell(inputs.spells[staff_id], period)
    store = inputs.stores.get(home.store) if home is not None else None
    region = store.region if store is not None else None
    found = {staff_id}
    if region is None:
        return found
    for staff, spell in figures_of.peers(inputs, period).items():
        theirs = inputs.stores.get(spell.store)
        if theirs is not None and theirs.region == region:
            found.add(staff)
    return found


def leaderboard(
    store: Store,
    metric: str,
    start: date | None,
    end: date | None,
    *,
    region: str | None = None,
    brand: str | None = None,
    limit: int | None = 20,
) -> Leaderboard:
    """The advisors ranked by ``metric`` (one of ``credit``, ``deals``, ``touches``,
    ``points``, ``conversion``) over the days ``start`` to ``end``, highest first; only those of
    ``region`` and ``brand`` if given. An unknown metric is refused naming ``metric``."""
    if metric not in METRICS:
        raise InvalidRequest.one(
            "metric", f"unknown metric {metric!r}; one of {', '.join(METRICS)}"
        )
    board = profile_board(store, start, end)
    rows = figures_of.leaderboard(
        metric, board.figures, board.inputs, board.period, region=region, brand=brand, limit=limit
    )
    return Leaderboard(
        metric=metric,
        region=region,
        brand=brand,
        from_=start,
        to=end,
        rows=[
            LeaderRow(
                rank=r.rank,
                staff=r.staff,
                name=r.name,
                store=r.store,
                region=r.region,
                value=r.value,
            )
            for r in rows
        ],
    )


def at_risk(
    store: Store,
    drop: float,
    weeks: int = 4,
    start: date | None = None,
    end: date | None = None,
    today: date | None = None,
) -> AtRiskList:
    """The advisors whose activity (touches plus activities) fell by more than ``drop`` from the
    earlier window to the recent one (:func:`contribnet.graph.profiles.at_risk`).

    The recent window ends on ``end`` (default: today, China Standard Time) and starts on
    ``start`` or, without it, ``weeks`` weeks before (``7 * weeks`` days ending on ``end``);
    the earlier window is as many days, just before it."""
    if not 0 < drop < 1:
        raise InvalidRequest.one("drop", "a share between 0 and 1 (exclusive)")
    if weeks < 1:
        raise InvalidRequest.one("weeks", "at least 1")
    last = end if end is not None else (today or business_date(datetime.now(UTC)))
    check_period(start, last)
    try:
        first = start if start is not None else last - timedelta(days=7 * weeks - 1)
        earlier_first = first - timedelta(days=(last - first).days + 1)
    except OverflowError:
        earlier_first = date.min
    if earlier_first < FIRST_DAY:  # the windows would begin before the calendar does
        field = "from" if start is not None else "to"
        raise InvalidRequest.one(field, "the earlier window would start before year 1")
    check_period(earlier_first, last)
    lo, hi = period_bounds(earlier_first, last)
    split, _ = period_bounds(first, None)
    assert lo is not None and split is not None
    inputs = profile_store(store).profile_inputs(lo, hi)
    before = ProfileInputs(
        touches=[t for t in inputs.touches if t.at < split],
        activities=[a for a in inputs.activities if a.at < split],
    )
    after = ProfileInputs(
        touches=[t for t in inputs.touches if t.at >= split],
        activities=[a for a in inputs.activities if a.at >= split],
    )
    rows = figures_of.at_risk(
        figures_of.activity_counts(before),
        figures_of.activity_counts(after),
        inputs,
        Period(first, last),
        drop,
    )
    return AtRiskList(
        before_from=earlier_first,
        before_to=first - timedelta(days=1),
        from_=first,
        to=last,
        drop=drop,
        rows=[
            AtRiskRow(
                staff=r.staff,
                name=r.name,
                store=r.store,
                region=r.region,
                before=r.before,
                after=r.after,
                fall=r.fall,
            )
            for r in rows
        ],
    )

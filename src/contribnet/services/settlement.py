"""Settlement: recording a deal's split as paid, once, and correcting it only with a reason.

* :func:`settle` -- one deal, under the policy version in force at its close (or one named).
  Settling again with unchanged inputs (journey, policy version, model, data-driven tables)
  returns the recorded settlement; after late or voided touches, or under another policy or
  model, the inputs have changed and a ``reason`` is required: the new settlement supersedes the
  previous one, which stays readable in :func:`history`. A deal voided after it was settled
  (a cancelled order) is settled again, with a reason, to nothing: a reversal.
* :func:`settle_period` -- every unsettled deal closed in a period, chunk by chunk (one read of
  all the chunk's journeys, one write of all its settlements), yielding progress. Safe to kill
  and restart: a chunk is written in one transaction, the next run lists only deals still
  unsettled, and a settlement's id is a hash of what it settles, so even two runs at once
  settle each deal exactly once.
* :func:`resettle_period` (:func:`resettle`) -- after the rules or the journeys changed, every
  settled deal whose split, computed now under the policy version and model its settlement
  recorded, pays anyone differently (fen, points or store credit): listed, and unless a dry run
  superseded with a reason, chunk by chunk; deals whose split is unchanged are left alone, so a
  second run changes nothing. A deal voided since it was settled is reversed.
* :func:`adjust` -- a leader moves part of a settled deal's credit between staff members; the
  adjustment is appended, never edited, and shows in statements.
* :func:`credit_rows` -- current settlements flattened for roll-ups and the collaboration graph.
"""

from __future__ import annotations

import logging
import multiprocessing
import sqlite3
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from neo4j.exceptions import DriverError

from contribnet import metrics
from contribnet.credit import (
    Allocation,
    CreditContext,
    CreditError,
    Split,
    compute_split,
    input_hash,
)
from contribnet.credit.registry import payable
from contribnet.domain.credit_rows import CreditRow
from contribnet.domain.errors import NotFound
from contribnet.domain.flags import FlagRules
from contribnet.domain.journey import DealJourney
from contribnet.domain.ledger import check_adjustment, next_settlement, reversal, same_inputs
from contribnet.domain.settlement import (
    Adjustment,
    Credit,
    DealHeld,
    DealRef,
    InvalidRequest,
    PolicyRecord,
    RecordOutcome,
    Settlement,
    SettlementConflict,
    credits_of,
    period_bounds,
)
from contribnet.process import tune_gc
from contribnet.services import audit
from contribnet.services.credit import check_model, credit_context, deal_journey
from contribnet.services.holds import OpenFlags, open_flags
from contribnet.services.policies import find_policy, policy_in_force, resolve_policy
from contribnet.store.base import Store

_log = logging.getLogger(__name__)

__all__ = [
    "BatchProgress",
    "DealChange",
    "PersonChange",
    "RecomputedSplit",
    "RecordedProgress",
    "ResettleReport",
    "StoreChange",
    "adjust",
    "credit_rows",
    "history",
    "resettle",
    "resettle_period",
    "settle",
    "settle_period",
    "settle_recomputed",
]

#: Deals read, computed and written together by :func:`settle_period`.
CHUNK = 1000
#: Failures listed in a batch's progress (all are counted).
MAX_LISTED_FAILURES = 100

_Job = TypeVar("_Job")
_PlanT = TypeVar("_PlanT")
_ResultT = TypeVar("_ResultT")


def _record(store: Store, settlements: Sequence[Settlement], action: str) -> list[RecordOutcome]:
    """Write settlements to the ledger; each new one is logged (a superseding one names the
    settlement it replaces), counted, and audited with them (``services/audit.py``)."""
    with audit.unit(store):
        outcomes = store.ledger.record_settlements(settlements)
        created = [s for s, o in zip(settlements, outcomes, strict=True) if o == "created"]
        _audit_settlements(store, created)
    # counted once per outcome, not per settlement: a batch records a thousand at a time
    for outcome, count in Counter(outcomes).items():
        metrics.SETTLEMENTS.labels(action, outcome).inc(count)
    if not _log.isEnabledFor(logging.INFO):
        return outcomes
    for settlement, outcome in zip(settlements, outcomes, strict=True):
        if outcome == "created":
            _log.info(
                "settlement %s recorded (%s): deal %s, %d fen by %s, policy %s%s, by %s",
                settlement.id,
                action,
                settlement.deal,
                settlement.pool,
                settlement.model,
                settlement.policy,
                f", supersedes {settlement.supersedes}" if settlement.supersedes else "",
                settlement.requested_by,
            )
    return outcomes


def _audit_settlements(store: Store, created: Sequence[Settlement]) -> None:
    """One audit entry for the new settlements of a write, one for those superseding others:
    each touches the settlement, its deal and every staff member it pays (and the one it
    supersedes)."""
    if not created:
        return
    for action in ("settled", "superseded"):
        chosen = [s for s in created if (s.supersedes is not None) == (action == "superseded")]
        if not chosen:
            continue
        targets = [
            target
            for s in chosen
            for target in (
                s.id,
                s.deal,
                *(a.id for a in s.allocations if a.kind == "staff"),
                *((s.supersedes,) if s.supersedes else ()),
            )
        ]
        reasons = "; ".join(dict.fromkeys(s.reason for s in chosen if s.reason)) or None
        audit.record(store, action, chosen[0].requested_by, targets, reasons)


def history(store: Store, deal_id: str) -> list[Settlement]:
    """A deal's settlements, oldest first (the last is current); ``NotFound`` if no such deal."""
    found = store.ledger.settlement_history(deal_id)
    if not found:
        store.get("deal", deal_id)  # raises NotFound for an unknown deal
    return found


def settle(
    store: Store,
    deal_id: str,
    *,
    requested_by: str,
    policy: str | None = None,
    model: str | None = None,
    reason: str | None = None,
    flag_rules: FlagRules | None = None,
) -> tuple[Settlement, bool]:
    """Settle a deal: ``(settlement, True)`` if recorded now, ``(current, False)`` if the current
    settlement already has these exact inputs.

    Under a policy that holds flagged deals (``hold_flagged``), a deal involved in an open flag
    of those kinds (found with ``flag_rules``) is not settled: ``DealHeld`` names the flags
    (``services/holds.py``).

    A deal voided after it was settled gets a reversal (no allocations) superseding its
    settlement, which needs a reason like any other change.

    Raises ``NotFound`` (no such deal; voided and never settled), ``InvalidRequest`` (unknown
    policy or model, no policy in force) or ``SettlementConflict`` (inputs changed and no
    ``reason``; or another request settled the deal meanwhile -- read the history and retry).
    """
    reason = (reason or "").strip() or None
    try:
        journey = deal_journey(store, deal_id)
    except NotFound:
        return _reverse_voided(store, deal_id, requested_by, reason)
    record = resolve_policy(store, policy, journey.deal.closed_at)
    name = check_model(model or record.policy.model)
    context = credit_context(store, record.policy, name)
    chain = store.ledger.settlement_history(deal_id)
    current = chain[-1] if chain else None
    try:
        payable(name, record.policy)  # an "analysis only" model pays only if the policy says so
        hashed = input_hash(journey, record.policy, name, context)
        if current is not None and same_inputs(current, hashed, record.id, name):
            return current, False
        held = open_flags(store, record.policy.hold_flagged, flag_rules).holding(
            deal_id, record.policy
        )
        if held:
            raise DealHeld(
                deal_id,
                current.id if current else None,
                f"deal {deal_id!r} is held by open flags {', '.join(held)} (policy "
                f"{record.id} holds flagged deals): a leader reviews them first (dismiss or "
                "confirm)",
                field="flags",
                flags=held,
            )
        if current is not None and reason is None:
            raise SettlementConflict(
                deal_id,
                current.id,
                f"deal {deal_id!r} is settled ({current.id}, policy {current.policy}, model "
                f"{current.model}) and its inputs have changed since: give a reason to supersede "
                "that settlement",
            )
        split = compute_split(journey, record.policy, name, context, hashed=hashed)
    except CreditError as exc:
        raise InvalidRequest.one("model", str(exc)) from None
    settlement = next_settlement(
        split, journey, record, requested_by, previous=current, reason=reason, now=datetime.now(UTC)
    )
    (outcome,) = _record(store, [settlement], "settle")
    if outcome == "created":
        return settlement, True
    if outcome == "existing":
        return store.ledger.settlement(settlement.id), False
    raise SettlementConflict(
        deal_id,
        store.ledger.settlement_history(deal_id)[-1].id,
        f"deal {deal_id!r} was settled by another request meanwhile; read its settlements and "
        "try again",
        field="deal",
    )


def _reverse_voided(
    store: Store, deal_id: str, requested_by: str, reason: str | None
) -> tuple[Settlement, bool]:
    """A deal voided after it was settled (a cancelled order) is settled again with nothing to
    pay: a reversal that supersedes the settlement, so statements and roll-ups drop its credit.
    An unknown deal, or a voided one never settled, is ``NotFound``."""
    deal = store.get("deal", deal_id)  # NotFound if there is no such deal at all
    chain = store.ledger.settlement_history(deal_id)
    if not deal.get("voided") or not chain:
        raise NotFound("deal", deal_id)
    current = chain[-1]
    if not current.allocations:
        return current, False
    if reason is None:
        raise SettlementConflict(
            deal_id,
            current.id,
            f"deal {deal_id!r} was voided after it was settled ({current.id}): give a reason to "
            "reverse that settlement",
        )
    settlement = reversal(current, requested_by, reason, now=datetime.now(UTC))
    (outcome,) = _record(store, [settlement], "reverse")
    if outcome == "conflict":
        raise SettlementConflict(
            deal_id, None, f"deal {deal_id!r} was settled by another request meanwhile", "deal"
        )
    if outcome == "created":
        return settlement, True
    return store.ledger.settlement(settlement.id), False


# --- batches ---------------------------------------------------------------------------------


@dataclass
class BatchProgress:
    """Where a batch settlement stands; ``total`` is the unsettled deals found at the start."""

    total: int
    done: int = 0
    created: int = 0
    existing: int = 0
    skipped: int = 0
    failures: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    finished: bool = False
    #: deals held out of settlement by open flags (``services/holds.py``), the first listed
    held: int = 0
    held_by: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)

    def add(self, result: _ChunkResult) -> None:
        self.done += result.deals
        self.created += result.created
        self.existing += result.existing
        self.skipped += result.skipped
        self.failures += len(result.failed)
        room = MAX_LISTED_FAILURES - len(self.failed)
        self.failed += result.failed[: max(room, 0)]
        self.held += len(result.held)
        self.held_by += result.held[: max(MAX_LISTED_FAILURES - len(self.held_by), 0)]


@dataclass
class _ChunkResult:
    deals: int
    created: int = 0
    existing: int = 0
    skipped: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    held: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)


@dataclass(frozen=True)
class _Plan:
    """What every chunk of a batch needs: the policy versions, the choices, the caller, and
    the open flags that hold deals."""

    policies: tuple[PolicyRecord, ...]
    policy: PolicyRecord | None
    model: str | None
    requested_by: str
    open: OpenFlags = OpenFlags()


#: Errors that mean the store is unreachable (connection lost, database locked): they stop a
#: batch, which a rerun continues. Any other error is one deal's: it fails alone.
_UNAVAILABLE: tuple[type[Exception], ...] = (DriverError, sqlite3.OperationalError)


def _chunk_journeys(
    store: Store, deal_ids: Sequence[str]
) -> tuple[dict[str, DealJourney], list[tuple[str, str]]]:
    """The chunk's journeys in one read; if that read fails (say one poisoned journey exhausts
    the store's memory), deal by deal, so that only the deal whose journey cannot be read
    fails, as "could not be settled", and the run goes on."""
    try:
        return store.deal_journeys(deal_ids), []
    except _UNAVAILABLE:
        raise
    except Exception:
        _log.warning("reading %d journeys at once failed; reading them one by one", len(deal_ids))
    journeys: dict[str, DealJourney] = {}
    failed: list[tuple[str, str]] = []
    for deal_id in deal_ids:
        try:
            journeys.update(store.deal_journeys([deal_id]))
        except _UNAVAILABLE:
            raise
        except Exception as exc:
            failed.append((deal_id, f"its journey could not be read: {type(exc).__name__}: {exc}"))
    return journeys, failed


def _settle_chunk(store: Store, deal_ids: Sequence[str], plan: _Plan) -> _ChunkResult:
    journeys, unread = _chunk_journeys(store, deal_ids)
    result = _ChunkResult(deals=len(deal_ids), failed=unread)
    unreadable = {deal_id for deal_id, _ in unread}
    now = datetime.now(UTC)
    settlements = []
    contexts: dict[tuple[str, str], Any] = {}  # one per policy version and model in the chunk
    for deal_id in deal_ids:
        if deal_id in unreadable:
            continue
        # each journey freed once its deal is settled, not with the chunk: the cyclic collector
        # then finds a quarter as many objects alive (June of m: 2 collections instead of 8)
        journey = journeys.pop(deal_id, None)
        if journey is None:  # voided since it was listed
            result.skipped += 1
            continue
        try:
            record = plan.policy or policy_in_force(plan.policies, journey.deal.closed_at)
            held = plan.open.holding(deal_id, record.policy)
            if held:
                result.held.append((deal_id, held))
                continue
            name = plan.model or record.policy.model
            payable(name, record.policy)
            if (record.id, name) not in contexts:
                contexts[record.id, name] = credit_context(store, record.policy, name)
            context = contexts[record.id, name]
            split = compute_split(journey, record.policy, name, context)
        except (InvalidRequest, CreditError) as exc:
            result.failed.append((deal_id, str(exc)))
            continue
        except _UNAVAILABLE:
            raise
        except Exception as exc:  # one deal's failure never stops the run
            _log.exception("deal %s could not be settled", deal_id)
            result.failed.append((deal_id, f"{type(exc).__name__}: {exc}"))
            continue
        settlements.append(next_settlement(split, journey, record, plan.requested_by, now=now))
    for outcome in _record(store, settlements, "period"):
        if outcome == "created":
            result.created += 1
        elif outcome == "existing":
            result.existing += 1
        else:  # settled meanwhile by someone else
            result.skipped += 1
    return result


_worker_store: Store | None = None


def _init_worker(store_url: str) -> None:
    global _worker_store
    from contribnet.store import open_store

    tune_gc()
    _worker_store = open_store(store_url)


def _worker_chunk(deal_ids: list[str], plan: _Plan) -> _ChunkResult:
    assert _worker_store is not None
    return _settle_chunk(_worker_store, deal_ids, plan)


def _chunks(
    store: Store, start: datetime | None, end: datetime | None, size: int
) -> Iterator[list[str]]:
    after: DealRef | None = None
    while True:
        refs = store.ledger.closed_deals(start, end, unsettled=True, after=after, limit=size)
        if not refs:
            return
        yield [r.id for r in refs]
        after = refs[-1]


def settle_period(
    store: Store,
    start: date | None,
    end: date | None,
    *,
    requested_by: str,
    policy: str | None = None,
    model: str | None = None,
    chunk: int = CHUNK,
    workers: int = 1,
    store_url: str | None = None,
    flag_rules: FlagRules | None = None,
) -> Iterator[BatchProgress]:
    """Settle every unsettled, non-voided deal closed from ``start`` to ``end`` (business days,
    inclusive; None: open), yielding progress after each chunk and once more at the end.

    A deal held by open flags under its policy (``hold_flagged``; flags found with
    ``flag_rules``) is left unsettled and counted in ``held``, listed with the flags' ids in
    ``held_by``; the next run after the review settles it.

    Each deal is settled under ``policy`` if named, else the version in force at its close, with
    ``model`` or the policy's. Deals that cannot be settled (no policy in force, a model that
    needs data the store lacks) are counted in ``failures`` and left unsettled. With
    ``workers > 1`` chunks are computed in that many processes, each opening ``store_url``.
    """
    if start is not None and end is not None and end < start:
        raise InvalidRequest.one("to", f"{end.isoformat()} is before from {start.isoformat()}")
    if chunk < 1:
        raise InvalidRequest.one("chunk", "must be at least 1")
    records = tuple(store.ledger.policies())
    named = None
    if policy:
        try:
            named = find_policy(records, policy)
        except NotFound:
            raise InvalidRequest.one("policy", f"no policy {policy!r} is recorded") from None
    if model is not None:
        check_model(model)
        payable(model, *(r.policy for r in ([named] if named else records)))
    holds = {kind for r in ([named] if named else records) for kind in r.policy.hold_flagged}
    plan = _Plan(records, named, model, requested_by, open_flags(store, holds, flag_rules))
    lo, hi = period_bounds(start, end)
    progress = BatchProgress(total=store.ledger.count_closed_deals(lo, hi, unsettled=True))
    yield progress
    if workers <= 1 or store_url is None:
        for deal_ids in _chunks(store, lo, hi, chunk):
            progress.add(_settle_chunk(store, deal_ids, plan))
            yield progress
    else:
        jobs = _chunks(store, lo, hi, chunk)
        for _ in _in_processes(jobs, _worker_chunk, plan, workers, store_url, progress.add):
            yield progress
    progress.finished = True
    yield progress


def _in_processes(
    jobs: Iterable[_Job],
    work: Callable[[_Job, _PlanT], _ResultT],
    plan: _PlanT,
    workers: int,
    store_url: str,
    add: Callable[[_ResultT], None],
) -> Iterator[None]:
    """``work(job, plan)`` for each job in ``workers`` spawned processes (each opening
    ``store_url``), at most two jobs per process queued; ``add`` each result, then yield."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_init_worker, initargs=(store_url,)
    ) as pool:
        pending: set[Future[_ResultT]] = set()
        try:
            for job in jobs:
                pending.add(pool.submit(work, job, plan))
                while len(pending) >= 2 * workers:
                    done, pending = _collect(pending, add)
                    if done:
                        yield
            while pending:
                done, pending = _collect(pending, add)
                if done:
                    yield
        finally:
            for future in pending:
                future.cancel()


def _collect(
    pending: set[Future[_ResultT]], add: Callable[[_ResultT], None]
) -> tuple[int, set[Future[_ResultT]]]:
    done, rest = wait(pending, return_when=FIRST_COMPLETED)
    for future in done:
        add(future.result())
    return len(done), set(rest)


# --- re-settlement ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonChange:
    """A contributor whose pay on a deal changes: staff in fen, owners in points."""

    kind: str
    id: str
    name: str | None
    old_fen: int
    new_fen: int
    old_points: int = 0
    new_points: int = 0

    @property
    def fen(self) -> int:
        """New minus old fen."""
        return self.new_fen - self.old_fen

    @property
    def points(self) -> int:
        """New minus old points."""
        return self.new_points - self.old_points


@dataclass(frozen=True)
class StoreChange:
    """A contributor's credit for one store changes while their own total does not (store
    totals, roll-ups and the leaders' graph read it)."""

    kind: str
    contributor: str
    store: str | None
    old_fen: int
    new_fen: int
    old_points: int = 0
    new_points: int = 0


@dataclass(frozen=True)
class DealChange:
    """A settled deal whose split, computed again now, pays differently.

    ``settlement`` is its current settlement, recomputed under that settlement's ``policy`` and
    ``model``; ``people`` every contributor whose fen or points change, ``stores`` the store
    credits that change for the others. A voided deal pays nothing now (``voided``). ``outcome``:
    ``listed`` (a dry run), ``superseded`` (by ``superseded_by``, with the reason) or
    ``settled meanwhile`` (another request superseded it first: nothing written).
    """

    deal: str
    closed_at: datetime
    settlement: str
    policy: str
    model: str
    people: tuple[PersonChange, ...]
    stores: tuple[StoreChange, ...] = ()
    voided: bool = False
    outcome: str = "listed"
    superseded_by: str | None = None


@dataclass
class ResettleReport:
    """Where a re-settlement stands.

    ``total`` is the live settled deals found at the start (voided deals with a settlement are
    checked too, so ``checked`` may pass it); ``changed`` counts the deals whose split changes,
    ``superseded`` those superseded now, ``skipped`` those superseded by another request first.
    ``fen_added``/``fen_removed`` sum the increases and decreases of people's fen (likewise
    points); ``fen_moved`` is the larger. :func:`resettle_period` puts in ``changes`` only the
    deals of the chunks checked since its previous step; :func:`resettle` all of them.
    """

    total: int
    dry_run: bool
    checked: int = 0
    changed: int = 0
    superseded: int = 0
    skipped: int = 0
    fen_added: int = 0
    fen_removed: int = 0
    points_added: int = 0
    points_removed: int = 0
    failures: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    changes: list[DealChange] = field(default_factory=list)
    finished: bool = False
    #: deals whose settlement stays as it is while open flags hold them, the first listed
    held: int = 0
    held_by: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)

    @property
    def fen_moved(self) -> int:
        """Fen that change hands (a reversal or a pool paid at last moves it one way only)."""
        return max(self.fen_added, self.fen_removed)

    def add(self, result: _ResettleChunk) -> None:
        self.checked += result.deals
        self.total = max(self.total, self.checked)
        for change in result.changes:
            self.changed += 1
            self.superseded += change.outcome == "superseded"
            self.skipped += change.outcome == "settled meanwhile"
            for p in change.people:
                self.fen_added += max(p.fen, 0)
                self.fen_removed += max(-p.fen, 0)
                self.points_added += max(p.points, 0)
                self.points_removed += max(-p.points, 0)
        self.changes = [*self.changes, *result.changes]
        self.failures += len(result.failed)
        room = MAX_LISTED_FAILURES - len(self.failed)
        self.failed += result.failed[: max(room, 0)]
        self.held += len(result.held)
        self.held_by += result.held[: max(MAX_LISTED_FAILURES - len(self.held_by), 0)]


@dataclass
class _ResettleChunk:
    deals: int
    changes: list[DealChange] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    held: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)


@dataclass(frozen=True)
class _ResettlePlan:
    policies: tuple[PolicyRecord, ...]
    requested_by: str
    reason: str | None
    dry_run: bool
    open: OpenFlags = OpenFlags()


_Pay = dict[tuple[str, ...], tuple[int, int]]


def _pay(entries: Iterable[tuple[tuple[str, ...], int, int]]) -> _Pay:
    """Fen and points per key, summed."""
    found: _Pay = {}
    for key, amount, points in entries:
        fen, pts = found.get(key, (0, 0))
        found[key] = (fen + amount, pts + points)
    return found


def _changed(
    old: _Pay, new: _Pay
) -> list[tuple[tuple[str, ...], tuple[int, int], tuple[int, int]]]:
    """The keys whose fen or points differ, staff first, then by id: ``(key, old, new)``."""
    keys = sorted(old.keys() | new.keys(), key=lambda k: (k[0] != "staff", *k))
    zero = (0, 0)
    return [
        (k, old.get(k, zero), new.get(k, zero))
        for k in keys
        if old.get(k, zero) != new.get(k, zero)
    ]


def _compare(
    current: Settlement,
    allocations: Sequence[Allocation],
    credits: Sequence[Credit],
    name: Callable[[str, str], str | None],
) -> tuple[tuple[PersonChange, ...], tuple[StoreChange, ...]]:
    """What changes between ``current`` and a split's allocations and store credits."""
    people = tuple(
        PersonChange(kind, who, name(kind, who), old[0], new[0], old[1], new[1])
        for (kind, who), old, new in _changed(
            _pay(((a.kind, a.id), a.amount, a.points) for a in current.allocations),
            _pay(((a.kind, a.id), a.amount, a.points) for a in allocations),
        )
    )
    moved = {(p.kind, p.id) for p in people}
    stores = tuple(
        StoreChange(kind, who, where or None, old[0], new[0], old[1], new[1])
        for (kind, who, where), old, new in _changed(
            _pay(
                ((c.kind, c.contributor, c.store or ""), c.amount, c.points)
                for c in current.credits
            ),
            _pay(((c.kind, c.contributor, c.store or ""), c.amount, c.points) for c in credits),
        )
        if (kind, who) not in moved
    )
    return people, stores


def _namer(
    store: Store, journey: DealJourney | None, known: dict[str, str | None]
) -> Callable[[str, str], str | None]:
    """Names of a deal's contributors: staff by their latest spell (from the journey, else the
    store, remembered in ``known``); an owner if they are the deal's customer."""

    def name(kind: str, who: str) -> str | None:
        if kind == "owner":
            customer = journey.customer if journey is not None else None
            return customer.name if customer is not None and customer.id == who else None
        spells = journey.staff.get(who) if journey is not None else None
        if spells:
            return spells[-1].name
        if who not in known:
            try:
                known[who] = store.get("staff", who).get("name")
            except NotFound:
                known[who] = None
        return known[who]

    return name


def _resettle_chunk(
    store: Store, current: Sequence[Settlement], plan: _ResettlePlan
) -> _ResettleChunk:
    """Recompute each deal's split under its current settlement's policy and model (one read
    of all the chunk's journeys), and unless a dry run supersede the changed ones in one write."""
    journeys = store.deal_journeys([s.deal for s in current])
    policies = {r.id: r for r in plan.policies}
    result = _ResettleChunk(deals=len(current))
    now = datetime.now(UTC)
    contexts: dict[tuple[str, str], Any] = {}
    staff_names: dict[str, str | None] = {}
    found: list[tuple[DealChange, Settlement | None]] = []
    for s in current:
        journey = journeys.get(s.deal)
        name = _namer(store, journey, staff_names)
        new: Settlement | None = None  # what supersedes it, unless a dry run
        if journey is None:  # voided after it was settled: it pays nothing now
            people, stores = _compare(s, [], [], name)
            if not people and not stores:
                continue
            if not plan.dry_run:
                new = reversal(s, plan.requested_by, plan.reason or "", now=now)
        else:
            try:
                record = policies.get(s.policy)
                if record is None:
                    raise InvalidRequest.one("policy", f"no policy {s.policy!r} is recorded")
                payable(s.model, record.policy)  # settled under a model no longer paid with
                if (record.id, s.model) not in contexts:
                    contexts[record.id, s.model] = credit_context(store, record.policy, s.model)
                split = compute_split(journey, record.policy, s.model, contexts[record.id, s.model])
            except (InvalidRequest, CreditError) as exc:
                result.failed.append((s.deal, str(exc)))
                continue
            people, stores = _compare(s, split.allocations, credits_of(split), name)
            if not people and not stores:
                continue
            held = plan.open.holding(s.deal, record.policy)
            if held:  # the settlement paid stays as it is until the flags are reviewed
                result.held.append((s.deal, held))
                continue
            if not plan.dry_run:
                new = next_settlement(
                    split,
                    journey,
                    record,
                    plan.requested_by,
                    previous=s,
                    reason=plan.reason,
                    now=now,
                )
        change = DealChange(
            deal=s.deal,
            closed_at=s.closed_at,
            settlement=s.id,
            policy=s.policy,
            model=s.model,
            people=people,
            stores=stores,
            voided=journey is None,
        )
        found.append((change, new))
    writes = [new for _, new in found if new is not None]
    outcomes = iter(_record(store, writes, "resettle") if writes else [])
    for change, new in found:
        if new is not None:
            created = next(outcomes) == "created"
            change = replace(
                change,
                outcome="superseded" if created else "settled meanwhile",
                superseded_by=new.id if created else None,
            )
        result.changes.append(change)
    return result


def _worker_resettle(current: list[Settlement], plan: _ResettlePlan) -> _ResettleChunk:
    assert _worker_store is not None
    return _resettle_chunk(_worker_store, current, plan)


def _settled_chunks(
    store: Store, lo: datetime | None, hi: datetime | None, size: int
) -> Iterator[list[Settlement]]:
    """The current settlements of deals closed in ``[lo, hi)``, ``size`` at a time."""
    batch: list[Settlement] = []
    for s in store.ledger.current_settlements(lo, hi):
        batch.append(s)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def resettle_period(
    store: Store,
    start: date | None,
    end: date | None,
    *,
    requested_by: str,
    reason: str | None = None,
    dry_run: bool = False,
    chunk: int = CHUNK,
    workers: int = 1,
    store_url: str | None = None,
    flag_rules: FlagRules | None = None,
) -> Iterator[ResettleReport]:
    """Settle again every settled deal closed from ``start`` to ``end`` (business days,
    inclusive; None: open) whose split changes when computed now, yielding a report after each
    chunk (its ``changes``: the deals of that chunk) and once more at the end.

    Each deal's current settlement is compared with a split computed now under the same policy
    version and model: fen and points per contributor, and per store. A voided deal pays nothing
    now. Unless ``dry_run``, each deal that changes is superseded with ``reason`` (required) by
    the usual rules -- a new settlement in its chain, recorded only if the one compared is still
    current -- and no other deal is touched: run again, nothing changes. Deals that cannot be
    computed (a model that needs data the store lacks) are counted in ``failures`` and left as
    they are; so are deals held by open flags under their settlement's policy
    (``hold_flagged``; flags found with ``flag_rules``), counted in ``held``. With ``workers > 1``
    chunks are computed in that many processes, each opening ``store_url``.
    """
    reason = (reason or "").strip() or None
    if not dry_run and reason is None:
        raise InvalidRequest.one(
            "reason", "required to supersede settlements: say why they are settled again"
        )
    if start is not None and end is not None and end < start:
        raise InvalidRequest.one("to", f"{end.isoformat()} is before from {start.isoformat()}")
    if chunk < 1:
        raise InvalidRequest.one("chunk", "must be at least 1")
    records = tuple(store.ledger.policies())
    holds = {kind for r in records for kind in r.policy.hold_flagged}
    plan = _ResettlePlan(
        records, requested_by, reason, dry_run, open_flags(store, holds, flag_rules)
    )
    lo, hi = period_bounds(start, end)
    ledger = store.ledger
    settled = ledger.count_closed_deals(lo, hi) - ledger.count_closed_deals(lo, hi, unsettled=True)
    report = ResettleReport(total=settled, dry_run=dry_run)
    yield report
    jobs = _settled_chunks(store, lo, hi, chunk)
    if workers <= 1 or store_url is None:
        for current in jobs:
            report.add(_resettle_chunk(store, current, plan))
            yield report
            report.changes = []
    else:
        for _ in _in_processes(jobs, _worker_resettle, plan, workers, store_url, report.add):
            yield report
            report.changes = []
    report.finished = True
    yield report


def resettle(
    store: Store,
    start: date | None = None,
    end: date | None = None,
    *,
    requested_by: str,
    reason: str | None = None,
    dry_run: bool = False,
    chunk: int = CHUNK,
) -> ResettleReport:
    """:func:`resettle_period` run to its end, with every changed deal in ``changes`` (for
    periods whose changes fit in memory; the CLI streams them instead)."""
    changes: list[DealChange] = []
    report = None
    for report in resettle_period(
        store,
        start,
        end,
        requested_by=requested_by,
        reason=reason,
        dry_run=dry_run,
        chunk=chunk,
    ):
        changes += report.changes
    assert report is not None
    report.changes = changes
    return report


# --- adjustments -----------------------------------------------------------------------------


def adjust(
    store: Store,
    deal_id: str,
    *,
    from_staff: str,
    to_staff: str,
    amount: int,
    reason: str,
    requested_by: str,
    adjustment_id: str | None = None,
) -> tuple[Adjustment, bool]:
    """Move ``amount`` fen of a settled deal's credit from one staff member to another.

    ``from_staff`` must hold at least ``amount`` on the deal (their settled amount plus what
    earlier adjustments moved to them, minus what they moved away); ``to_staff`` must be a
    known staff member. With ``adjustment_id`` the request is idempotent: the same id and content
    again returns the recorded adjustment, other content under that id is a conflict.
    """
    reason = reason.strip()
    if not reason:
        raise InvalidRequest.one("reason", "required: why the credit moves")
    if amount <= 0:
        raise InvalidRequest.one("amount", "must be a positive number of fen")
    if from_staff == to_staff:
        raise InvalidRequest.one("to_staff", "must differ from from_staff")
    chain = history(store, deal_id)
    if not chain:
        raise InvalidRequest.one("deal", f"deal {deal_id!r} is not settled yet: settle it first")
    current = chain[-1]
    earlier = store.ledger.adjustments(deal=deal_id)
    if adjustment_id is not None:
        for recorded in earlier:
            if recorded.id == adjustment_id:
                candidate = recorded.model_copy(
                    update={
                        "from_staff": from_staff,
                        "to_staff": to_staff,
                        "amount": amount,
                        "reason": reason,
                    }
                )
                return _adjust(store, candidate)
    adjustment = Adjustment(
        id=adjustment_id or f"adj-{uuid.uuid4().hex[:20]}",
        deal=deal_id,
        closed_at=current.closed_at,
        settlement=current.id,
        from_staff=from_staff,
        to_staff=to_staff,
        amount=amount,
        reason=reason,
        requested_by=requested_by,
        created_at=datetime.now(UTC),
    )
    # Checked here for a prompt answer, and again by the store inside its write transaction.
    check_adjustment(current, earlier, adjustment)
    credited = {a.id for a in current.allocations if a.kind == "staff"}
    if to_staff not in credited:
        try:
            store.get("staff", to_staff)
        except NotFound:
            raise InvalidRequest.one("to_staff", f"no staff member {to_staff!r}") from None
    return _adjust(store, adjustment)


def _adjust(store: Store, adjustment: Adjustment) -> tuple[Adjustment, bool]:
    """Write an adjustment, audited with it; logged and counted (``created`` or ``existing``)."""
    with audit.unit(store):
        recorded, created = store.ledger.put_adjustment(adjustment)
        if created:
            audit.record(
                store,
                "adjusted",
                recorded.requested_by,
                (recorded.id, recorded.deal, recorded.from_staff, recorded.to_staff),
                recorded.reason,
            )
    metrics.ADJUSTMENTS.labels("created" if created else "existing").inc()
    if created:
        _log.info(
            "adjustment %s recorded: deal %s, %d fen from %s to %s, by %s",
            recorded.id,
            recorded.deal,
            recorded.amount,
            recorded.from_staff,
            recorded.to_staff,
            recorded.requested_by,
        )
    return recorded, created


# --- settled credit, flattened ---------------------------------------------------------------


def store_directory(store: Store) -> dict[str, dict[str, Any]]:
    """Every store's record by id (brand, city, region)."""
    page = store.list("stores", 0, 1_000_000)
    return {item["id"]: item for item in page.items}


def credit_rows(store: Store, start: date | None, end: date | None) -> Iterator[CreditRow]:
    """Settled credit from current settlements: one row per deal, contributor and store credited.

    Deals closed from ``start`` to ``end`` (business days in China Standard Time, inclusive;
    None: open), ordered by close then deal. A staff allocation earned for several stores (a
    joint event shares its part among the organisers) is divided among them by largest
    remainder, so a contributor's rows sum to their allocation. Adjustments are not included
    (see :func:`contribnet.services.reports.statement`).
    """
    stores = store_directory(store)
    lo, hi = period_bounds(start, end)

    def where(store_id: str | None) -> tuple[str | None, str | None, str | None]:
        record = stores.get(store_id) if store_id else None
        if record is None:
            return None, None, None
        return record.get("brand"), record.get("city"), record.get("region")

    for s in store.ledger.current_settlements(lo, hi):
        deal_brand, deal_city, deal_region = where(s.deal_store)
        for c in s.credits:
            brand, city, region = where(c.store)
            yield CreditRow(
                settlement=s.id,
                deal=s.deal,
                closed_at=s.closed_at,
                deal_store=s.deal_store,
                deal_brand=deal_brand,
                deal_city=deal_city,
                deal_region=deal_region,
                closer=s.closer,
                kind=c.kind,
                contributor=c.contributor,
                store=c.store,
                brand=c.brand or brand,
                city=city,
                region=region,
                amount=c.amount,
                points=c.points,
                share=c.share,
            )


# --- splits recomputed elsewhere (a cluster) ------------------------------------------------


@dataclass(frozen=True)
class RecomputedSplit:
    """A deal's split computed away from the store (``contribnet recompute`` on Spark): the
    split, or the ``error`` that prevented it; the policy version (id and hash) and model it was
    computed under; for a learned model the ``fingerprint`` of the tables it was fitted with."""

    deal: str
    policy: str | None
    policy_hash: str | None
    model: str | None
    input_hash: str | None
    split: Split | None
    error: str | None = None
    fingerprint: str | None = None


@dataclass
class RecordedProgress:
    """Where recording recomputed splits stands. ``created`` and ``superseded`` were written
    now; ``existing`` were recorded already with these inputs; ``voided`` deals have been voided
    since the export; ``stale`` splits were computed from a journey that has changed since (or
    a policy version the store does not hold); ``needs_reason`` deals are settled with other
    inputs and were left as they are for want of a reason. Every deal not recorded, but the
    existing and voided ones, is in ``failures``."""

    total: int
    done: int = 0
    created: int = 0
    superseded: int = 0
    existing: int = 0
    voided: int = 0
    stale: int = 0
    needs_reason: int = 0
    skipped: int = 0
    failures: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    finished: bool = False

    def fail(self, deal: str, message: str) -> None:
        self.failures += 1
        if len(self.failed) < MAX_LISTED_FAILURES:
            self.failed.append((deal, message))


def _fingerprinted(policy: PolicyRecord, fingerprint: str | None) -> CreditContext | None:
    """A context that carries only a fingerprint: what the input hash of a learned model's split
    depends on (``credit.engine.input_hash``)."""
    if fingerprint is None:
        return None
    p = policy.policy
    return CreditContext(
        stages=(),
        journeys=0,
        conversions=0,
        conversion_values=None,
        removal_effects={},
        markov_order=p.markov_order,
        smoothing=p.conversion_smoothing,
        fingerprint=fingerprint,
    )


def settle_recomputed(
    store: Store,
    chunks: Iterable[Sequence[RecomputedSplit]],
    total: int,
    *,
    requested_by: str,
    reason: str | None = None,
    flag_rules: FlagRules | None = None,
) -> Iterator[RecordedProgress]:
    """Record splits computed elsewhere as settlements, by the ledger's usual rules, yielding
    progress after each chunk and once more at the end.

    Each split is recorded only if it is what :func:`settle` would record now: its policy
    version is recorded in the store with the same content, its model may pay under it, and its
    input hash is that of the deal's journey as the store holds it now (with the fitted tables'
    fingerprint, for a learned model) -- otherwise it is ``stale``. A deal whose current
    settlement has these very inputs is ``existing`` (nothing written: running again changes
    nothing); one settled with other inputs is superseded only with a ``reason``. The
    settlement's id is the one :func:`settle` would give it, so either path recognises the
    other's settlements. A deal held by open flags under its policy (``hold_flagged``; flags
    found with ``flag_rules``) is not recorded: a failure naming the flags.
    """
    reason = (reason or "").strip() or None
    policies = {r.id: r for r in store.ledger.policies()}
    holds = {kind for r in policies.values() for kind in r.policy.hold_flagged}
    opened = open_flags(store, holds, flag_rules)
    progress = RecordedProgress(total=total)
    yield progress
    for rows in chunks:
        ids = [r.deal for r in rows]
        journeys = store.deal_journeys(ids)
        current = {s.deal: s for s in store.ledger.current_settlements(deals=ids)}
        now = datetime.now(UTC)
        settlements: list[Settlement] = []
        for row in rows:
            if row.split is None or row.error or row.policy is None or row.model is None:
                progress.fail(row.deal, row.error or "no split was computed")
                continue
            journey = journeys.get(row.deal)
            if journey is None:
                progress.voided += 1
                continue
            record = policies.get(row.policy)
            if record is None or record.hash != row.policy_hash:
                progress.stale += 1
                what = "is not recorded" if record is None else "differs from the one recomputed"
                progress.fail(
                    row.deal,
                    f"policy {row.policy} {what} in the store: record it (contribnet policies "
                    "add), then recompute",
                )
                continue
            held = opened.holding(row.deal, record.policy)
            if held:
                progress.fail(row.deal, f"held by open flags {', '.join(held)} until reviewed")
                continue
            try:
                payable(row.model, record.policy)
            except CreditError as exc:
                progress.fail(row.deal, str(exc))
                continue
            hashed = input_hash(
                journey, record.policy, row.model, _fingerprinted(record, row.fingerprint)
            )
            if hashed != row.input_hash or row.split.input_hash != hashed:
                progress.stale += 1
                progress.fail(
                    row.deal,
                    "its journey has changed since the export: export and recompute again",
                )
                continue
            previous = current.get(row.deal)
            if previous is not None and same_inputs(previous, hashed, record.id, row.model):
                progress.existing += 1
                continue
            if previous is not None and reason is None:
                progress.needs_reason += 1
                progress.fail(
                    row.deal,
                    f"settled ({previous.id}, policy {previous.policy}, model {previous.model}) "
                    "with other inputs: give a reason to supersede that settlement",
                )
                continue
            settlements.append(
                next_settlement(
                    row.split,
                    journey,
                    record,
                    requested_by,
                    previous=previous,
                    reason=reason,
                    now=now,
                )
            )
        outcomes = _record(store, settlements, "recomputed") if settlements else []
        for settlement, outcome in zip(settlements, outcomes, strict=True):
            if outcome == "created":
                if settlement.supersedes:
                    progress.superseded += 1
                else:
                    progress.created += 1
            elif outcome == "existing":
                progress.existing += 1
            else:  # settled meanwhile by someone else
                progress.skipped += 1
        progress.done += len(rows)
        yield progress
    progress.finished = True
    yield progress

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
* :func:`adjust` -- a leader moves part of a settled deal's credit between staff members; the
  adjustment is appended, never edited, and shows in statements.
* :func:`credit_rows` -- current settlements flattened for roll-ups and the collaboration graph.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from contribnet.credit import CreditError, Split, compute_split, input_hash
from contribnet.domain.credit_rows import CreditRow
from contribnet.domain.errors import NotFound
from contribnet.domain.journey import DealJourney
from contribnet.domain.settlement import (
    Adjustment,
    DealRef,
    InvalidRequest,
    PolicyRecord,
    Settlement,
    SettlementConflict,
    credits_of,
    period_bounds,
    settlement_id,
)
from contribnet.process import tune_gc
from contribnet.services.credit import check_model, credit_context, deal_journey
from contribnet.services.policies import find_policy, policy_in_force, resolve_policy
from contribnet.store.base import Store

__all__ = [
    "BatchProgress",
    "adjust",
    "credit_rows",
    "history",
    "make_settlement",
    "settle",
    "settle_period",
]

#: Deals read, computed and written together by :func:`settle_period`.
CHUNK = 1000
#: Failures listed in a batch's progress (all are counted).
MAX_LISTED_FAILURES = 100


def make_settlement(
    split: Split,
    journey: DealJourney,
    policy: PolicyRecord,
    requested_by: str,
    *,
    previous: Settlement | None = None,
    reason: str | None = None,
    now: datetime | None = None,
) -> Settlement:
    """The settlement record of a split (the next in the deal's chain after ``previous``)."""
    deal = journey.deal
    seq = previous.seq + 1 if previous is not None else 1
    return Settlement(
        id=settlement_id(deal.id, seq, split.input_hash, policy.id, split.model),
        deal=deal.id,
        seq=seq,
        closed_at=deal.closed_at,
        deal_store=deal.store,
        closer=deal.staff,
        pool=deal.reward_pool,
        model=split.model,
        policy=policy.id,
        policy_name=policy.name,
        policy_version=policy.version,
        input_hash=split.input_hash,
        allocations=split.allocations,
        credits=credits_of(split),
        requested_by=requested_by,
        created_at=now or datetime.now(UTC),
        supersedes=previous.id if previous is not None else None,
        reason=reason,
    )


def history(store: Store, deal_id: str) -> list[Settlement]:
    """A deal's settlements, oldest first (the last is current); ``NotFound`` if no such deal."""
    found = store.settlement_history(deal_id)
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
) -> tuple[Settlement, bool]:
    """Settle a deal: ``(settlement, True)`` if recorded now, ``(current, False)`` if the current
    settlement already has these exact inputs.

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
    chain = store.settlement_history(deal_id)
    current = chain[-1] if chain else None
    try:
        hashed = input_hash(journey, record.policy, name, context)
        if current is not None and (current.input_hash, current.policy, current.model) == (
            hashed,
            record.id,
            name,
        ):
            return current, False
        if current is not None and reason is None:
            raise SettlementConflict(
                deal_id,
                current.id,
                f"deal {deal_id!r} is settled ({current.id}, policy {current.policy}, model "
                f"{current.model}) and its inputs have changed since: give a reason to supersede "
                "that settlement",
            )
        split = compute_split(journey, record.policy, name, context)
    except CreditError as exc:
        raise InvalidRequest.one("model", str(exc)) from None
    settlement = make_settlement(
        split, journey, record, requested_by, previous=current, reason=reason
    )
    (outcome,) = store.record_settlements([settlement])
    if outcome == "created":
        return settlement, True
    if outcome == "existing":
        return store.settlement(settlement.id), False
    raise SettlementConflict(
        deal_id,
        store.settlement_history(deal_id)[-1].id,
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
    chain = store.settlement_history(deal_id)
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
    hashed = hashlib.sha256(f"voided\x1f{deal_id}".encode()).hexdigest()[:32]
    seq = current.seq + 1
    reversal = current.model_copy(
        update={
            "id": settlement_id(deal_id, seq, hashed, current.policy, current.model),
            "seq": seq,
            "input_hash": hashed,
            "allocations": [],
            "credits": [],
            "requested_by": requested_by,
            "created_at": datetime.now(UTC),
            "supersedes": current.id,
            "reason": reason,
        }
    )
    (outcome,) = store.record_settlements([reversal])
    if outcome == "conflict":
        raise SettlementConflict(
            deal_id, None, f"deal {deal_id!r} was settled by another request meanwhile", "deal"
        )
    return (reversal, True) if outcome == "created" else (store.settlement(reversal.id), False)


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

    def add(self, result: _ChunkResult) -> None:
        self.done += result.deals
        self.created += result.created
        self.existing += result.existing
        self.skipped += result.skipped
        self.failures += len(result.failed)
        room = MAX_LISTED_FAILURES - len(self.failed)
        self.failed += result.failed[: max(room, 0)]


@dataclass
class _ChunkResult:
    deals: int
    created: int = 0
    existing: int = 0
    skipped: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class _Plan:
    """What every chunk of a batch needs: the policy versions, the choices, the caller."""

    policies: tuple[PolicyRecord, ...]
    policy: PolicyRecord | None
    model: str | None
    requested_by: str


def _settle_chunk(store: Store, deal_ids: Sequence[str], plan: _Plan) -> _ChunkResult:
    journeys = store.deal_journeys(deal_ids)
    result = _ChunkResult(deals=len(deal_ids))
    now = datetime.now(UTC)
    settlements = []
    contexts: dict[tuple[str, str], Any] = {}  # one per policy version and model in the chunk
    for deal_id in deal_ids:
        journey = journeys.get(deal_id)
        if journey is None:  # voided since it was listed
            result.skipped += 1
            continue
        try:
            record = plan.policy or policy_in_force(plan.policies, journey.deal.closed_at)
            name = plan.model or record.policy.model
            if (record.id, name) not in contexts:
                contexts[record.id, name] = credit_context(store, record.policy, name)
            context = contexts[record.id, name]
            split = compute_split(journey, record.policy, name, context)
        except (InvalidRequest, CreditError) as exc:
            result.failed.append((deal_id, str(exc)))
            continue
        settlements.append(make_settlement(split, journey, record, plan.requested_by, now=now))
    for outcome in store.record_settlements(settlements):
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
        refs = store.closed_deals(start, end, unsettled=True, after=after, limit=size)
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
) -> Iterator[BatchProgress]:
    """Settle every unsettled, non-voided deal closed from ``start`` to ``end`` (business days,
    inclusive; None: open), yielding progress after each chunk and once more at the end.

    Each deal is settled under ``policy`` if named, else the version in force at its close, with
    ``model`` or the policy's. Deals that cannot be settled (no policy in force, a model that
    needs data the store lacks) are counted in ``failures`` and left unsettled. With
    ``workers > 1`` chunks are computed in that many processes, each opening ``store_url``.
    """
    if start is not None and end is not None and end < start:
        raise InvalidRequest.one("to", f"{end.isoformat()} is before from {start.isoformat()}")
    if chunk < 1:
        raise InvalidRequest.one("chunk", "must be at least 1")
    records = tuple(store.policies())
    named = None
    if policy:
        try:
            named = find_policy(records, policy)
        except NotFound:
            raise InvalidRequest.one("policy", f"no policy {policy!r} is recorded") from None
    if model is not None:
        check_model(model)
    plan = _Plan(records, named, model, requested_by)
    lo, hi = period_bounds(start, end)
    progress = BatchProgress(total=store.count_closed_deals(lo, hi, unsettled=True))
    yield progress
    if workers <= 1 or store_url is None:
        for deal_ids in _chunks(store, lo, hi, chunk):
            progress.add(_settle_chunk(store, deal_ids, plan))
            yield progress
    else:
        yield from _settle_in_processes(store, lo, hi, chunk, workers, store_url, plan, progress)
    progress.finished = True
    yield progress


def _settle_in_processes(
    store: Store,
    lo: datetime | None,
    hi: datetime | None,
    chunk: int,
    workers: int,
    store_url: str,
    plan: _Plan,
    progress: BatchProgress,
) -> Iterator[BatchProgress]:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_init_worker, initargs=(store_url,)
    ) as pool:
        pending: set[Future[_ChunkResult]] = set()
        try:
            for deal_ids in _chunks(store, lo, hi, chunk):
                pending.add(pool.submit(_worker_chunk, deal_ids, plan))
                while len(pending) >= 2 * workers:
                    done, pending = _collect(pending, progress)
                    if done:
                        yield progress
            while pending:
                done, pending = _collect(pending, progress)
                if done:
                    yield progress
        finally:
            for future in pending:
                future.cancel()


def _collect(
    pending: set[Future[_ChunkResult]], progress: BatchProgress
) -> tuple[int, set[Future[_ChunkResult]]]:
    done, rest = wait(pending, return_when=FIRST_COMPLETED)
    for future in done:
        progress.add(future.result())
    return len(done), set(rest)


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
    earlier = store.adjustments(deal=deal_id)
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
                return store.put_adjustment(candidate)
    held = sum(a.amount for a in current.allocations if a.kind == "staff" and a.id == from_staff)
    if not any(a.kind == "staff" and a.id == from_staff for a in current.allocations) and not any(
        a.to_staff == from_staff for a in earlier
    ):
        raise InvalidRequest.one(
            "from_staff", f"{from_staff!r} is not credited on deal {deal_id!r}"
        )
    held += sum(a.amount for a in earlier if a.to_staff == from_staff)
    held -= sum(a.amount for a in earlier if a.from_staff == from_staff)
    if amount > held:
        raise InvalidRequest.one(
            "amount", f"{from_staff!r} holds {held} fen on deal {deal_id!r}; cannot move {amount}"
        )
    credited = {a.id for a in current.allocations if a.kind == "staff"}
    if to_staff not in credited:
        try:
            store.get("staff", to_staff)
        except NotFound:
            raise InvalidRequest.one("to_staff", f"no staff member {to_staff!r}") from None
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
    return store.put_adjustment(adjustment)


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

    for s in store.current_settlements(lo, hi):
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

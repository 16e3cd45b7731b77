"""Fraud signals: list the flags of a period, and record a leader's review of one.

The rules are pure functions (``credit/flags.py``) over what the store's flag port reads in bulk
(``store/flags.py``); reviews are kept by the same port. Confirming a flag voids its suspect
records through the ordinary ingest path (``void`` events, idempotent by id); dismissing it only
records the review. A reviewed flag shows its review -- a confirmed one too, although its voided
records no longer raise it: the review keeps the finding as it was reviewed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, date, datetime

from contribnet.domain.errors import NotFound
from contribnet.domain.events import DEFAULT_ACTIONS, DEFAULT_STAGES
from contribnet.domain.flags import (
    FLAG_KINDS,
    Decision,
    Finding,
    Flag,
    FlagKind,
    FlagReview,
    FlagRules,
)
from contribnet.domain.settlement import InvalidRequest, RecordConflict, period_bounds
from contribnet.services import audit
from contribnet.services.holds import find_store_flags
from contribnet.services.ingest import ingest_events
from contribnet.services.reports import check_period
from contribnet.store import Store
from contribnet.store.flags import flag_store

__all__ = [
    "flags_csv",
    "kind_of",
    "list_flags",
    "review_flag",
    "void_id",
]


def list_flags(
    store: Store,
    start: date | None = None,
    end: date | None = None,
    kinds: Sequence[FlagKind] | None = None,
    rules: FlagRules | None = None,
) -> list[Flag]:
    """The flags of the days ``start`` to ``end`` (China Standard Time, inclusive; ``None``
    open) -- of the rules ``kinds`` (all by default) -- by time then id, each with its review if
    it was reviewed. The rules read the touches and referrals that happened, and the deals
    closed, in the period."""
    check_period(start, end)
    lo, hi = period_bounds(start, end)
    found = find_store_flags(store, lo, hi, kinds, rules)
    reviews = flag_store(store).flag_reviews()
    flags = {f.id: f.model_copy(update={"review": reviews.get(f.id)}) for f in found}
    wanted = set(FLAG_KINDS if kinds is None else kinds)
    for review in reviews.values():
        finding = review.finding
        in_period = (lo is None or finding.at >= lo) and (hi is None or finding.at < hi)
        if finding.id not in flags and finding.kind in wanted and in_period:
            flags[finding.id] = Flag(**dict(finding), review=review)
    return sorted(flags.values(), key=lambda f: (f.at, f.id))


def kind_of(flag_id: str) -> FlagKind:
    """The rule a flag id names (``fl-{kind}-{digest}``); ``NotFound`` if none does."""
    for kind in FLAG_KINDS:
        if flag_id.startswith(f"fl-{kind}-"):
            return kind
    raise NotFound("flag", flag_id)


def void_id(flag_id: str, n: int) -> str:
    """The id of the ``n``-th void a confirmation of a flag sends (stable: re-sent, a duplicate).

    >>> void_id("fl-grab-40b62fca5b570573", 1)
    'v-fl-grab-40b62fca5b570573-1'
    """
    return f"v-{flag_id}-{n}"


def review_flag(
    store: Store,
    flag_id: str,
    decision: Decision,
    reason: str,
    reviewed_by: str,
    *,
    rules: FlagRules | None = None,
    stages: Sequence[str] = DEFAULT_STAGES,
    actions: Sequence[str] = DEFAULT_ACTIONS,
) -> tuple[FlagReview, bool]:
    """Record a leader's review of a flag: ``(review, True)``; the same decision and reason
    again: ``(the recorded review, False)``; another decision or reason for a reviewed flag
    raises ``RecordConflict``. ``confirm`` voids the flag's suspect records with the reason (the
    voids are sent again with a repeated confirmation: duplicates, unless one was lost).
    ``NotFound`` if no rule raises that flag now."""
    if not reason.strip():
        raise InvalidRequest.one("reason", "give the reason for the decision")
    port = flag_store(store)
    recorded = port.flag_reviews([flag_id]).get(flag_id)
    if recorded is not None:
        if (recorded.decision, recorded.reason) != (decision, reason):
            raise RecordConflict("flag review", flag_id)
        review, created = recorded, False
    else:
        kind = kind_of(flag_id)
        found = find_store_flags(store, None, None, [kind], rules)
        finding = next((f for f in found if f.id == flag_id), None)
        if finding is None:
            raise NotFound("flag", flag_id)
        voids = (
            tuple(void_id(flag_id, n) for n in range(1, len(finding.suspects) + 1))
            if decision == "confirm"
            else ()
        )
        with audit.unit(store):
            review, created = port.put_flag_review(
                FlagReview(
                    flag=flag_id,
                    decision=decision,
                    reason=reason,
                    voids=voids,
                    reviewed_by=reviewed_by,
                    reviewed_at=datetime.now(UTC),
                    finding=Finding(**finding.model_dump(exclude={"review"})),
                )
            )
            if created:
                audit.record(
                    store,
                    "flag_reviewed",
                    reviewed_by,
                    (flag_id, *finding.records, *finding.staff, *finding.customers, *finding.deals),
                    f"{decision}: {reason}",
                )
    if review.decision == "confirm":
        ingest_events(
            store,
            [
                {
                    "type": "void",
                    "id": void,
                    "target": target,
                    "reason": f"flag {flag_id} confirmed: {review.reason}",
                }
                for void, target in zip(review.voids, review.finding.suspects, strict=True)
            ],
            stages,
            actions,
            requested_by=review.reviewed_by,
        )
    return review, created


_CSV_FIELDS = ("id", "kind", "at", "records", "suspects", "staff", "customers", "deals", "reason")


def flags_csv(flags: Sequence[Flag], bom: bool = False) -> str:
    """The flags as CSV (lists ``;``-separated), with the review's decision, reason, reviewer
    and time."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow((*_CSV_FIELDS, "review", "review_reason", "reviewed_by", "reviewed_at"))
    for f in flags:
        row = [
            f.id,
            f.kind,
            f.at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            *(";".join(getattr(f, name)) for name in _CSV_FIELDS[3:8]),
            f.reason,
        ]
        r = f.review
        row += (
            [r.decision, r.reason, r.reviewed_by, r.reviewed_at.isoformat()]
            if r
            else ["", "", "", ""]
        )
        writer.writerow(row)
    return ("\ufeff" if bom else "") + out.getvalue()

"""Points: policy versions, an account's ledger and statement (JSON or CSV), redemptions and
their reversals.

The points policy versions are recorded in the store like the credit policies (never edited;
``name@version``); the version in force on an activity's business day prices it
(:mod:`contribnet.credit.points` gives the definition). ``policies/points/default.toml`` is
recorded on first use when the store has none. A redemption is checked against the account's
balance inside the store's write transaction (:func:`redeem`), so parallel redemptions can never
overdraw an account.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import tomllib
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from contribnet.credit.points import balance, ledger
from contribnet.domain.errors import NotFound
from contribnet.domain.events import DEFAULT_ACTIONS
from contribnet.domain.points import (
    HolderKind,
    PointsAccount,
    PointsEntry,
    PointsPolicy,
    PointsPolicyRecord,
    Redemption,
    Reversal,
    check_redemption,
)
from contribnet.domain.settlement import InvalidRequest, business_date, period_bounds
from contribnet.paths import POLICIES_DIR
from contribnet.services import audit
from contribnet.services.policies import (
    numbered_for_storage,
    policy_document,
    policy_hash,
    retried_version,
    validation_problems,
)
from contribnet.services.reports import check_period
from contribnet.store.base import Store
from contribnet.store.points import points_store

__all__ = [
    "CSV_COLUMNS",
    "DEFAULT_POINTS_POLICY",
    "PointsStatement",
    "add_points_policy",
    "ensure_default_points_policy",
    "find_redemption",
    "parse_points_policy",
    "points_csv",
    "points_policy_record",
    "points_statement",
    "pricing_policies",
    "redeem",
    "reverse",
]

#: The shipped points policy, recorded when a store has none.
DEFAULT_POINTS_POLICY = POLICIES_DIR / "points" / "default.toml"

#: The noun of each holder kind, as a ``NotFound`` names it.
_ENTITY = {"staff": "staff", "owner": "customer"}


# --- policies ----------------------------------------------------------------------------------


def points_policy_record(
    policy: PointsPolicy, created_by: str, source: str | None = None, now: datetime | None = None
) -> PointsPolicyRecord:
    return PointsPolicyRecord(
        id=f"{policy.name}@{policy.version}",
        name=policy.name,
        version=policy.version,
        effective_from=policy.effective_from,
        description=policy.description,
        hash=policy_hash(policy),
        created_at=now or datetime.now(UTC),
        created_by=created_by,
        policy=policy,
        source=source,
    )


def parse_points_policy(
    data: dict[str, Any] | str,
    *,
    recorded: Sequence[PointsPolicyRecord] = (),
    actions: Sequence[str] = DEFAULT_ACTIONS,
    field: str = "policy",
) -> tuple[PointsPolicy, str | None]:
    """A points policy from TOML text or a JSON object of the same keys, and the TOML text.

    ``effective_from`` is required; ``name`` defaults to ``points`` and a missing ``version``
    becomes the next whole number after the name's recorded versions. Every action it prices or
    caps must be of the deployment's ``actions``. Problems raise :class:`InvalidRequest` naming
    the key (``policy.actions.wechat_add``).
    """
    data, source = policy_document(data, "a points policy", field)
    data = numbered_for_storage(data, recorded, "points", field)
    try:
        policy = PointsPolicy.model_validate(data)
    except ValidationError as exc:
        raise InvalidRequest(validation_problems(exc, field)) from None
    allowed = frozenset(actions)
    unknown = [
        (f"{field}.{table}.{action}", f"unknown action {action!r}; allowed: {', '.join(actions)}")
        for table, named in (
            ("actions", policy.actions),
            ("daily_caps", policy.daily_caps),
            *((f"region_actions.{r}", a) for r, a in policy.region_actions.items()),
        )
        for action in named
        if action not in allowed
    ]
    if unknown:
        raise InvalidRequest(unknown)
    return policy, source


def _default_record(now: datetime | None = None) -> PointsPolicyRecord:
    """``policies/points/default.toml`` as a record (the built-in defaults if it is absent)."""
    source = None
    policy = PointsPolicy()
    if DEFAULT_POINTS_POLICY.exists():
        source = DEFAULT_POINTS_POLICY.read_text(encoding="utf-8")
        policy = PointsPolicy.model_validate(tomllib.loads(source))
    return points_policy_record(policy, "bootstrap", source, now=now)


def ensure_default_points_policy(store: Store) -> PointsPolicyRecord | None:
    """Record ``policies/points/default.toml`` (the built-in defaults if absent) if the store has
    no points policy yet; the record made, or None if there were points policies already."""
    points = points_store(store)
    if points.points_policies():
        return None
    record, _ = points.put_points_policy(_default_record())
    return record


def _priced(account: PointsAccount) -> PointsAccount:
    """The account, priced by the shipped points policy while the store has none recorded (a
    store filled by ``contribnet import`` before the API ever started, say)."""
    if account.policies:
        return account
    return dataclasses.replace(account, policies=(_default_record(_EPOCH),))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def pricing_policies(store: Store) -> tuple[PointsPolicyRecord, ...]:
    """The points policy versions that price activities: those recorded, or the shipped one
    while the store has none (as :func:`points_statement` prices them)."""
    return tuple(points_store(store).points_policies()) or (_default_record(_EPOCH),)


def add_points_policy(
    store: Store,
    data: dict[str, Any] | str,
    created_by: str,
    actions: Sequence[str] = DEFAULT_ACTIONS,
) -> tuple[PointsPolicyRecord, bool]:
    """Record a new points policy version from TOML text or a JSON object: ``(record, True)``;
    the same ``name@version`` with identical values: ``(the recorded one, False)``; with other
    values: :class:`~contribnet.domain.settlement.RecordConflict`. An unnumbered policy identical
    to its name's latest version returns that one (a retried post adds nothing)."""
    points = points_store(store)
    recorded = points.points_policies()
    policy, source = parse_points_policy(data, recorded=recorded, actions=actions)
    retried = retried_version(data, policy, recorded)
    if retried is not None:
        return retried, False
    with audit.unit(store):
        record, created = points.put_points_policy(points_policy_record(policy, created_by, source))
        if created:
            audit.record(store, "points_policy_version", created_by, [record.id, record.name])
    return record, created


def points_policies(store: Store) -> list[PointsPolicyRecord]:
    """Every recorded points policy version, in the order recorded."""
    return points_store(store).points_policies()


# --- statements ----------------------------------------------------------------------------


class PointsStatement(BaseModel):
    """An account's ledger over a period: its entries (by business day, China Standard Time)
    and the balances around them. ``balance`` is the balance at the end of the period;
    ``available`` the balance now, which a redemption may draw on."""

    model_config = {
        "populate_by_name": True,
        "json_schema_extra": {
            "examples": [
                {
                    "kind": "staff",
                    "holder": "sf-sh-nio-1-01",
                    "name": "Wang Fang",
                    "from": "2025-03-01",
                    "to": "2025-03-31",
                    "opening": 40,
                    "earned": 23,
                    "redeemed": 50,
                    "reversed": 0,
                    "balance": 13,
                    "available": 13,
                    "entries": [
                        {
                            "at": "2025-03-03T02:00:00Z",
                            "kind": "activity",
                            "id": "act-1",
                            "points": 8,
                            "action": "test_drive_invite",
                            "customer": "c-0000007",
                            "policy": "points@1",
                            "region": "East",
                            "base": 8,
                            "note": "test_drive_invite: 8 points (points@1)",
                        }
                    ],
                }
            ]
        },
    }

    kind: HolderKind
    holder: str
    name: str | None = None
    from_: date | None = Field(default=None, alias="from")
    to: date | None = None
    opening: int = Field(description="the balance before the period")
    earned: int = Field(description="activity and owner-referral points in the period")
    redeemed: int = Field(description="points redeemed in the period")
    reversed: int = Field(description="points given back by reversals in the period")
    balance: int = Field(description="the balance at the end of the period")
    available: int = Field(description="the balance now: what a redemption may draw on")
    entries: list[PointsEntry]


def _account(store: Store, kind: HolderKind, holder: str) -> tuple[PointsAccount, str | None]:
    """The account, and the holder's name; ``NotFound`` if nothing is recorded of the holder."""
    account = _priced(points_store(store).points_account(kind, holder))
    name = None
    try:
        name = store.get(_ENTITY[kind], holder).get("name")
    except NotFound:
        if not account.known:
            raise
    return account, name


def points_statement(
    store: Store, kind: HolderKind, holder: str, start: date | None, end: date | None
) -> PointsStatement:
    """An account's statement for the days ``start`` to ``end`` (either may be open)."""
    check_period(start, end)
    lo, hi = period_bounds(start, end)
    account, name = _account(store, kind, holder)
    entries = ledger(account)
    before = [e for e in entries if lo is not None and e.at < lo]
    within = [e for e in entries if (lo is None or e.at >= lo) and (hi is None or e.at < hi)]
    earned = sum(e.points for e in within if e.kind in ("activity", "owner_referral"))
    redeemed = -sum(e.points for e in within if e.kind == "redemption")
    given_back = sum(e.points for e in within if e.kind == "reversal")
    opening = balance(before)
    return PointsStatement(
        kind=kind,
        holder=holder,
        name=name,
        from_=start,
        to=end,
        opening=opening,
        earned=earned,
        redeemed=redeemed,
        reversed=given_back,
        balance=opening + balance(within),
        available=balance(entries),
        entries=within,
    )


CSV_COLUMNS = (
    "at",
    "day",
    "kind",
    "id",
    "action",
    "customer",
    "deal",
    "policy",
    "region",
    "base",
    "points",
    "balance",
    "reason",
    "note",
)


def _rfc3339(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def points_csv(s: PointsStatement, bom: bool = False) -> str:
    """The statement as CSV: an opening row, one row per entry with the running balance
    (``day`` is the business day, China Standard Time), and a closing row."""
    out = io.StringIO()
    if bom:
        out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    blank = [""] * 9
    start = s.from_.isoformat() if s.from_ else ""
    writer.writerow(["", start, "opening", s.holder, *blank[:6], "", s.opening, "", ""])
    running = s.opening
    for e in s.entries:
        running += e.points
        writer.writerow(
            [
                _rfc3339(e.at),
                business_date(e.at).isoformat(),
                e.kind,
                e.id,
                e.action or "",
                e.customer or "",
                e.deal or "",
                e.policy or "",
                e.region or "",
                "" if e.base is None else e.base,
                e.points,
                running,
                e.reason or "",
                e.note,
            ]
        )
    end = s.to.isoformat() if s.to else ""
    summary = (
        f"earned {s.earned}, redeemed {s.redeemed}, reversed {s.reversed}; available now"
        f" {s.available}"
    )
    writer.writerow(["", end, "closing", s.holder, *blank[:6], "", s.balance, "", summary])
    return out.getvalue()


# --- redemptions -----------------------------------------------------------------------------


def redeem(
    store: Store,
    redemption_id: str,
    kind: HolderKind,
    holder: str,
    points: int,
    reason: str,
    requested_by: str,
    now: datetime | None = None,
) -> tuple[Redemption, bool]:
    """Redeem points: ``(redemption, True)`` if recorded, ``(the recorded one, False)`` if that
    id was recorded with the same content; ``RecordConflict`` if with other content;
    :class:`InvalidRequest` naming ``points`` if the balance does not cover it. The balance is
    computed inside the store's write transaction, the account locked."""
    ensure_default_points_policy(store)
    redemption = Redemption(
        id=redemption_id,
        kind=kind,
        holder=holder,
        points=points,
        reason=reason,
        requested_by=requested_by,
        created_at=now or datetime.now(UTC),
    )

    def covered(account: PointsAccount) -> None:
        check_redemption(balance(ledger(_priced(account))), redemption)

    with audit.unit(store):
        recorded, created = points_store(store).record_redemption(redemption, covered)
        if created:
            targets = (recorded.id, recorded.holder)
            audit.record(store, "redemption", recorded.requested_by, targets, recorded.reason)
    return recorded, created


def find_redemption(store: Store, redemption_id: str) -> tuple[Redemption, Reversal | None]:
    """A redemption and its reversal (None if it was not reversed); ``NotFound`` if no such
    redemption is recorded."""
    points = points_store(store)
    return points.redemption(redemption_id), points.reversal(redemption_id)


def reverse(
    store: Store,
    redemption_id: str,
    reason: str,
    requested_by: str,
    now: datetime | None = None,
) -> tuple[Reversal, bool]:
    """Give a redemption's points back, once: ``(reversal, True)``; the same reason again:
    ``(the recorded one, False)``; another reason: ``RecordConflict``; ``NotFound`` if no such
    redemption is recorded."""
    points = points_store(store)
    redemption = points.redemption(redemption_id)
    reversal = Reversal(
        redemption=redemption.id,
        kind=redemption.kind,
        holder=redemption.holder,
        points=redemption.points,
        reason=reason,
        requested_by=requested_by,
        created_at=now or datetime.now(UTC),
    )
    with audit.unit(store):
        recorded, created = points.record_reversal(reversal)
        if created:
            targets = (redemption.id, redemption.holder)
            audit.record(store, "redemption_reversed", requested_by, targets, reason)
    return recorded, created

"""The points ledger's records: points policies, redemptions and their reversals, ledger entries;
no I/O.

Points complement cash: the nurturing actions of an ``activity`` event earn a staff member points
(:func:`contribnet.credit.points.activity_entries` gives the definition), owners earn points for
referrals (the owner allocations of current settlements), and points are spent in *redemptions*.
An *account* is one staff member's or one owner's: its *ledger* lists, in time order, every
entry -- ``activity`` and ``owner_referral`` entries (derived from the events and settlements, so a
void or a re-settlement changes them), ``redemption`` entries (minus the points redeemed) and
``reversal`` entries (a redemption given back, plus its points). The *balance* is their sum.

Rules of the records, checked by the stores inside the write transaction that records them, with
the account locked (so that parallel requests are answered as serial ones would be):

- a redemption never overdraws: it is recorded only if the balance covers it
  (:func:`check_redemption`);
- a redemption or reversal is idempotent by id: the same id and content again returns the
  recorded one, the same id with other content is a :class:`RecordConflict`;
- a redemption is reversed at most once (the reversal's id is the redemption's id).

A void of an activity, or a points policy version recorded later with an earlier
``effective_from``, can lower a balance below what was redeemed: the ledger shows the negative
balance, and no redemption is recorded until it is covered again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, field_validator

from contribnet.domain.events import Activity, Staff
from contribnet.domain.settlement import InvalidRequest

__all__ = [
    "DEFAULT_ACTION_POINTS",
    "DEFAULT_DAILY_CAPS",
    "ENTRY_KINDS",
    "MAX_POINTS",
    "HolderKind",
    "OwnerCredit",
    "PointsAccount",
    "PointsEntry",
    "PointsPolicy",
    "PointsPolicyRecord",
    "Redemption",
    "Reversal",
    "account_key",
    "check_redemption",
]

#: The most points one action, cap or redemption may be worth: far beyond any real figure, and
#: small enough that any sum of them stays an exact integer everywhere (JSON, Neo4j, SQLite).
MAX_POINTS = 10**9

#: Points per action of the default points policy (``policies/points/default.toml``).
DEFAULT_ACTION_POINTS: dict[str, int] = {
    "wechat_add": 2,
    "store_invite": 5,
    "test_drive_invite": 8,
    "material_sent": 1,
    "deposit_taken": 20,
}

#: Daily caps per action of the default points policy: what one staff member earns for the action
#: in one business day at most (an action not listed has no cap).
DEFAULT_DAILY_CAPS: dict[str, int] = {
    "wechat_add": 20,
    "store_invite": 50,
    "test_drive_invite": 80,
    "material_sent": 5,
}

#: Who holds an account: a staff member, or an owner (a customer) credited in points.
HolderKind = Literal["staff", "owner"]

#: The kinds of ledger entries, in the order they sort at one instant.
ENTRY_KINDS: tuple[str, ...] = ("activity", "owner_referral", "redemption", "reversal")

# strict: "10" or 10.0 for points is a mistake upstream, refused rather than coerced
Points = Annotated[int, Strict(), Field(ge=0, le=MAX_POINTS)]


class PointsPolicy(BaseModel):
    """A points policy version; every field has the default ``policies/points/default.toml``
    documents.

    ``actions`` gives each action's points (an action not listed earns 0; a policy that lists
    ``actions`` lists every action it pays). ``region_actions`` overrides single actions' points
    for the staff of one region (the region of their store on the activity's day).
    ``daily_caps`` bounds what one staff member earns for one action in one business day.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(default="points", min_length=1)
    version: str = Field(default="1", min_length=1)
    effective_from: date = date(2024, 11, 1)
    description: str = ""
    actions: dict[str, Points] = Field(default_factory=lambda: dict(DEFAULT_ACTION_POINTS))
    region_actions: dict[str, dict[str, Points]] = Field(default_factory=dict)
    daily_caps: dict[str, Points] = Field(default_factory=lambda: dict(DEFAULT_DAILY_CAPS))

    @field_validator("name")
    @classmethod
    def _no_at(cls, value: str) -> str:
        if "@" in value:
            raise ValueError("must not contain '@' (a version is named name@version)")
        return value

    def points(self, action: str, region: str | None) -> int:
        """An action's points for a staff member of ``region`` (None: no override applies).

        >>> policy = PointsPolicy(region_actions={"East": {"store_invite": 3}})
        >>> policy.points("store_invite", "East"), policy.points("store_invite", "South")
        (3, 5)
        >>> policy.points("teleport", None)
        0
        """
        override = self.region_actions.get(region) if region is not None else None
        if override is not None and action in override:
            return override[action]
        return self.actions.get(action, 0)


class PointsPolicyRecord(BaseModel):
    """One recorded version of a points policy: ``id`` is ``name@version``; never edited."""

    model_config = ConfigDict(
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "points@2",
                    "name": "points",
                    "version": "2",
                    "effective_from": "2025-03-01",
                    "description": "Store invitations weigh less in the East.",
                    "hash": "5d1f0c2b9a8e7d6c5b4a39281706f5e4",
                    "created_at": "2025-02-20T08:00:00Z",
                    "created_by": "admin",
                    "policy": {
                        "name": "points",
                        "version": "2",
                        "effective_from": "2025-03-01",
                        "region_actions": {"East": {"store_invite": 3}},
                    },
                    "source": None,
                }
            ]
        },
    )

    id: str
    name: str
    version: str
    effective_from: date
    description: str = ""
    hash: str
    created_at: datetime
    created_by: str
    policy: PointsPolicy
    source: str | None = Field(default=None, description="the TOML text as posted, if it was")


class Redemption(BaseModel):
    """Points spent by an account holder (on extra leads, exposure, ...): minus ``points``."""

    model_config = ConfigDict(
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "rd-2025-03-0001",
                    "kind": "staff",
                    "holder": "sf-sh-nio-1-01",
                    "points": 120,
                    "reason": "10 extra leads from the March pool",
                    "requested_by": "leader (key-97a74635e1f9)",
                    "created_at": "2025-03-02T02:00:00Z",
                }
            ]
        },
    )

    id: str
    kind: HolderKind = Field(description="whose account: a staff member's or an owner's")
    holder: str = Field(description="the staff member's or the owner's (customer's) id")
    points: int = Field(gt=0, le=MAX_POINTS)
    reason: str
    requested_by: str
    created_at: datetime

    def content(self) -> tuple[str, str, int, str]:
        """What makes two redemptions with one id the same request."""
        return (self.kind, self.holder, self.points, self.reason)


class Reversal(BaseModel):
    """A redemption given back: plus its ``points``. At most one per redemption."""

    model_config = ConfigDict(
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "redemption": "rd-2025-03-0001",
                    "kind": "staff",
                    "holder": "sf-sh-nio-1-01",
                    "points": 120,
                    "reason": "the leads were never assigned",
                    "requested_by": "leader (key-97a74635e1f9)",
                    "created_at": "2025-03-05T02:00:00Z",
                }
            ]
        },
    )

    redemption: str = Field(description="the id of the redemption reversed")
    kind: HolderKind
    holder: str
    points: int = Field(gt=0, le=MAX_POINTS)
    reason: str
    requested_by: str
    created_at: datetime

    def content(self) -> tuple[str, str]:
        """What makes two reversals of one redemption the same request."""
        return (self.redemption, self.reason)


@dataclass(frozen=True)
class OwnerCredit:
    """The points an owner is credited on one deal by its current settlement."""

    deal: str
    settlement: str
    closed_at: datetime
    points: int


class PointsEntry(BaseModel):
    """One line of an account's ledger. ``points`` is signed: redemptions are negative.

    ``id`` is the activity's, the deal's (owner referrals), or the redemption's (redemptions and
    their reversals). ``base`` is what an activity would earn without the daily cap; ``note``
    says in words how the points came about.
    """

    model_config = ConfigDict(frozen=True)

    at: datetime
    kind: Literal["activity", "owner_referral", "redemption", "reversal"]
    id: str
    points: int
    action: str | None = None
    customer: str | None = None
    deal: str | None = None
    settlement: str | None = None
    policy: str | None = Field(default=None, description="the points policy version, name@version")
    region: str | None = None
    base: int | None = Field(default=None, description="an activity's points before the cap")
    reason: str | None = None
    note: str


@dataclass(frozen=True)
class PointsAccount:
    """What a store knows of one account, as its ledger needs it: the holder's live (not
    voided) activities, employment spells and the regions of their stores (staff), the points of
    current settlements crediting them (owners), every points policy version, and the account's
    redemptions and reversals."""

    kind: HolderKind
    holder: str
    activities: tuple[Activity, ...] = ()
    spells: tuple[Staff, ...] = ()
    regions: Mapping[str, str] = field(default_factory=dict)  # store -> region
    owner_credits: tuple[OwnerCredit, ...] = ()
    policies: tuple[PointsPolicyRecord, ...] = ()
    redemptions: tuple[Redemption, ...] = ()
    reversals: tuple[Reversal, ...] = ()

    @property
    def known(self) -> bool:
        """Whether anything is recorded for the holder (a staff member with no spell and no
        activity, say, is not)."""
        return bool(
            self.activities
            or self.spells
            or self.owner_credits
            or self.redemptions
            or self.reversals
        )


def account_key(kind: HolderKind, holder: str) -> str:
    """The key of an account, as the stores lock and index it.

    >>> account_key("staff", "sf-1")
    'staff:sf-1'
    """
    return f"{kind}:{holder}"


def check_redemption(balance: int, redemption: Redemption) -> None:
    """The ledger's rule for a new redemption: the account's balance covers it. The stores call
    it (through the rule the service hands them) inside the transaction that records the
    redemption, with the account locked, so parallel redemptions can never overdraw together.

    >>> r = Redemption(id="rd-1", kind="staff", holder="sf-1", points=50, reason="leads",
    ...                requested_by="leader", created_at=datetime(2025, 3, 1))
    >>> check_redemption(50, r)
    >>> try:
    ...     check_redemption(49, r)
    ... except InvalidRequest as exc:
    ...     print(exc)
    points: staff 'sf-1' holds 49 points; cannot redeem 50
    """
    if redemption.points > balance:
        raise InvalidRequest.one(
            "points",
            f"{redemption.kind} {redemption.holder!r} holds {balance} points;"
            f" cannot redeem {redemption.points}",
        )

"""Policy guards: which touches qualify, and the factors every model shares.

Before any model runs, :func:`qualifying_touches` turns a deal's journey into credit touches:

* **events become touches** -- logged touches; a staff referral (stage ``referral``) credits the
  referring staff; an owner referral credits the referring customer as an ``owner`` (paid in points,
  see ``Policy.owner_referrals``); a (bulk) handover that includes the customer is a ``handover``
  touch of the handing staff; the deal itself is the closer's ``order`` touch when the closer
  logged none;
* **one deal per contribution** -- a contribution belongs to the customer's first live deal that
  closes at or after it (deals ordered by close, then id). So a deal's window starts just after
  the customer's previous live deal closed: everything up to that instant was that deal's, and a
  customer who buys twice never pays anyone twice. Voiding a deal removes it from the order, so
  its contributions go to the customer's next live deal. Two deals closed at the same instant (two
  cars in one order) are ordered by id: the first takes every contribution up to that instant, the
  second its closer's order touch only;
* **lookback** -- a touch counts if ``closed_at - lookback_days <= at <= closed_at``;
* **stage weight** -- a touch of a stage the policy weighs 0 (or does not list) does not count;
* **evidence** -- a logged touch of a stage the policy requires evidence for
  (``Policy.evidence_required``) counts only with an item of one of the required kinds; without
  it: "test_drive touch t9 has no test_drive_log evidence; policy requires it" (``no_evidence``);
* **at most ``MAX_JOURNEY_ITEMS``** -- of the items left in the window, only the most recent
  :data:`~contribnet.domain.limits.MAX_JOURNEY_ITEMS` count; the older rest is not counted
  (``over_limit``), so that no one customer's journey can make a split slow or exhaust memory;
* **de-duplication** -- one contributor's touches of one stage within ``dedup_minutes`` of the
  last one kept are repeated logs of the same visit and count once;
* **joint events** -- a touch at a joint event credits its staff as usual; at store level its
  credit is shared equally among the organising stores (:func:`store_shares`);
* **lead holders** -- when the customer's lead was assigned (lead pools, ``domain/leads.py``), a
  ``lead``-stage touch made while staff H held the lead counts for H (at H's store), whoever
  made it: a touch by X on H's lead is "touch by X on a lead held by H; lead-stage credit to H".
  A touch at another stage by someone other than the holder counts for its maker as usual, marked
  ``held_by`` H. A customer with no lead assignments is unaffected.

The models then use :func:`decay_factors`, :func:`saturation_factors`, and the engine applies
:func:`floor_cap` to the contributors' shares.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal, TypeVar

from contribnet.credit.touches import Contributor, CreditTouch
from contribnet.domain.events import Staff
from contribnet.domain.evidence import evidence_kinds
from contribnet.domain.journey import DealJourney, owning_deal
from contribnet.domain.leads import holder_at
from contribnet.domain.limits import MAX_JOURNEY_ITEMS
from contribnet.domain.policy import Policy

__all__ = [
    "DropCode",
    "Dropped",
    "Prepared",
    "decay_factors",
    "floor_cap",
    "qualifying_touches",
    "saturation_factors",
    "store_at",
    "store_shares",
]

K = TypeVar("K", bound=Hashable)

#: When two touches happen at the same instant, the logged one sorts first.
SOURCE_RANK = {"touch": 0, "referral": 1, "handover": 2, "deal": 3}


#: Why an item of a deal's journey does not count (``Dropped.code``).
DropCode = Literal[
    "after_close",
    "earlier_deal",
    "lookback",
    "zero_weight",
    "repeated",
    "self_referral",
    "owner_ignored",
    "voided",
    "over_limit",
    "no_evidence",
]


@dataclass(frozen=True)
class Dropped:
    """An item of the deal's journey that does not count, and why (for audits and explanations).

    ``ref`` names the earlier deal it counted for when ``code == "earlier_deal"``, and the
    kept touch it repeats when ``code == "repeated"``.
    """

    id: str
    reason: str
    code: DropCode = "after_close"
    source: str = "touch"
    stage: str | None = None
    contributor: Contributor | None = None
    at: datetime | None = None
    ref: str | None = None


@dataclass(frozen=True)
class Prepared:
    """A deal's qualifying touches (sorted by time, source, id), the deal's region, and what
    was dropped."""

    deal_id: str
    closed_at: datetime
    region: str | None
    touches: tuple[CreditTouch, ...]
    dropped: tuple[Dropped, ...]


def _sort_key(t: CreditTouch) -> tuple[datetime, int, str]:
    return (t.at, SOURCE_RANK.get(t.source, 9), t.id)


def store_at(spells: Sequence[Staff], when: date) -> str | None:
    """The store of the employment spell covering ``when`` (the latest-starting one if several),
    else of the latest spell; ``None`` without spells.

    >>> from contribnet.domain.events import Staff
    >>> spells = [Staff(id="s", name="S", store="a", role="advisor", **{"from": date(2024, 1, 1),
    ...           "to": date(2024, 6, 30)}), Staff(id="s", name="S", store="b", role="advisor",
    ...           **{"from": date(2024, 7, 1)})]
    >>> store_at(spells, date(2024, 3, 1)), store_at(spells, date(2025, 1, 1))
    ('a', 'b')
    """
    if not spells:
        return None
    ordered = sorted(spells, key=lambda s: (s.from_ or date.min, s.to or date.max))
    found = None
    for spell in ordered:
        if (spell.from_ is None or spell.from_ <= when) and (spell.to is None or when <= spell.to):
            found = spell.store
    return found if found is not None else ordered[-1].store


def qualifying_touches(journey: DealJourney, policy: Policy) -> Prepared:
    """The deal's qualifying credit touches under the policy's guards (see the module notes).

    ``policy`` should already carry the region's stage weights (``policy.for_region``); the
    region returned is the deal store's region, ``None`` if the store is unknown.
    """
    deal = journey.deal
    closed = deal.closed_at
    region = journey.stores[deal.store].region if deal.store in journey.stores else None
    earliest = closed - timedelta(days=policy.lookback_days)
    organisers = {j.id: tuple(sorted(set(j.organisers))) for j in journey.joint_events}

    def staff_store(staff_id: str, at: datetime) -> str | None:
        return store_at(journey.staff.get(staff_id, ()), at.date())

    def age(at: datetime) -> float:
        return max((closed - at).total_seconds() / 86400.0, 0.0)

    candidates: list[CreditTouch] = []
    unevidenced: dict[str, str] = {}  # touch id -> why it lacks the evidence its stage needs
    assignments = journey.assignments or ()
    for t in journey.touches:
        if t.customer != deal.customer:
            continue
        required = policy.evidence_required.get(t.stage)
        if required and not evidence_kinds(t.evidence) & set(required):
            unevidenced[t.id] = (
                f"{t.stage} touch {t.id} has no {' or '.join(required)} evidence; "
                "policy requires it"
            )
        maker, where, held_by, touched_by = t.staff, t.store, None, None
        holder = holder_at(assignments, t.at) if assignments else None
        if holder is not None and holder != t.staff:
            held_by = holder
            if t.stage == "lead":  # the lead stage's work is the holder's
                maker, touched_by = holder, t.staff
                where = staff_store(holder, t.at) or t.store
        candidates.append(
            CreditTouch(
                id=t.id,
                contributor=Contributor("staff", maker),
                stage=t.stage,
                at=t.at,
                age_days=age(t.at),
                store=where,
                joint_event=t.joint_event if t.joint_event in organisers else None,
                organisers=organisers.get(t.joint_event or "", ()),
                held_by=held_by,
                touched_by=touched_by,
            )
        )
    dropped: list[Dropped] = []
    for r in journey.referrals:
        if r.customer != deal.customer:
            continue
        if r.referrer_staff is not None:
            who = Contributor("staff", r.referrer_staff)
            store = staff_store(r.referrer_staff, r.at)
        elif r.referrer_customer == deal.customer:
            dropped.append(
                Dropped(
                    r.id,
                    "a customer cannot refer themselves",
                    "self_referral",
                    "referral",
                    "referral",
                    Contributor("owner", deal.customer),
                    r.at,
                )
            )
            continue
        elif policy.owner_referrals == "ignore":
            dropped.append(
                Dropped(
                    r.id,
                    "owner referrals are ignored by the policy",
                    "owner_ignored",
                    "referral",
                    "referral",
                    Contributor("owner", str(r.referrer_customer)),
                    r.at,
                )
            )
            continue
        else:
            who = Contributor("owner", str(r.referrer_customer))
            store = None
        candidates.append(CreditTouch(r.id, who, "referral", r.at, age(r.at), store, "referral"))
    for h in journey.handovers:
        if deal.customer not in h.customers:
            continue
        candidates.append(
            CreditTouch(
                h.id,
                Contributor("staff", h.from_staff),
                "handover",
                h.at,
                age(h.at),
                staff_store(h.from_staff, h.at),
                "handover",
            )
        )

    earlier = journey.earlier_deals
    earlier_closes = [m.closed_at for m in earlier]
    weights = policy.stage_weights
    kept: list[CreditTouch] = []

    def drop(c: CreditTouch, reason: str, code: DropCode, ref: str | None = None) -> None:
        dropped.append(Dropped(c.id, reason, code, c.source, c.stage, c.contributor, c.at, ref))

    for c in sorted(candidates, key=_sort_key):
        if c.at > closed:
            drop(c, "after the deal closed", "after_close")
        elif earlier and c.at <= earlier_closes[-1]:
            owner = owning_deal(c.at, earlier)
            assert owner is not None  # c.at <= the last earlier close
            drop(c, f"counted for earlier deal {owner.id}", "earlier_deal", owner.id)
        elif c.at < earliest:
            drop(c, f"more than {policy.lookback_days:g} days before closing", "lookback")
        elif weights.get(c.stage, 0.0) <= 0:
            drop(c, f"stage {c.stage!r} weighs 0", "zero_weight")
        elif c.source == "touch" and c.id in unevidenced:
            drop(c, unevidenced[c.id], "no_evidence")
        else:
            kept.append(c)
    if len(kept) > MAX_JOURNEY_ITEMS:  # kept is in time order: the oldest go
        over = len(kept) - MAX_JOURNEY_ITEMS
        for c in kept[:over]:
            drop(c, f"older than the {MAX_JOURNEY_ITEMS:,} most recent items counted", "over_limit")
        kept = kept[over:]

    window_start = earlier_closes[-1] if earlier else None
    for v in journey.voided:
        if v.at <= closed and (window_start is None or v.at > window_start):
            dropped.append(Dropped(v.id, "voided", "voided", v.source, at=v.at))

    closer = Contributor("staff", deal.staff)
    if policy.weight("order") > 0 and not any(
        c.contributor == closer and c.stage == "order" for c in kept
    ):
        kept.append(CreditTouch(deal.id, closer, "order", closed, 0.0, deal.store, "deal"))

    window = timedelta(minutes=policy.dedup_minutes)
    last_kept: dict[tuple[Contributor, str], CreditTouch] = {}
    touches: list[CreditTouch] = []
    # still in order: the order touch, at the close and of the last source, sorts last
    for c in kept:
        key = (c.contributor, c.stage)
        previous = last_kept.get(key)
        if previous is not None and c.at - previous.at <= window:
            drop(c, f"duplicate visit of touch {previous.id}", "repeated", previous.id)
            continue
        last_kept[key] = c
        touches.append(c)
    return Prepared(deal.id, closed, region, tuple(touches), tuple(dropped))


def decay_factors(touches: Sequence[CreditTouch], half_life_days: float) -> list[float]:
    """Time decay of each touch *relative to the most recent one*:
    ``2 ** (-(age - min_age) / half_life_days)``.

    Relative factors differ from the absolute ``2 ** (-age / half_life)`` by one common factor,
    which every model normalises away; they never underflow to 0.

    >>> from contribnet.credit.touches import example_touch as t
    >>> decay_factors([t("a", "lead", 15), t("b", "order", 1)], 7.0)
    [0.25, 1.0]
    """
    if not touches:
        return []
    youngest = min(t.age_days for t in touches)
    return [2.0 ** (-(t.age_days - youngest) / half_life_days) for t in touches]


def saturation_factors(
    touches: Sequence[CreditTouch], weights: Sequence[float], factor: float
) -> list[float]:
    """Saturation of repeated same-stage touches by one contributor.

    Within each group of touches with the same contributor and stage, touches are ranked by
    ``weights`` (the model's weight, highest first; ties: the most recent first, then id); the
    touch ranked ``k`` (from 0) gets ``factor ** k``. ``factor = 1`` turns saturation off.

    Ranking by the model's own weight means the touch the model values most always counts in
    full: under time decay that is the newest (so an older identical touch is never favoured),
    under first touch the first.

    >>> from contribnet.credit.touches import example_touch as t
    >>> drives = [t("x", "test_drive", d) for d in (20, 10, 5)] + [t("y", "order", 0)]
    >>> saturation_factors(drives, [1.0, 1.0, 1.0, 1.0], 0.5)
    [0.25, 0.5, 1.0, 1.0]
    """
    result = [1.0] * len(touches)
    if factor >= 1.0:
        return result
    groups: dict[tuple[Contributor, str], list[int]] = {}
    for i, t in enumerate(touches):
        groups.setdefault((t.contributor, t.stage), []).append(i)
    for members in groups.values():
        if len(members) == 1:
            continue
        members.sort(key=lambda i: (-weights[i], touches[i].age_days, touches[i].id))
        for rank, i in enumerate(members):
            result[i] = factor**rank
    return result


def store_shares(touch: CreditTouch) -> dict[str, float]:
    """How a touch's credit is shared among stores: equally among the organisers of its joint
    event, else all to the touch's store (nothing if the store is unknown).

    >>> from contribnet.credit.touches import CreditTouch, Contributor, EXAMPLE_CLOSE
    >>> t = CreditTouch("t", Contributor("staff", "a"), "event", EXAMPLE_CLOSE, 0.0, "nio-1",
    ...                 joint_event="show", organisers=("nio-1", "onvo-1"))
    >>> store_shares(t)
    {'nio-1': 0.5, 'onvo-1': 0.5}
    """
    if touch.organisers:
        return {s: 1.0 / len(touch.organisers) for s in touch.organisers}
    return {touch.store: 1.0} if touch.store is not None else {}


def floor_cap(shares: Mapping[K, float], floor: float, cap: float) -> dict[K, float]:
    """Shares with a floor and a cap, renormalised.

    Each share ``s`` (they sum to 1) becomes ``clip(l * s, floor, cap)``, with the one scale ``l``
    that makes the results sum to 1 (found exactly: the sum is piecewise linear in ``l``). This
    keeps the order of the shares and gives equal shares to equal inputs. Edge cases: if
    ``n * floor >= 1`` or ``n * cap <= 1`` only equal shares ``1/n`` fit, and they are returned;
    if even capping every positive share leaves part of the pool (``cap`` times the number of
    positive shares, plus the floors of the zero shares, below 1), the rest is shared equally by
    those with a zero share.

    >>> shares = floor_cap({"a": 0.8, "b": 0.15, "c": 0.05}, floor=0.1, cap=0.6)
    >>> {k: round(v, 9) for k, v in shares.items()}
    {'a': 0.6, 'b': 0.3, 'c': 0.1}
    >>> {k: round(v, 9) for k, v in floor_cap({"a": 1.0, "b": 0.0}, floor=0.0, cap=0.7).items()}
    {'a': 0.7, 'b': 0.3}
    """
    n = len(shares)
    if n == 0 or (floor <= 0.0 and cap >= 1.0):
        return dict(shares)
    if n * floor >= 1.0 or n * cap <= 1.0:
        return {k: 1.0 / n for k in shares}
    positive = [s for s in shares.values() if s > 0]
    zeros = n - len(positive)
    if len(positive) * cap + zeros * floor < 1.0:
        rest = (1.0 - len(positive) * cap) / zeros
        return {k: (cap if s > 0 else rest) for k, s in shares.items()}

    def clip(x: float) -> float:
        return min(cap, max(floor, x))

    def g(scale: float) -> float:
        return math.fsum(clip(scale * s) for s in shares.values())

    breaks = sorted({floor / s for s in positive} | {cap / s for s in positive})
    low = 0.0
    high = breaks[-1]
    for b in breaks:
        if g(b) >= 1.0:
            high = b
            break
        low = b
    middle = (low + high) / 2
    free = math.fsum(s for s in shares.values() if floor < middle * s < cap)
    fixed = math.fsum(clip(middle * s) for s in shares.values() if not floor < middle * s < cap)
    scale = (1.0 - fixed) / free if free > 0 else middle
    result = {k: clip(scale * s) for k, s in shares.items()}
    norm = math.fsum(result.values())
    return {k: v / norm for k, v in result.items()}

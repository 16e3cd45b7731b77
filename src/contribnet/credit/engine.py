"""The credit engine: a deal's journey and a policy in, an exact, explained split out.

``compute_split`` runs, in order: the region's stage weights (``Policy.for_region``), the
guards (:func:`~contribnet.credit.guards.qualifying_touches`), the model, then per pool --
cash for staff, points for owner referrers (``Policy.owner_referrals``) -- the contributors'
shares, floor and cap (:func:`~contribnet.credit.guards.floor_cap`), the exact allocation
(:func:`~contribnet.domain.allocation.allocate`) and the explanations.

The cash split is computed over the touches of those paid in cash only, so adding an owner
referral (paid in points) never changes any staff member's cash. If a model values no one in a
pool (e.g. the conversion game finds no evidence), that pool is shared equally and the
explanations say so.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from operator import itemgetter

from pydantic import BaseModel

from contribnet.credit.context import CreditContext, CreditError, build_context
from contribnet.credit.explain import explain
from contribnet.credit.guards import Dropped, Prepared, floor_cap, qualifying_touches, store_shares
from contribnet.credit.registry import MODELS, get_model
from contribnet.credit.rules import spread
from contribnet.credit.touches import Attribution, Contributor, CreditTouch
from contribnet.domain.allocation import allocate
from contribnet.domain.events import Staff
from contribnet.domain.journey import DealJourney
from contribnet.domain.policy import Policy
from contribnet.domain.split import (
    Allocation,
    NotCounted,
    PolicyRef,
    Split,
    StoreShare,
    TouchCredit,
)
from contribnet.domain.unchecked import unchecked

__all__ = [
    "CreditContext",
    "CreditError",
    "build_context",
    "compute_split",
    "compute_splits",
    "input_hash",
    "needs_context",
    "store_totals",
]


def needs_context(model: str) -> bool:
    """Whether ``model`` needs a :class:`CreditContext` (estimated from all journeys)."""
    return get_model(model).needs_context


#: The canonical text of a hashed payload: keys sorted at every level, no spaces. One encoder
#: for every hash (``json.dumps`` would build one per call); the payloads have no cycles to check.
_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, check_circular=False
)

#: Policy texts by object, with the policy itself so that its id cannot be reused meanwhile.
_policy_texts: dict[int, tuple[Policy, str]] = {}


#: Canonical texts of staff spells and store records by object, each with its record so that its
#: id cannot be reused meanwhile: the deals of one read share these objects.
_record_texts: dict[int, tuple[object, str]] = {}


def _record_text(record: BaseModel) -> str:
    cached = _record_texts.get(id(record))
    if cached is not None and cached[0] is record:
        return cached[1]
    text = _CANONICAL.encode(record.model_dump(mode="json", by_alias=True, exclude_none=True))
    if len(_record_texts) >= 8192:
        _record_texts.clear()
    _record_texts[id(record)] = (record, text)
    return text


def _spells_text(spells: Sequence[Staff]) -> str:
    if len(spells) > 1:  # most staff have one spell; several are ordered by their JSON text
        data = [s.model_dump(mode="json", by_alias=True, exclude_none=True) for s in spells]
        return _CANONICAL.encode(sorted(data, key=lambda s: json.dumps(s, sort_keys=True)))
    return "[" + ",".join(_record_text(s) for s in spells) + "]"


def _journey_text(journey: DealJourney) -> str:
    """The canonical text of a journey: its items in id order, the optional lists only when not
    empty (so hashes recorded before they existed stay valid), keys sorted at every level."""
    data = journey.model_dump(
        mode="json", by_alias=True, exclude_none=True, exclude={"staff", "stores"}
    )
    for key in ("touches", "referrals", "handovers", "joint_events"):
        data[key] = sorted(data.get(key, []), key=itemgetter("id"))
    if "assignments" in data:  # lead pools: only when the customer has a holding history
        data["assignments"] = sorted(data["assignments"], key=itemgetter("id"))
    for key in ("earlier_deals", "voided"):
        if not data.get(key):
            data.pop(key, None)
    texts = {key: _CANONICAL.encode(value) for key, value in data.items()}
    texts["staff"] = _object_text({k: _spells_text(v) for k, v in journey.staff.items()})
    texts["stores"] = _object_text({k: _record_text(v) for k, v in journey.stores.items()})
    return _object_text(texts)


def _object_text(texts: Mapping[str, str]) -> str:
    """A JSON object's canonical text from its members' texts."""
    return "{" + ",".join(f"{_CANONICAL.encode(k)}:{texts[k]}" for k in sorted(texts)) + "}"


def _policy_text(policy: Policy) -> str:
    """The canonical text of a policy, encoded once per policy object: a batch hashes the same
    policy for every deal, and its many floats cost more to encode than a journey."""
    cached = _policy_texts.get(id(policy))
    if cached is not None and cached[0] is policy:
        return cached[1]
    text = _CANONICAL.encode(policy.hashed())
    if len(_policy_texts) >= 64:
        _policy_texts.clear()
    _policy_texts[id(policy)] = (policy, text)
    return text


def input_hash(
    journey: DealJourney, policy: Policy, model: str, context: CreditContext | None
) -> str:
    """A hash of everything a split depends on: the journey (in any order), the policy, the
    model and, for data-driven models, the context's fingerprint.

    It is the hash of the canonical text (keys sorted, no spaces) of ``{"context": ...,
    "journey": ..., "model": ..., "policy": ...}``; settlements store it, so that text never
    changes.
    """
    fingerprint = context.fingerprint if context is not None and needs_context(model) else None
    # the payload's text assembled in key order, so the policy's text can be reused
    text = "".join(
        (
            '{"context":',
            _CANONICAL.encode(fingerprint),
            ',"journey":',
            _journey_text(journey),
            ',"model":',
            _CANONICAL.encode(model),
            ',"policy":',
            _policy_text(policy),
            "}",
        )
    )
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _home(touches: Sequence[CreditTouch]) -> str | None:
    """A contributor's store: that of their latest touch with a known store."""
    known = [t for t in touches if t.store is not None]
    return max(known, key=lambda t: (t.at, t.id)).store if known else None


def _name(journey: DealJourney, who: Contributor | None) -> str | None:
    """A staff member's name (their latest employment spell's), so statements read as people."""
    if who is None or who.kind != "staff":
        return None
    spells = journey.staff.get(who.id)
    return spells[-1].name if spells else None


def _not_counted(journey: DealJourney, dropped: Sequence[Dropped]) -> list[NotCounted]:
    return [
        unchecked(
            NotCounted,
            {
                "id": d.id,
                "source": d.source,
                "stage": d.stage,
                "kind": d.contributor.kind if d.contributor else None,
                "contributor": d.contributor.id if d.contributor else None,
                "name": _name(journey, d.contributor),
                "at": d.at,
                "code": d.code,
                "reason": d.reason,
                "ref": d.ref,
            },
        )
        for d in sorted(dropped, key=lambda d: (d.at is None, d.at, d.id))
    ]


def _pool_allocations(
    attribution: Attribution,
    members: Sequence[Contributor],
    pool: int,
    paid_in: str,
    model: str,
    policy: Policy,
    journey: DealJourney,
    fell_back: bool,
) -> list[Allocation]:
    """Shares, floor/cap, money and explanations of one pool's contributors."""
    if not members:
        return []
    totals = attribution.by_contributor()
    raw = {c: max(totals.get(c, 0.0), 0.0) for c in members}
    norm = sum(raw.values())
    adjustments: dict[Contributor, dict[str, float]] = {c: {} for c in members}
    if fell_back:
        for c in members:
            adjustments[c]["equal_fallback"] = 1.0
    if any("no_qualifying_contribution" in f for f in attribution.factors):
        for c in members:
            adjustments[c]["pool_to_closer"] = 1.0
    if norm > 0:
        model_share = {c: raw[c] / norm for c in members}
    else:
        model_share = {c: 1.0 / len(members) for c in members}
        for c in members:
            adjustments[c]["equal_fallback"] = 1.0
    final = floor_cap(model_share, policy.floor, policy.cap)
    for c in members:
        if final[c] > model_share[c] + 1e-12 and policy.floor > 0:
            adjustments[c]["floor"] = final[c]
        elif final[c] < model_share[c] - 1e-12 and policy.cap < 1:
            adjustments[c]["cap"] = final[c]
    ordered = sorted(members, key=lambda c: c.id)
    amounts = allocate(pool, [final[c] for c in ordered], [c.id for c in ordered])
    paid = dict(zip(ordered, amounts, strict=True))

    own: dict[Contributor, list[int]] = {c: [] for c in members}
    for i, t in enumerate(attribution.touches):
        if t.contributor in own:
            own[t.contributor].append(i)
    known_stores = journey.stores
    allocations = []
    for c in members:
        idx = own[c]
        touches = [attribution.touches[i] for i in idx]
        credits = [attribution.credit[i] for i in idx]
        got = sum(credits)
        if got > 0:
            scaled = [x / got * final[c] for x in credits]
        else:
            scaled = [final[c] / len(idx)] * len(idx)
        store_part: dict[str, float] = {}
        for t, x in zip(touches, scaled, strict=True):
            for store, part in store_shares(t).items():
                store_part[store] = store_part.get(store, 0.0) + x * part
        store_total = sum(store_part.values())
        stores = [
            unchecked(
                StoreShare,
                {
                    "store": s,
                    "brand": known_stores[s].brand if s in known_stores else None,
                    "share": v / store_total if store_total > 0 else 0.0,
                },
            )
            for s, v in sorted(store_part.items())
        ]
        home = _home(touches) if c.kind == "staff" else None
        brand = known_stores[home].brand if home in known_stores else None
        touch_credits = [
            unchecked(
                TouchCredit,
                {
                    "id": t.id,
                    "source": t.source,
                    "stage": t.stage,
                    "at": t.at,
                    "store": t.store,
                    "joint_event": t.joint_event,
                    "credit": x,
                    "factors": dict(attribution.factors[i]),  # the split's own copy
                    "held_by": t.held_by,
                    "touched_by": t.touched_by,
                },
            )
            for t, x, i in zip(touches, scaled, idx, strict=True)
        ]
        amount = paid[c] if paid_in == "cash" else 0
        points = paid[c] if paid_in == "points" else 0
        name = _name(journey, c)
        allocations.append(
            unchecked(
                Allocation,
                {
                    "kind": "owner" if c.kind == "owner" else "staff",
                    "id": c.id,
                    "name": name,
                    "store": home,
                    "brand": brand,
                    "share": final[c],
                    "amount": amount,
                    "points": points,
                    "explanation": explain(
                        c,
                        name,
                        home,
                        brand,
                        final[c],
                        amount,
                        points,
                        model,
                        touch_credits,
                        model_share[c],
                        adjustments[c],
                        stores if c.kind == "staff" else [],
                    ),
                },
            )
        )
    allocations.sort(key=lambda a: (-a.share, a.id))
    return allocations


def _attribute(
    touches: Sequence[CreditTouch], name: str, policy: Policy, context: CreditContext | None
) -> tuple[Attribution, bool]:
    """The model's attribution, or an equal split (and ``True``) if it valued no one."""
    attribution = MODELS[name].run(touches, policy, context)
    if touches and sum(attribution.credit) <= 0:
        return spread(touches, {t.contributor: 1.0 for t in touches}, policy), True
    return attribution, False


def compute_split(
    journey: DealJourney,
    policy: Policy,
    model: str | None = None,
    context: CreditContext | None = None,
    *,
    hashed: str | None = None,
) -> Split:
    """Split a deal's reward pool among its contributors under a model and a policy.

    Parameters
    ----------
    journey : DealJourney
        The deal and its customer's journey, voided events removed.
    policy : Policy
        Stage weights, guards and model parameters.
    model : str, optional
        A name of :data:`~contribnet.credit.registry.MODELS`; default ``policy.model``.
    context : CreditContext, optional
        Tables estimated from all journeys (:func:`build_context`); required by
        ``shapley_conversion`` and ``markov``.
    hashed : str, optional
        The :func:`input_hash` of these very arguments, if the caller has it already (settling
        compares it with the recorded settlement's before computing anything): not computed
        again.

    Returns
    -------
    Split
        One allocation per contributor: staff in fen summing exactly to the reward pool, owner
        referrers in points summing to the points pool (the deal's ``points_pool``, else
        ``policy.owner_points``).

    Raises
    ------
    CreditError
        An unknown model, or a data-driven model without its context.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> from contribnet.domain.events import Deal, Touch
    >>> at = lambda day: datetime(2025, 1, day, tzinfo=UTC)
    >>> touches = [Touch(id=f"t{d}", at=at(d), customer="c", staff="sf-x", store="a",
    ...                  stage="test_drive") for d in (3, 6, 9)]
    >>> deal = Deal(id="d", customer="c", store="b", staff="sf-y", closed_at=at(20),
    ...             amount=30_000_000, reward_pool=500_000)
    >>> split = compute_split(DealJourney(deal=deal, touches=tuple(touches)), Policy())
    >>> [(a.id, a.amount) for a in split.allocations]
    [('sf-x', 312500), ('sf-y', 187500)]
    >>> for part in split.allocations[1].explanation.text.split(" for "):
    ...     print(part)
    sf-y (b) gets 37.5% = ¥1,875.00 under stage_weighted
    1 order touch (the deal itself; weight 15).
    """
    name = model or policy.model
    get_model(name)
    deal = journey.deal
    region = journey.stores[deal.store].region if deal.store in journey.stores else None
    regional = policy.for_region(region)
    prepared: Prepared = qualifying_touches(journey, regional)
    touches = prepared.touches
    cash_kinds = {"staff", "owner"} if regional.owner_referrals == "cash" else {"staff"}
    cash_touches = [t for t in touches if t.contributor.kind in cash_kinds]
    owner_touches = [t for t in touches if t.contributor.kind not in cash_kinds]

    allocations: list[Allocation] = []
    cash_members = sorted({t.contributor for t in cash_touches})
    if cash_members:
        attribution, fell_back = _attribute(cash_touches, name, regional, context)
        allocations += _pool_allocations(
            attribution, cash_members, deal.reward_pool, "cash", name, regional, journey, fell_back
        )
    elif deal.reward_pool > 0:
        # A pool is never left unpaid: with no qualifying contribution (e.g. a policy weighing
        # ``order`` 0 and nothing else recorded) the closer receives it, and says why.
        closer = CreditTouch(
            deal.id,
            Contributor("staff", deal.staff),
            "order",
            deal.closed_at,
            0.0,
            deal.store,
            "deal",
        )
        attribution = Attribution((closer,), (1.0,), ({"no_qualifying_contribution": 1.0},))
        allocations += _pool_allocations(
            attribution,
            [closer.contributor],
            deal.reward_pool,
            "cash",
            name,
            regional,
            journey,
            False,
        )
    owners = sorted({t.contributor for t in owner_touches})
    if owners:
        attribution, fell_back = _attribute(touches, name, regional, context)
        points_pool = deal.points_pool if deal.points_pool is not None else regional.owner_points
        allocations += _pool_allocations(
            attribution, owners, points_pool, "points", name, regional, journey, fell_back
        )
    return Split(
        deal=deal.id,
        model=name,
        policy=PolicyRef(name=policy.name, version=policy.version),
        pool=deal.reward_pool,
        input_hash=hashed if hashed is not None else input_hash(journey, policy, name, context),
        allocations=allocations,
        not_counted=_not_counted(journey, prepared.dropped),
    )


def compute_splits(
    journeys: Iterable[DealJourney],
    policy: Policy,
    model: str | None = None,
    context: CreditContext | None = None,
) -> list[Split]:
    """:func:`compute_split` for each journey (one context serves them all)."""
    return [compute_split(j, policy, model, context) for j in journeys]


def store_totals(split: Split) -> dict[str, int]:
    """Fen per store: each staff allocation's amount divided among its stores (joint events
    share theirs among the organisers) by largest remainder; sums to the allocated cash.

    >>> from contribnet.domain.split import Explanation
    >>> e = Explanation(text="", model_share=1.0, touches=[], stores=[
    ...     StoreShare(store="nio-1", share=0.5), StoreShare(store="onvo-1", share=0.5)])
    >>> a = Allocation(kind="staff", id="s", share=1.0, amount=101, points=0, explanation=e)
    >>> store_totals(Split(deal="d", model="m", policy=PolicyRef(name="p", version="1"),
    ...                    pool=101, input_hash="", allocations=[a]))
    {'nio-1': 51, 'onvo-1': 50}
    """
    totals: dict[str, int] = {}
    for a in split.allocations:
        if a.amount <= 0:
            continue
        parts: Mapping[str, float] = {s.store: s.share for s in a.explanation.stores}
        if not parts and a.store is not None:
            parts = {a.store: 1.0}
        keys = sorted(parts)
        for store, fen in zip(
            keys, allocate(a.amount, [parts[k] for k in keys], keys), strict=True
        ):
            totals[store] = totals.get(store, 0) + fen
    return dict(sorted(totals.items()))

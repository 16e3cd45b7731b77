"""Rule-based credit models: fixed formulas over a deal's qualifying touches.

Every model here takes the qualifying touches (after the guards of
:mod:`contribnet.credit.guards`) and a policy, gives each touch a raw weight by its rule,
multiplies it by the touch's saturation factor
(:func:`~contribnet.credit.guards.saturation_factors`) and normalises, so that the credits sum
to 1. Touches at the same instant are treated alike (the *first touch* is every touch at the
earliest instant), so input order never matters.

:func:`rules_many` runs the five position and time models for many deals at once with numpy.

References
----------
.. [1] Kannan, P. K., Reinartz, W., & Verhoef, P. C. (2016). The path to purchase and
   attribution modeling. International Journal of Research in Marketing, 33(3), 449-456.
.. [2] Li, H., & Kannan, P. K. (2014). Attributing conversions in a multichannel online
   marketing environment. Journal of Marketing Research, 51(1), 40-56.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import numpy as np
import numpy.typing as npt

from contribnet.credit.guards import decay_factors, saturation_factors
from contribnet.credit.touches import Attribution, Contributor, CreditTouch
from contribnet.domain.allocation import allocate_many
from contribnet.domain.policy import Policy

__all__ = [
    "RULES_MANY",
    "first_touch",
    "last_touch",
    "linear",
    "participation",
    "position_based",
    "role_based",
    "rules_many",
    "spread",
    "stage_weighted",
    "time_decay",
    "w_shaped",
]


def _finish(
    touches: Sequence[CreditTouch],
    raw: Sequence[float],
    factors: Sequence[dict[str, float]],
    policy: Policy,
) -> Attribution:
    """Saturate the raw weights, normalise, and record the factors."""
    sat = saturation_factors(touches, raw, policy.saturation)
    weights = [r * s for r, s in zip(raw, sat, strict=True)]
    norm = sum(weights)
    credit = [w / norm if norm > 0 else 0.0 for w in weights]
    out = []
    for f, s in zip(factors, sat, strict=True):
        f = dict(f)
        f["weight_total"] = norm
        if s != 1.0:
            f["saturation"] = s
        out.append(f)
    return Attribution(tuple(touches), tuple(credit), tuple(out))


def _extreme_instants(touches: Sequence[CreditTouch]) -> tuple[datetime, datetime]:
    return min(t.at for t in touches), max(t.at for t in touches)


def first_touch(touches: Sequence[CreditTouch], policy: Policy) -> Attribution:
    """All credit to the first touch.

    Definition: ``w(t) = 1`` if ``t`` is at the earliest instant of the journey, else 0;
    ``credit(t) = w(t) sat(t) / sum(w sat)``. Touches tied at the earliest instant share it.

    Examples
    --------
    >>> from contribnet.credit.touches import example_touch as t, shares
    >>> journey = [t("ann", "lead", 20), t("bob", "test_drive", 5), t("cat", "order", 0)]
    >>> shares(first_touch(journey, Policy()))
    {'ann': 1.0, 'bob': 0.0, 'cat': 0.0}
    """
    if not touches:
        return Attribution((), (), ())
    first, _ = _extreme_instants(touches)
    raw = [1.0 if t.at == first else 0.0 for t in touches]
    return _finish(touches, raw, [{"first": r} if r else {} for r in raw], policy)


def last_touch(touches: Sequence[CreditTouch], policy: Policy) -> Attribution:
    """All credit to the last touch (the order-grabbing rule contribnet exists to replace).

    Definition: ``w(t) = 1`` if ``t`` is at the latest instant, else 0; normalised as in
    :func:`first_touch`.

    Examples
    --------
    >>> from contribnet.credit.touches import example_touch as t, shares
    >>> journey = [t("ann", "lead", 20), t("bob", "test_drive", 5), t("cat", "order", 0)]
    >>> shares(last_touch(journey, Policy()))
    {'ann': 0.0, 'bob': 0.0, 'cat': 1.0}
    """
    if not touches:
        return Attribution((), (), ())
    _, last = _extreme_instants(touches)
    raw = [1.0 if t.at == last else 0.0 for t in touches]
    return _finish(touches, raw, [{"last": r} if r else {} for r in raw], policy)


def linear(touches: Sequence[CreditTouch], policy: Policy) -> Attribution:
    """Equal credit per touch.

    Definition: ``w(t) = 1``; ``credit(t) = sat(t) / sum(sat)``. With saturation 0.5, a
    contributor's k repeated touches of one stage count ``1 + 0.5 + ... + 0.5**(k-1)`` (< 2).

    Examples
    --------
    >>> from contribnet.credit.touches import example_touch as t, shares
    >>> journey = [t("ann", "lead", 20), t("bob", "test_drive", 5), t("bob", "order", 0)]
    >>> shares(linear(journey, Policy()))
    {'ann': 0.333, 'bob': 0.667}
    """
    raw = [1.0] * len(touches)
    return _finish(touches, raw, [{} for _ in touches], policy)


def time_decay(touches: Sequence[CreditTouch], policy: Policy) -> Attribution:
    """Credit decaying with the time between touch and close.

    Definition: ``w(t) = 2 ** (-(closed_at - at) / half_life)`` with ``half_life =
    policy.half_life_days`` (default 7 days); ``credit(t) = w(t) sat(t) / sum(w sat)``. A touch
    one half-life older weighs half as much; an older identical touch never gets more.

    Examples
    --------
    >>> from contribnet.credit.touches import example_touch as t, shares
    >>> journey = [t("ann", "lead", 14), t("bob", "test_drive", 7), t("cat", "order", 0)]
    >>> shares(time_decay(journey, Policy(half_life_days=7)))
    {'ann': 0.143, 'bob': 0.286, 'cat': 0.571}
    """
    raw = decay_factors(touches, policy.half_life_days)
    factors = [{"decay": 2.0 ** (-t.age_days / policy.half_life_days)} for t in touches]
    return _finish(touches, raw, factors, policy)


def position_based(touches: Sequence[CreditTouch], policy: Policy) -> Attribution:
    """U-shaped credit: a fixed part to the first touch, the last, and the middle ones.

    Definition: with weights ``(first, middle, last)`` (default 0.4/0.2/0.4), the touches at the
    earliest instant share ``first``, those at the latest share ``last``, and all others share
    ``middle`` equally; weights of an empty group are dropped and the rest renormalised, so one
    touch (or one instant) gets 100% and two get 50/50 (with the default weights).

    Examples
    --------
    >>> from contribnet.credit.touches import example_touch as t, shares
    >>> journey = [t("ann", "lead", 20), t("bob", "test_drive", 9), t("bob", "quote", 5),
    ...            t("cat", "order", 0)]
    >>> shares(position_based(journey, Policy()))
    {'ann': 0.4, 'bob': 0.2, 'cat': 0.4}
    >>> shares(position_based(journey[::3], Policy()))
    {'ann': 0.5, 'cat': 0.5}
    """
    if not touches:
        return Attribution((), (), ())
    w = policy.position_based
    first, last = _extreme_instants(touches)
    if first == last:
        raw = [1.0] * len(touches)
        return _finish(touches, raw, [{"position": 1.0} for _ in touches], policy)
    n_first = sum(t.at == first for t in touches)
    n_last = sum(t.at == last for t in touches)
    n_middle = len(touches) - n_first - n_last
    raw = []
    for t in touches:
        if t.at == first:
            raw.append(w.first / n_first)
        elif t.at == last:
            raw.append(w.last / n_last)
        else:
            raw.append(w.middle / n_middle)
    return _finish(touches, raw, [{"position": r} for r in raw], policy)


def w_shaped(touches: Sequence[CreditTouch], policy: Policy) -> Attribution:
    """W-shaped credit: first touch, first test drive and last touch, and the rest.

    Definition: three milestones -- the touches at the earliest instant (``first``), the
    test-drive touches at the earliest test-drive instant (``test_drive``), the touches at the
    latest instant (``last``) -- each share their weight (default 0.3 each); every other touch
    shares ``middle`` (default 0.1) equally. A touch in several milestones adds their weights
    (one instant is both first and last). Degenerate cases: without a test drive, or without
    middle touches, those weights are dropped and the rest renormalised; a single touch gets 100%.

    Examples
    --------
    >>> from contribnet.credit.touches import example_touch as t, shares
    >>> journey = [t("ann", "lead", 20), t("bob", "consultation", 12), t("bob", "test_drive", 9),
    ...            t("dan", "quote", 5), t("cat", "order", 0)]
    >>> shares(w_shaped(journey, Policy()))
    {'ann': 0.3, 'bob': 0.35, 'cat': 0.3, 'dan': 0.05}
    """
    if not touches:
        return Attribution((), (), ())
    w = policy.w_shaped
    first, last = _extreme_instants(touches)
    drives = [t.at for t in touches if t.stage == "test_drive"]
    first_drive = min(drives) if drives else None
    groups = {
        "first": [t.at == first for t in touches],
        "test_drive": [t.stage == "test_drive" and t.at == first_drive for t in touches],
        "last": [t.at == last for t in touches],
    }
    weights = {"first": w.first, "test_drive": w.test_drive, "last": w.last}
    raw = [0.0] * len(touches)
    factors: list[dict[str, float]] = [{} for _ in touches]
    in_milestone = [any(g[i] for g in groups.values()) for i in range(len(touches))]
    for name, members in groups.items():
        count = sum(members)
        for i, member in enumerate(members):
            if member:
                raw[i] += weights[name] / count
                factors[i][name] = weights[name] / count
    n_middle = len(touches) - sum(in_milestone)
    for i, milestone in enumerate(in_milestone):
        if not milestone:
            raw[i] = w.middle / n_middle
            factors[i]["middle"] = raw[i]
    return _finish(touches, raw, factors, policy)


def stage_weighted(
    touches: Sequence[CreditTouch],
    policy: Policy,
    weights: Mapping[str, float] | None = None,
) -> Attribution:
    """Credit by stage: each stage that happened earns its weight, shared by its touches.

    Definition: let ``W(s)`` be the policy's weight of stage ``s`` (``weights`` if given; the
    Markov model passes its removal effects) and ``S`` the stages present. A touch ``t`` of
    stage ``s`` gets ``W(s) / sum(W over S)`` times its part of the stage,
    ``d(t) sat(t) / sum(d sat over the touches of s)``, where ``d`` is the time decay of
    :func:`time_decay` and saturation is ranked by decay. So whoever did a stage keeps its
    weight however many touches later stages have -- three test drives by one advisor keep the
    whole test-drive weight when someone else closes.

    Examples
    --------
    >>> from contribnet.credit.touches import example_touch as t, shares
    >>> journey = [t("x", "test_drive", 30), t("x", "test_drive", 20), t("x", "test_drive", 10),
    ...            t("y", "quote", 1), t("y", "order", 0)]
    >>> shares(stage_weighted(journey, Policy()))   # test_drive 25 vs quote 5 + order 15
    {'x': 0.556, 'y': 0.444}
    """
    if not touches:
        return Attribution((), (), ())
    stage_weight = weights if weights is not None else policy.stage_weights
    decay = decay_factors(touches, policy.half_life_days)
    sat = saturation_factors(touches, decay, policy.saturation)
    within: dict[str, float] = {}
    count: dict[str, int] = {}
    for t, d, s in zip(touches, decay, sat, strict=True):
        within[t.stage] = within.get(t.stage, 0.0) + d * s
        count[t.stage] = count.get(t.stage, 0) + 1
    total_weight = sum(stage_weight.get(s, 0.0) for s in within)
    credit = []
    factors = []
    for t, d, s in zip(touches, decay, sat, strict=True):
        w = stage_weight.get(t.stage, 0.0)
        part = d * s / within[t.stage]
        credit.append(w * part / total_weight if total_weight > 0 else 0.0)
        f = {"stage_weight": w, "weight_total": total_weight, "stage_part": part}
        if count[t.stage] > 1:
            f["decay"] = 2.0 ** (-t.age_days / policy.half_life_days)
        if s != 1.0:
            f["saturation"] = s
        factors.append(f)
    return Attribution(tuple(touches), tuple(credit), tuple(factors))


def spread(
    touches: Sequence[CreditTouch],
    values: Mapping[Contributor, float],
    policy: Policy,
    stage_values: Mapping[tuple[Contributor, str], float] | None = None,
) -> Attribution:
    """Turn contributor-level values into touch credit, following what each touch contributed.

    Definition: contributor ``c`` gets ``v(c) / sum(v)`` (negative values count as 0). It is
    divided over the stages ``c`` did in proportion to ``V(c, s)`` -- the model's value of
    ``c``'s part in stage ``s`` (``stage_values``; by default the policy's weight of ``s``) --
    and within a stage over ``c``'s touches of it as :func:`stage_weighted` does, by time decay
    times saturation. Used by the set-based models (participation, Shapley) and for the
    fallback when a model values no one; the stores of the touches then share the contributor's
    credit as the model does (work at store A keeps A's part after a move to store C), not by
    recency. If every ``V(c, s)`` of a contributor is 0, their touches share equally.

    Examples
    --------
    An advisor did a lead, a reception and a test drive at store A, then moved and did one
    consultation at C: the weights (10 + 10 + 25 against 10) say where the work was done.

    >>> from contribnet.credit.touches import example_touch as t
    >>> journey = [t("x", "lead", 60, store="A"), t("x", "reception", 50, store="A"),
    ...            t("x", "test_drive", 40, store="A"), t("x", "consultation", 1, store="C")]
    >>> parts = spread(journey, {journey[0].contributor: 1.0}, Policy()).credit
    >>> round(sum(parts[:3]), 4), round(parts[3], 4)
    (0.8182, 0.1818)
    """
    if not touches:
        return Attribution((), (), ())
    decay = decay_factors(touches, policy.half_life_days)
    sat = saturation_factors(touches, decay, policy.saturation)
    within: dict[tuple[Contributor, str], float] = {}
    for t, d, s in zip(touches, decay, sat, strict=True):
        key = (t.contributor, t.stage)
        within[key] = within.get(key, 0.0) + d * s

    def value_of(key: tuple[Contributor, str]) -> float:
        if stage_values is not None:
            return max(stage_values.get(key, 0.0), 0.0)
        return policy.weight(key[1])

    stage_value = {key: value_of(key) for key in within}
    own: dict[Contributor, float] = {}
    count: dict[Contributor, int] = {}
    for (c, _), v in stage_value.items():
        own[c] = own.get(c, 0.0) + v
    for t in touches:
        count[t.contributor] = count.get(t.contributor, 0) + 1
    norm = sum(max(values.get(c, 0.0), 0.0) for c in own)
    credit = []
    factors = []
    for t, d, s in zip(touches, decay, sat, strict=True):
        c = t.contributor
        key = (c, t.stage)
        value = max(values.get(c, 0.0), 0.0) / norm if norm > 0 else 0.0
        if own[c] > 0 and within[key] > 0:
            part = stage_value[key] / own[c] * (d * s / within[key])
        else:
            part = 1.0 / count[c]
        credit.append(value * part)
        f = {"contributor_value": values.get(c, 0.0), "value_total": norm, "touch_part": part}
        if s != 1.0:
            f["saturation"] = s
        factors.append(f)
    return Attribution(tuple(touches), tuple(credit), tuple(factors))


def participation(touches: Sequence[CreditTouch], policy: Policy) -> Attribution:
    """Equal credit per contributor, however many touches each has.

    Definition: each of the ``n`` contributors gets ``1/n``, spread over their own touches by
    :func:`spread`.

    Examples
    --------
    >>> from contribnet.credit.touches import example_touch as t, shares
    >>> journey = [t("ann", "lead", 20), t("bob", "test_drive", 5), t("bob", "quote", 3),
    ...            t("bob", "order", 0)]
    >>> shares(participation(journey, Policy()))
    {'ann': 0.5, 'bob': 0.5}
    """
    return spread(touches, {t.contributor: 1.0 for t in touches}, policy)


#: role name -> (stages that fill it, which touches hold it: "first", "last" or "all")
ROLES: dict[str, tuple[frozenset[str], str]] = {
    "source": (frozenset({"lead", "referral", "handover"}), "first"),
    "reception": (frozenset({"reception"}), "first"),
    "test_drive": (frozenset({"test_drive"}), "all"),
    "closer": (frozenset({"order"}), "last"),
    "delivery": (frozenset({"delivery"}), "all"),
}


def role_based(touches: Sequence[CreditTouch], policy: Policy) -> Attribution:
    """Fixed shares per role of the journey, as in Lianjia's Agent Cooperation Network.

    Definition: the roles and who holds them --

    * ``source``: the earliest lead, referral or handover touch(es);
    * ``reception``: the earliest reception touch(es);
    * ``test_drive``: every test-drive touch, each counting ``sat(t)`` (repeats saturate);
    * ``closer``: the latest order touch(es) -- the deal's closer;
    * ``delivery``: every delivery touch before the close (saturated like test drives).

    A filled role's share (``policy.role_shares``) is divided among its holders (equally, or
    by saturation factor for ``test_drive``/``delivery``); a touch holding several roles adds
    them up. The share of a role nobody holds goes to ``policy.role_fallback``: ``"pro_rata"``
    (default) scales up the filled roles; a role name gives it to that role if it is filled
    (else pro rata). A contributor holding no role gets nothing (unless a floor applies).

    Examples
    --------
    >>> from contribnet.credit.touches import example_touch as t, shares
    >>> journey = [t("ann", "lead", 20), t("bob", "reception", 9), t("bob", "test_drive", 8),
    ...            t("cat", "consultation", 4), t("cat", "order", 0)]
    >>> shares(role_based(journey, Policy()))   # no delivery: its 0.10 spread pro rata
    {'ann': 0.222, 'bob': 0.444, 'cat': 0.333}
    """
    if not touches:
        return Attribution((), (), ())
    shares = policy.role_shares.model_dump()
    holders: dict[str, list[int]] = {}
    for role, (stages, pick) in ROLES.items():
        members = [i for i, t in enumerate(touches) if t.stage in stages]
        if members and pick != "all":
            choose = min if pick == "first" else max
            instant = choose(touches[i].at for i in members)
            members = [i for i in members if touches[i].at == instant]
        if members:
            holders[role] = members
    filled = {r: shares[r] for r in holders}
    unfilled = sum(v for r, v in shares.items() if r not in holders)
    fallback = policy.role_fallback
    if unfilled > 0 and fallback in filled:
        filled[fallback] += unfilled
    total_filled = sum(filled.values())
    ones = [1.0] * len(touches)
    sat = saturation_factors(touches, ones, policy.saturation)
    raw = [0.0] * len(touches)
    factors: list[dict[str, float]] = [{} for _ in touches]
    for role, members in holders.items():
        share = filled[role] / total_filled if total_filled > 0 else 0.0
        pick = ROLES[role][1]
        parts = [sat[i] if pick == "all" else 1.0 for i in members]
        norm = sum(parts)
        for i, part in zip(members, parts, strict=True):
            raw[i] += share * part / norm
            factors[i][f"role:{role}"] = share * part / norm
            if pick == "all" and sat[i] != 1.0:
                factors[i]["saturation"] = sat[i]
    return Attribution(tuple(touches), tuple(raw), tuple(factors))


# --- many deals at once -------------------------------------------------------------------

#: The models :func:`rules_many` computes.
RULES_MANY = ("first_touch", "last_touch", "linear", "time_decay", "position_based")


def rules_many(
    model: str,
    offsets: npt.ArrayLike,
    age_days: npt.ArrayLike,
    contributor: npt.ArrayLike,
    pools: npt.ArrayLike,
    *,
    half_life_days: float = 7.0,
    position: tuple[float, float, float] = (0.4, 0.2, 0.4),
    factor: npt.ArrayLike | None = None,
) -> npt.NDArray[np.int64]:
    """Exact fen splits of many deals at once under a rule model, vectorised with numpy.

    The touches of all deals are given as flat arrays: deal ``d`` owns the touches
    ``offsets[d]:offsets[d+1]`` (every deal at least one). ``age_days`` is each touch's time
    before its deal closed (an equal age is the same instant), ``contributor`` the touch's
    contributor as a small integer within its deal (``0 .. K-1``), ``pools`` each deal's reward
    pool in fen. ``factor`` multiplies each touch's raw weight (pass the saturation factors;
    default 1). The models are defined exactly as :func:`first_touch`, :func:`last_touch`,
    :func:`linear`, :func:`time_decay` and :func:`position_based`.

    Returns
    -------
    amounts : ndarray of int64, shape (D, K)
        Fen per deal and contributor; each row sums exactly to its pool (largest remainder,
        ties to the lower contributor number).

    Examples
    --------
    >>> rules_many("linear", [0, 3, 4], [9.0, 5.0, 0.0, 2.0], [0, 1, 1, 0], [1000, 500])
    array([[333, 667],
           [500,   0]])
    """
    if model not in RULES_MANY:
        raise ValueError(f"rules_many computes {', '.join(RULES_MANY)}, not {model!r}")
    off = np.asarray(offsets, dtype=np.int64)
    age = np.asarray(age_days, dtype=np.float64)
    who = np.asarray(contributor, dtype=np.int64)
    pool = np.asarray(pools, dtype=np.int64)
    n_deals = len(off) - 1
    lengths = np.diff(off)
    if n_deals == 0:
        return np.zeros((0, 0), dtype=np.int64)
    if np.any(lengths <= 0):
        raise ValueError("every deal needs at least one touch")
    deal = np.repeat(np.arange(n_deals), lengths)
    starts = off[:-1]
    if model == "linear":
        raw = np.ones_like(age)
    elif model == "time_decay":
        youngest = np.minimum.reduceat(age, starts)
        raw = np.exp2(-(age - youngest[deal]) / half_life_days)
    else:
        oldest = np.maximum.reduceat(age, starts)[deal]
        youngest = np.minimum.reduceat(age, starts)[deal]
        is_first = age == oldest
        is_last = age == youngest
        if model == "first_touch":
            raw = is_first.astype(np.float64)
        elif model == "last_touch":
            raw = is_last.astype(np.float64)
        else:
            # group of each touch: 0 middle, 1 first, 2 last, 3 both (the deal is one instant)
            group = is_first.astype(np.int64) + 2 * is_last
            sizes = np.bincount(deal * 4 + group, minlength=n_deals * 4).reshape(n_deals, 4)
            weight = np.array([position[1], position[0], position[2], 1.0])
            table = np.divide(weight, sizes, out=np.zeros(sizes.shape), where=sizes > 0)
            raw = table.ravel()[deal * 4 + group]
    if factor is not None:
        raw = raw * np.asarray(factor, dtype=np.float64)
    width = int(who.max()) + 1
    per = np.bincount(deal * width + who, weights=raw, minlength=n_deals * width)
    return allocate_many(pool, per.reshape(n_deals, width))

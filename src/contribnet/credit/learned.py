"""What the learned models (``markov``, ``shapley_conversion``) learn from, and what they split.

**Training data.** The models learn from the same contribution items the split credits, each
journey cut where its deal closes. Per customer the store yields (``Store.contribution_paths``)
the time-ordered live items -- logged touches by stage (a joint-event touch by its own stage,
e.g. ``event``), staff referrals as ``referral``, owner referrals as ``owner_referral``, handovers
that include the customer as ``handover`` -- and the close instants of the customer's live deals.
:func:`training_paths` turns them into ``(stage_path, converted)`` paths:

* one *converted* path per live deal: the items after the previous live deal's close up to and
  including this deal's close (a contribution counts for the first live deal that closes at or
  after it, as in the split), within the policy's lookback before the close;
* the items after the last deal (the whole journey for a customer with no deal), if any, as one
  *non-converted* path;
* only :func:`learned_stages` are kept: a stage the policy weighs 0 (``follow_up``) is credited
  to no one, and the policy's ``outcome_stages`` (quote, order, delivery: they happen once the
  customer has decided, so they occur on converted journeys only and would look decisive) are
  paid by stage weights instead (below).

Two deals closed at the same instant (two cars in one order) are one decision: the second adds no
path. Repeated logs of one visit are kept (a self-loop changes no absorption probability and no
stage set), and region overrides of stage weights are not applied (the models learn once from all
journeys).

**What they split.** :func:`outcome_split` pays the outcome stages of a deal by the policy's
stage weights and lets the learned model split the rest; both models use it.

References
----------
.. [1] Anderl, E., Becker, I., von Wangenheim, F., & Schumann, J. H. (2016). Mapping the customer
   journey: Lessons learned from graph-based online attribution modeling. *International
   Journal of Research in Marketing*, 33(3), 457-474.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from contribnet.credit.rules import stage_weighted
from contribnet.credit.touches import Attribution, CreditTouch
from contribnet.domain.policy import Policy

__all__ = [
    "OWNER_REFERRAL",
    "ContributionPath",
    "learned_stage",
    "learned_stages",
    "outcome_split",
    "training_paths",
]

#: The stage an owner's referral is learned as: its own kind, apart from staff referrals (the
#: engine's credit touch of either has stage ``referral``; the contributor's kind tells them apart).
OWNER_REFERRAL = "owner_referral"

#: One customer as ``Store.contribution_paths`` yields it: the live contribution items as
#: ``(at, stage)`` in time order, and the close instants of the customer's live deals.
ContributionPath = tuple[Sequence[tuple[datetime, str]], Sequence[datetime]]


def learned_stage(touch: CreditTouch) -> str:
    """The stage under which the models learned ``touch``: its stage, except an owner's
    referral, which is :data:`OWNER_REFERRAL`.

    >>> from contribnet.credit.touches import example_touch as t
    >>> learned_stage(t("li", "referral", 3)), learned_stage(t("c-9", "referral", 3, kind="owner"))
    ('referral', 'owner_referral')
    """
    if touch.stage == "referral" and touch.contributor.kind == "owner":
        return OWNER_REFERRAL
    return touch.stage


def learned_stages(policy: Policy) -> frozenset[str]:
    """The stages the models learn under ``policy``: those it weighs more than 0 that are not
    ``outcome_stages``, and :data:`OWNER_REFERRAL` when ``referral`` is one of them and the policy
    counts owner referrals (``owner_referrals`` is not ``"ignore"``).

    >>> sorted(learned_stages(Policy()))  # doctest: +NORMALIZE_WHITESPACE
    ['consultation', 'event', 'handover', 'lead', 'owner_referral', 'reception', 'referral',
     'test_drive']
    """
    outcome = set(policy.outcome_stages)
    stages = {s for s, w in policy.stage_weights.items() if w > 0 and s not in outcome} - {
        OWNER_REFERRAL
    }
    if "referral" in stages and policy.owner_referrals != "ignore":
        stages.add(OWNER_REFERRAL)
    return frozenset(stages)


def training_paths(
    journeys: Iterable[ContributionPath], policy: Policy
) -> Iterator[tuple[tuple[str, ...], bool]]:
    """The ``(stage_path, converted)`` paths the learned models learn from (see the module notes).

    ``journeys`` is what ``Store.contribution_paths()`` yields: per customer, the live
    contribution items ``(at, stage)`` in time order and the close instants of the live deals.

    Examples
    --------
    A customer who bought in January and again in March, and came back in May:

    >>> from datetime import UTC, datetime
    >>> day = lambda m, d: datetime(2025, m, d, tzinfo=UTC)
    >>> items = [(day(1, 2), "lead"), (day(1, 5), "test_drive"), (day(1, 9), "order"),
    ...          (day(2, 20), "referral"), (day(3, 1), "follow_up"), (day(3, 2), "test_drive"),
    ...          (day(5, 4), "reception")]
    >>> list(training_paths([(items, [day(1, 9), day(3, 2)])], Policy()))
    [(('lead', 'test_drive'), True), (('referral', 'test_drive'), True), (('reception',), False)]
    """
    learned = learned_stages(policy)
    lookback = timedelta(days=policy.lookback_days)
    for items, closes in journeys:
        i, n = 0, len(items)
        previous: datetime | None = None
        for close in sorted(closes):
            if close == previous:
                continue  # the same decision as the deal before (two cars in one order)
            earliest = close - lookback
            path = []
            while i < n and items[i][0] <= close:
                at, stage = items[i]
                if stage in learned and at >= earliest:
                    path.append(stage)
                i += 1
            yield tuple(path), True
            previous = close
        rest = tuple(stage for _, stage in items[i:] if stage in learned)
        if rest:
            yield rest, False


def outcome_split(
    touches: Sequence[CreditTouch],
    policy: Policy,
    learned: Collection[str],
    model: Callable[[Sequence[CreditTouch]], Attribution],
) -> Attribution:
    """Pay the outcome stages by stage weights and let a learned model split the rest.

    Definition: let ``S`` be the stages of the deal's qualifying touches (an owner's referral
    counts as :data:`OWNER_REFERRAL`, see :func:`learned_stage`), ``L`` those in ``learned``
    (the stages the model has a value for) that are not ``policy.outcome_stages``, and
    ``O = S - L``. With ``w`` the policy's stage weights, the outcome part of the pool is

        ``a = sum(w(s) for s in O) / sum(w(s) for s in S)``

    and is shared by the touches of ``O`` as :func:`~contribnet.credit.rules.stage_weighted`
    shares it among them; the learned part ``1 - a`` is shared by the touches of ``L`` in
    proportion to ``model(touches of L)``. If ``L`` is empty (``a = 1``), or the model values
    none of its touches, everything goes by stage weights (:func:`stage_weighted` over all the
    touches, ``outcome_part`` 1). Each touch's factors say which part it took (``outcome_part``
    or ``learned_part``): its credit is that part times its credit within the part.

    Examples
    --------
    X received the customer and drove three times; Y received them again at another store,
    quoted and took the order. Quote and order (weights 5 and 15 of the 55 of the stages present:
    reception 10, test drive 25, quote 5, order 15) are outcomes, so Y gets ``a = 20/55`` for them.
    The learned model here (equal credit per touch, :func:`~contribnet.credit.rules.linear`)
    splits the other 35/55 over the five touches of reception and test drive, 4/5 to X:

    >>> from contribnet.credit.rules import linear
    >>> from contribnet.credit.touches import example_touch as t, shares
    >>> journey = [t("x", "reception", 30), t("x", "test_drive", 20), t("x", "test_drive", 15),
    ...            t("x", "test_drive", 10), t("y", "reception", 3), t("y", "quote", 1),
    ...            t("y", "order", 0)]
    >>> learned = {"reception", "test_drive"}
    >>> policy = Policy(saturation=1.0)
    >>> shares(outcome_split(journey, policy, learned, lambda ts: linear(ts, policy)))
    {'x': 0.509, 'y': 0.491}
    """
    if not touches:
        return Attribution((), (), ())
    outcome = set(policy.outcome_stages)
    # every touch under its learned stage, so that an owner's and a staff member's referral are
    # two stages here, as they are to the model
    keyed = [
        t if learned_stage(t) == t.stage else replace(t, stage=OWNER_REFERRAL) for t in touches
    ]
    weights = {k.stage: policy.weight(t.stage) for k, t in zip(keyed, touches, strict=True)}
    in_learned = [
        t.stage not in outcome and k.stage in learned for k, t in zip(keyed, touches, strict=True)
    ]
    learned_touches = [k for k, flag in zip(keyed, in_learned, strict=True) if flag]
    result = model(learned_touches) if learned_touches else None
    model_total = math.fsum(result.credit) if result is not None else 0.0
    if result is None or not model_total > 0:
        by_weight = stage_weighted(keyed, policy, weights)
        marked = tuple({**f, "outcome_part": 1.0} for f in by_weight.factors)
        return Attribution(tuple(touches), by_weight.credit, marked)
    stages = set(weights)
    learned_stages_present = {k.stage for k in learned_touches}
    total = math.fsum(weights[s] for s in stages)
    outcome_weight = math.fsum(weights[s] for s in stages - learned_stages_present)
    part = outcome_weight / total if total > 0 else 0.0
    outcome_touches = [k for k, flag in zip(keyed, in_learned, strict=True) if not flag]
    by_weight = stage_weighted(outcome_touches, policy, weights)
    credit: list[float] = []
    factors: list[Mapping[str, float]] = []
    learned_iter = iter(zip(result.credit, result.factors, strict=True))
    outcome_iter = iter(zip(by_weight.credit, by_weight.factors, strict=True))
    for flag in in_learned:
        if flag:
            c, f = next(learned_iter)
            credit.append((1.0 - part) * c / model_total)
            factors.append({**f, "learned_part": 1.0 - part})
        else:
            c, f = next(outcome_iter)
            credit.append(part * c)
            factors.append({**f, "outcome_part": part})
    return Attribution(tuple(touches), tuple(credit), tuple(factors))

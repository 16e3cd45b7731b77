"""Explanations: the touches that counted and each factor applied, in data and one sentence."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from contribnet.credit.touches import Contributor
from contribnet.domain.split import Explanation, StoreShare, TouchCredit
from contribnet.domain.unchecked import unchecked

__all__ = ["describe", "explain", "money"]


def money(fen: int) -> str:
    """Integer fen as yuan.

    >>> money(123456789), money(5)
    ('¥1,234,567.89', '¥0.05')
    """
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}¥{yuan:,}.{cents:02d}"


def _num(x: float) -> str:
    return f"{x:.3g}"


#: The factors shown as the model's weight of a touch.
_WEIGHTS = frozenset(("stage_weight", "removal_weight"))
#: Factors shown by name when any touch of the stage has them.
_FLAGS = (("first", "first"), ("last", "last"), ("test_drive", "first test drive"))
_FLAG_KEYS = frozenset(key for key, _ in _FLAGS)


def _details(touches: Sequence[TouchCredit]) -> list[str]:
    """What the phrase of a stage's touches says about them: where they came from, the weights,
    roles, positions, decay, saturation and joint events, each once."""
    # One pass over the touches and their factors gathers everything the phrase shows: a stage
    # usually has one touch, and a pass per kind of detail cost more than the sentence.
    sources: set[str] = set()
    weights: set[float] = set()
    roles: set[str] = set()
    flagged: set[str] = set()
    decays: list[float] = []
    saturated: list[float] = []
    joint: set[str] = set()
    relayed: set[tuple[str, str | None]] = set()
    held: set[str] = set()
    for t in touches:
        if t.source != "touch":
            sources.add(t.source)
        for key, value in t.factors.items():
            if key in _WEIGHTS:
                weights.add(value)
            elif key in _FLAG_KEYS:
                flagged.add(key)
            elif key == "decay":
                decays.append(value)
            elif key == "saturation":
                saturated.append(value)
            elif key.startswith("role:"):
                roles.add(key.removeprefix("role:"))
        if t.joint_event:
            joint.add(t.joint_event)
        if t.touched_by:
            relayed.add((t.touched_by, t.held_by))
        elif t.held_by:
            held.add(t.held_by)
    details: list[str] = []
    if sources:
        details += ["the deal itself" if s == "deal" else f"from a {s}" for s in sorted(sources)]
    if weights:
        details.append("weight " + "/".join(map(_num, sorted(weights))))
    if roles:
        details.append("role " + ", ".join(sorted(roles)))
    if flagged:
        details += [label for key, label in _FLAGS if key in flagged]
    if decays and (len(decays) > 1 or decays[0] < 0.999):
        low, high = min(decays), max(decays)
        details.append(f"decay {_num(low)}" + (f"–{_num(high)}" if high - low > 1e-3 else ""))
    if saturated:
        details.append(
            "saturated " + ", ".join(f"×{_num(s)}" for s in sorted(saturated, reverse=True))
        )
    if joint:
        details.append("joint event " + ", ".join(sorted(joint)))
    if relayed:
        details += [
            f"touch by {by} on a lead held by {holder}; lead-stage credit to {holder}"
            for by, holder in sorted(relayed)
        ]
    if held:
        details.append("lead held by " + ", ".join(sorted(held)))
    return details


def _stage_phrase(stage: str, touches: Sequence[TouchCredit]) -> str:
    n = len(touches)
    head = f"{n} {stage} touch" + ("es" if n > 1 else "")
    details = _details(touches)
    return head + (f" ({'; '.join(details)})" if details else "")


def describe(
    who: Contributor,
    name: str | None,
    store: str | None,
    brand: str | None,
    share: float,
    amount: int,
    points: int,
    model: str,
    touches: Sequence[TouchCredit],
    model_share: float,
    adjustments: Mapping[str, float],
) -> str:
    """One readable sentence: who, how much, under which model, for which touches, adjusted how.

    >>> from datetime import UTC, datetime
    >>> t = TouchCredit(id="t1", source="touch", stage="test_drive", at=datetime(2025, 1, 1,
    ...                 tzinfo=UTC), credit=0.6, factors={"stage_weight": 25.0})
    >>> print(describe(Contributor("staff", "sf-x"), "Xu", None, "nio", 0.6, 300000, 0,
    ...                "stage_weighted", [t], 0.6, {}))
    Xu (sf-x; nio) gets 60.0% = ¥3,000.00 under stage_weighted for 1 test_drive touch (weight 25).
    """
    where = ", ".join(x for x in (store, brand) if x)
    label = f"{who.id}; {where}" if where else who.id
    name = f"{name} ({label})" if name else (f"{who.id} ({where})" if where else who.id)
    if who.kind == "owner":
        name = f"owner {name}"
        paid = f"{points:,} points ({share:.1%} of the points pool)"
    else:
        paid = f"{share:.1%} = {money(amount)}"
    by_stage: dict[str, list[TouchCredit]] = {}
    for t in touches:
        by_stage.setdefault(t.stage, []).append(t)
    phrases = [_stage_phrase(s, ts) for s, ts in by_stage.items()]
    text = f"{name} gets {paid} under {model} for " + ", ".join(phrases)
    if "pool_to_closer" in adjustments:
        text += "; no contribution qualified under the policy, so the closer receives the pool"
    if "equal_fallback" in adjustments:
        text += "; the model valued no one, so the pool is shared equally"
    if "floor" in adjustments:
        text += f"; raised from {model_share:.1%} to the floor"
    if "cap" in adjustments:
        text += f"; capped from {model_share:.1%}"
    return text + "."


def explain(
    who: Contributor,
    name: str | None,
    store: str | None,
    brand: str | None,
    share: float,
    amount: int,
    points: int,
    model: str,
    touches: Sequence[TouchCredit],
    model_share: float,
    adjustments: Mapping[str, float],
    stores: Sequence[StoreShare],
) -> Explanation:
    """The :class:`~contribnet.domain.split.Explanation` of one allocation."""
    return unchecked(
        Explanation,
        {
            "text": describe(
                who,
                name,
                store,
                brand,
                share,
                amount,
                points,
                model,
                touches,
                model_share,
                adjustments,
            ),
            "model_share": model_share,
            "adjustments": dict(adjustments),
            "touches": list(touches),
            "stores": list(stores),
        },
    )

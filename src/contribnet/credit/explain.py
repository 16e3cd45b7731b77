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
_WEIGHTS = ("stage_weight", "removal_weight")
#: Factors shown by name when any touch of the stage has them.
_FLAGS = (("first", "first"), ("last", "last"), ("test_drive", "first test drive"))


def _details(touches: Sequence[TouchCredit]) -> list[str]:
    """What the phrase of a stage's touches says about them: where they came from, the weights,
    roles, positions, decay, saturation and joint events, each once."""
    sources = sorted({t.source for t in touches} - {"touch"})
    details = ["the deal itself" if s == "deal" else f"from a {s}" for s in sources]
    weights = sorted({t.factors[k] for t in touches for k in _WEIGHTS if k in t.factors})
    if weights:
        details.append("weight " + "/".join(_num(w) for w in weights))
    roles = sorted(
        {k.removeprefix("role:") for t in touches for k in t.factors if k.startswith("role:")}
    )
    if roles:
        details.append("role " + ", ".join(roles))
    for key, label in _FLAGS:
        if any(key in t.factors for t in touches):
            details.append(label)
    decays = [t.factors["decay"] for t in touches if "decay" in t.factors]
    if decays and (len(decays) > 1 or decays[0] < 0.999):
        low, high = min(decays), max(decays)
        details.append(f"decay {_num(low)}" + (f"–{_num(high)}" if high - low > 1e-3 else ""))
    saturated = sorted(
        (t.factors["saturation"] for t in touches if "saturation" in t.factors), reverse=True
    )
    if saturated:
        details.append("saturated " + ", ".join(f"×{_num(s)}" for s in saturated))
    joint = sorted({t.joint_event for t in touches if t.joint_event})
    if joint:
        details.append("joint event " + ", ".join(joint))
    for by, holder in sorted({(t.touched_by, t.held_by) for t in touches if t.touched_by}):
        details.append(f"touch by {by} on a lead held by {holder}; lead-stage credit to {holder}")
    held = sorted({t.held_by for t in touches if t.held_by and not t.touched_by})
    if held:
        details.append("lead held by " + ", ".join(held))
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

"""Credit touches, contributors, and what a model returns: credit per touch with its factors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

__all__ = [
    "EXAMPLE_CLOSE",
    "Attribution",
    "Contributor",
    "CreditTouch",
    "example_touch",
    "shares",
]

#: The closing time of the deals built by :func:`example_touch` (for examples and tests).
EXAMPLE_CLOSE = datetime(2025, 1, 31, 12, 0, tzinfo=UTC)


class Contributor(NamedTuple):
    """Who is credited: ``kind`` is ``"staff"`` (paid in cash) or ``"owner"`` (paid in points)."""

    kind: str
    id: str


@dataclass(frozen=True, slots=True)
class CreditTouch:
    """One qualifying contribution to a deal, after the policy guards.

    ``source`` says which event it came from: a logged ``touch``, a staff or owner ``referral``,
    a ``handover`` (one per customer handed), or the ``deal`` itself (the closer's order touch
    when none was logged). ``age_days`` is how long before the deal closed it happened (>= 0).
    ``organisers`` are the stores organising the joint event the touch belongs to, if any.
    ``held_by`` names the holder of the customer's lead (lead pools) when the touch was made by
    someone else: a ``lead``-stage touch then counts for the holder (``contributor``) and
    ``touched_by`` names who made it; at any other stage it counts for whoever made it.
    """

    id: str
    contributor: Contributor
    stage: str
    at: datetime
    age_days: float
    store: str | None = None
    source: str = "touch"
    joint_event: str | None = None
    organisers: tuple[str, ...] = ()
    held_by: str | None = None
    touched_by: str | None = None


def example_touch(
    who: str,
    stage: str,
    days: float,
    *,
    id: str | None = None,
    kind: str = "staff",
    store: str | None = None,
) -> CreditTouch:
    """A touch ``days`` before :data:`EXAMPLE_CLOSE`, for worked examples and tests.

    >>> t = example_touch("ann", "test_drive", 3)
    >>> t.contributor, t.stage, t.age_days, t.id
    (Contributor(kind='staff', id='ann'), 'test_drive', 3.0, 'ann-test_drive-3')
    """
    return CreditTouch(
        id=id or f"{who}-{stage}-{days:g}",
        contributor=Contributor(kind, who),
        stage=stage,
        at=EXAMPLE_CLOSE - timedelta(days=days),
        age_days=float(days),
        store=store,
    )


@dataclass(frozen=True)
class Attribution:
    """A model's answer: the credit of each touch (summing to 1, or all 0 if nothing counts),
    with the factors that produced it (e.g. ``{"stage_weight": 25, "decay": 0.5}``)."""

    touches: tuple[CreditTouch, ...]
    credit: tuple[float, ...]
    factors: tuple[Mapping[str, float], ...]
    notes: tuple[str, ...] = field(default=())

    def by_contributor(self) -> dict[Contributor, float]:
        """Each contributor's credit: the sum over their touches."""
        totals: dict[Contributor, float] = {}
        for touch, credit in zip(self.touches, self.credit, strict=True):
            totals[touch.contributor] = totals.get(touch.contributor, 0.0) + credit
        return totals


def shares(attribution: Attribution, digits: int = 3) -> dict[str, float]:
    """Contributor id → credit rounded to ``digits``, sorted by id (for readable examples).

    >>> from contribnet.credit.rules import linear
    >>> from contribnet.domain.policy import Policy
    >>> journey = [example_touch("bob", "lead", 9), example_touch("ann", "order", 0)]
    >>> shares(linear(journey, Policy()))
    {'ann': 0.5, 'bob': 0.5}
    """
    totals = attribution.by_contributor()
    return {
        c.id: round(v, digits) + 0.0 for c, v in sorted(totals.items(), key=lambda kv: kv[0].id)
    }


def total(values: Sequence[float]) -> float:
    """A sum that is exactly 0.0 for an empty or all-zero sequence."""
    return float(sum(values)) if values else 0.0

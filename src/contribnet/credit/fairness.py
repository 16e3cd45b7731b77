"""The fairness check: does a split give a scenario's key contributors what the scenario promises?

The domain brief's six scenarios each name someone the collaboration network exists to pay (a
:class:`~contribnet.domain.fairness.ScenarioInstance` lists them). A model may be offered for pay
only if, on every instance, its split meets these rules:

* **order grabbing** -- the victim (advisor X, who drove all three test drives before another
  advisor closed) keeps at least 1/3 of the staff cash (the sum of the staff amounts), to the
  fen: at least ``floor(cash / 3)``;
* **everyone named gets more than 0** -- staff in fen (the cross-brand referrer either way, the
  cross-city advisor, the handing advisor, the joint-event advisor, the victim); a referring owner
  in points;
* **every organising store of a joint event gets more than 0** of the cash in
  :func:`~contribnet.credit.engine.store_totals`.

Shares reported (:func:`key_shares`) are of the pool the contributor is paid from: a staff
member's amount over the staff cash, an owner's points over the owners' points, a store's total
over the store totals. Pure functions: the runner over the demo network is
:mod:`contribnet.services.fairness`.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from contribnet.credit.engine import store_totals
from contribnet.domain.fairness import SCENARIO_NAMES, KeyContributor, ScenarioInstance
from contribnet.domain.split import Split

__all__ = ["VICTIM_SHARE", "Failure", "check_split", "key_shares"]

#: The least part of the staff cash the order-grab victim keeps.
VICTIM_SHARE = Fraction(1, 3)

Rule = Literal["victim_share", "positive"]


@dataclass(frozen=True)
class Failure:
    """A rule a split broke: which scenario and deal, whom it failed, and by how much."""

    scenario: str
    deal: str
    contributor: KeyContributor
    rule: Rule
    share: float
    model: str = ""

    @property
    def because(self) -> str:
        """What happened, in words: ``the victim keeps 15.7% < 1/3``, ``the referrer sf-1 gets
        0 fen``."""
        if self.rule == "victim_share":
            return self.in_general
        role, rest = self.in_general.split(" gets ", 1)
        return f"{role} {self.contributor.id} gets {rest}"

    @property
    def in_general(self) -> str:
        """:attr:`because` without the contributor's id (as a model's mark states it)."""
        if self.rule == "victim_share":
            return f"the victim keeps {_percent(self.share)} < 1/3"
        unit = {"staff": "0 fen", "owner": "0 points", "store": "0 fen at store level"}
        return f"{_role(self.contributor)} gets {unit[self.contributor.kind]}"

    def __str__(self) -> str:
        name = SCENARIO_NAMES.get(self.scenario, self.scenario)
        return f"{name} scenario, deal {self.deal}: {self.because}"


def _least(total: int) -> int:
    """The victim's least amount of ``total`` fen: 1/3 of it, rounded down to the fen (the
    largest-remainder allocation cannot always give a third exactly)."""
    return int(total * VICTIM_SHARE)


def _percent(share: float) -> str:
    text = f"{share:.1%}"
    return "0%" if text == "0.0%" else text


def _role(c: KeyContributor) -> str:
    return {
        "victim": "the victim",
        "referrer": "the referrer",
        "assist": "the cross-city advisor",
        "handing": "the handing advisor",
        "event_advisor": "the joint-event advisor",
        "organiser": "the organising store",
        "owner": "the referring owner",
    }[c.role]


def _amounts(split: Split, instance: ScenarioInstance) -> dict[KeyContributor, tuple[int, int]]:
    """Per key contributor: what they got and the total of the pool they are paid from."""
    staff = {a.id: a.amount for a in split.allocations if a.kind == "staff"}
    owners = {a.id: a.points for a in split.allocations if a.kind == "owner"}
    stores = store_totals(split) if any(c.kind == "store" for c in instance.contributors) else {}
    paid = {"staff": staff, "owner": owners, "store": stores}
    totals = {kind: sum(values.values()) for kind, values in paid.items()}
    return {c: (paid[c.kind].get(c.id, 0), totals[c.kind]) for c in instance.contributors}


def key_shares(split: Split, instance: ScenarioInstance) -> dict[KeyContributor, float]:
    """Each key contributor's share of the pool they are paid from (0 when that pool is empty).

    >>> from contribnet.domain.split import Allocation, Explanation, PolicyRef
    >>> def paid(who, fen):
    ...     return Allocation(kind="staff", id=who, share=0, amount=fen, points=0,
    ...                       explanation=Explanation(text="", model_share=0, touches=[]))
    >>> split = Split(deal="d", model="m", policy=PolicyRef(name="p", version="1"), pool=100,
    ...               input_hash="", allocations=[paid("x", 25), paid("y", 75)])
    >>> x = KeyContributor("staff", "x", "victim")
    >>> key_shares(split, ScenarioInstance("order_grabbing", "d", (x,)))[x]
    0.25
    """
    return {
        c: got / total if total else 0.0 for c, (got, total) in _amounts(split, instance).items()
    }


def check_split(split: Split, instance: ScenarioInstance) -> list[Failure]:
    """The rules ``split`` breaks for ``instance`` (empty: it is fair to everyone named).

    >>> from contribnet.domain.split import Allocation, Explanation, PolicyRef
    >>> def paid(who, fen):
    ...     return Allocation(kind="staff", id=who, share=0, amount=fen, points=0,
    ...                       explanation=Explanation(text="", model_share=0, touches=[]))
    >>> split = Split(deal="d", model="last_touch", policy=PolicyRef(name="p", version="1"),
    ...               pool=100, input_hash="", allocations=[paid("x", 0), paid("y", 100)])
    >>> x = KeyContributor("staff", "x", "victim")
    >>> [str(f) for f in check_split(split, ScenarioInstance("order_grabbing", "d", (x,)))]
    ['order-grab scenario, deal d: the victim keeps 0% < 1/3']
    """
    failures = []
    for c, (got, total) in _amounts(split, instance).items():
        share = got / total if total else 0.0
        if c.role == "victim" and (total == 0 or got < _least(total)):
            rule: Rule | None = "victim_share"
        elif got <= 0:
            rule = "positive"
        else:
            rule = None
        if rule is not None:
            failures.append(Failure(instance.scenario, instance.deal, c, rule, share, split.model))
    return failures

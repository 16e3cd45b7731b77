"""Scenario instances: a deal of one of the domain brief's six scenarios, and who it names.

The fairness check (:mod:`contribnet.credit.fairness`) holds every model offered for pay to what
each scenario promises its key contributors; the demo generator and the hand-built fixtures say
which deals are instances of which scenario (:func:`contribnet.demo.generator.scenario_instances`,
:func:`contribnet.demo.scenarios.fixture_instances`). Plain data, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["ROLES", "SCENARIO_NAMES", "KeyContributor", "KeyRole", "ScenarioInstance"]

#: The scenario keys (those of :mod:`contribnet.demo.scenarios`), in the brief's order, and how
#: a message names them.
SCENARIO_NAMES: dict[str, str] = {
    "cross_brand_referral": "cross-brand referral",
    "cross_city_assist": "cross-city assist",
    "bulk_handover": "bulk handover",
    "joint_event": "joint event",
    "order_grabbing": "order-grab",
    "owner_referral": "owner referral",
}

KeyRole = Literal["referrer", "assist", "handing", "event_advisor", "organiser", "victim", "owner"]

#: What each role is, in words (the scenario table's column headings).
ROLES: dict[str, str] = {
    "victim": "order-grab victim X",
    "referrer": "cross-brand referrer",
    "assist": "cross-city advisor",
    "handing": "handing advisor",
    "event_advisor": "joint-event advisor",
    "organiser": "joint-event organising store",
    "owner": "referring owner, in points",
}


@dataclass(frozen=True)
class KeyContributor:
    """Someone a scenario names: a staff member (paid in fen), an owner (points) or a store
    (its part of the cash in ``store_totals``), and the part they played."""

    kind: Literal["staff", "owner", "store"]
    id: str
    role: KeyRole


@dataclass(frozen=True)
class ScenarioInstance:
    """A deal that is an instance of ``scenario``, with its key contributors.

    ``source`` says where it comes from (``demo``: the generated network; ``fixture``: a
    hand-built scenario); ``note`` tells instances apart within a scenario (e.g. the direction
    ``nio->onvo`` of a cross-brand referral).
    """

    scenario: str
    deal: str
    contributors: tuple[KeyContributor, ...]
    source: Literal["demo", "fixture"] = "demo"
    note: str | None = None

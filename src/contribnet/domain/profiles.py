"""What advisor profiles, leaderboards and the at-risk list are computed from (no I/O).

The stores read it in bulk (``store/profiles.py``); ``graph/profiles.py`` computes the figures.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from contribnet.domain.events import Activity, Staff
from contribnet.domain.events import Store as StoreRecord

__all__ = ["ProfileInputs", "TouchMark"]


class TouchMark(NamedTuple):
    """A live touch, as much of it as a profile counts: which touch, who touched which customer,
    at which stage, when. A named tuple: a period of the m network holds hundreds of thousands."""

    id: str
    staff: str
    customer: str
    stage: str
    at: datetime


@dataclass(frozen=True)
class ProfileInputs:
    """What a period's profiles read from the events: the live (not voided) touches and
    activities that happened in it, every staff member's employment spells (in order of
    ``from``) and every store record."""

    touches: Sequence[TouchMark] = ()
    activities: Sequence[Activity] = ()
    spells: Mapping[str, Sequence[Staff]] = field(default_factory=dict)
    stores: Mapping[str, StoreRecord] = field(default_factory=dict)

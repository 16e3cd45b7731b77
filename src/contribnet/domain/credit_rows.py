"""Settled credit, flattened: one row per deal, contributor and store credited.

The collaboration graph, roll-ups and statements read settled credit in this shape. A staff
allocation credited to several stores (a joint event shares its part among the organisers) gives
one row per store, with the amount divided by largest remainder, so amounts still sum to the
allocation's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

__all__ = ["CreditRow"]


@dataclass(frozen=True)
class CreditRow:
    settlement: str
    deal: str
    closed_at: datetime
    #: where the deal was closed, and by whom
    deal_store: str
    deal_brand: str | None
    deal_city: str | None
    deal_region: str | None
    closer: str
    #: who earned this credit, and for which store
    kind: Literal["staff", "owner"]
    contributor: str
    store: str | None
    brand: str | None
    city: str | None
    region: str | None
    amount: int  # fen (0 for owners)
    points: int  # owners' points (0 for staff)
    share: float  # the contributor's share of the deal, times this store's part of it

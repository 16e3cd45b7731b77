"""Reads behind the collaboration graph that need more than the flattened credit rows."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from contribnet.domain.settlement import period_bounds
from contribnet.graph import EARLY_STAGES, early_work
from contribnet.store.base import Store

__all__ = ["early_work_pairs"]


def early_work_pairs(
    store: Store, start: date | None, end: date | None, stages: Collection[str] = EARLY_STAGES
) -> set[tuple[str, str]]:
    """``(deal, staff)``: staff credited for early-stage work on the deals closed from ``start``
    to ``end`` (business days, inclusive) by their current settlements
    (:func:`contribnet.graph.early_work`), the input of the farmers' leaderboard."""
    lo, hi = period_bounds(start, end)
    return early_work(store.ledger.current_settlements(lo, hi), stages)

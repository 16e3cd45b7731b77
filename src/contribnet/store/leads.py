"""The lead pools' port: the live lead assignments and the holders' follow-ups.

A narrow port of its own beside the ``Store`` (``store/base.py``), with one adapter per store --
``sqlite_leads.py`` and ``neo4j_leads.py`` -- which the store builds on its own connection and
hands out as ``store.leads`` (:func:`lead_store`). ``tests/leads/`` runs one suite against both.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from contribnet.domain.events import LeadAssignment, Staff
from contribnet.domain.leads import FollowUpWindow
from contribnet.store.base import Store

__all__ = ["HoldsLeads", "LeadStore", "lead_store"]


class LeadStore(Protocol):
    """What reclaiming leads reads."""

    def lead_assignments(self, until: datetime) -> list[LeadAssignment]:
        """Every live (not voided) lead assignment at or before ``until``, by at, id."""
        ...

    def followed_up(self, windows: Sequence[FollowUpWindow]) -> set[str]:
        """The ``assignment`` of each window in which its staff member touched its customer, or
        logged an activity naming them (live ones, ``start <= at <= end``)."""
        ...

    def staff_spells(self, staff_ids: Sequence[str]) -> dict[str, tuple[Staff, ...]]:
        """The employment spells of the given staff members (those recorded), by ``from``."""
        ...

    def store_regions(self, store_ids: Sequence[str]) -> dict[str, str]:
        """The region of each of the given stores that is recorded."""
        ...


@runtime_checkable
class HoldsLeads(Protocol):
    """A store that can read its lead pools (both stores can)."""

    @property
    def leads(self) -> LeadStore: ...


def lead_store(store: Store) -> LeadStore:
    """The lead pools' port of ``store`` (``store.leads``)."""
    if not isinstance(store, HoldsLeads):
        raise TypeError(f"a {type(store).__name__} keeps no lead pools")
    return store.leads

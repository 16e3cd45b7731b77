"""The advisor profiles' port: the bulk read that profiles, leaderboards and the at-risk list
are computed from.

A narrow port of its own beside the ``Store`` (``store/base.py``), with one adapter per store --
``sqlite_profiles.py`` and ``neo4j_profiles.py`` -- which the store builds on its own connection
and hands out as ``store.profiles`` (:func:`profile_store`). ``tests/profiles/`` runs one suite
against both.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Protocol, runtime_checkable

from contribnet.domain.profiles import ProfileInputs
from contribnet.store.base import Store

__all__ = ["HoldsProfiles", "ProfileStore", "profile_store"]


class ProfileStore(Protocol):
    """What advisor profiles read, in bulk."""

    def profile_inputs(
        self,
        start: datetime | None,
        end: datetime | None,
        staff: Collection[str] | None = None,
    ) -> ProfileInputs:
        """The live (not voided) touches and activities that happened in ``[start, end)``
        (``None``: open), in no set order -- with ``staff``, only those of these staff members,
        sought by staff (one profile reads its region's advisors, not the whole network); every
        staff member's employment spells (in order of ``from``); every store record."""
        ...


@runtime_checkable
class HoldsProfiles(Protocol):
    """A store that answers the profiles' bulk read (both stores do)."""

    @property
    def profiles(self) -> ProfileStore: ...


def profile_store(store: Store) -> ProfileStore:
    """The advisor profiles' port of ``store`` (``store.profiles``)."""
    if not isinstance(store, HoldsProfiles):
        raise TypeError(f"a {type(store).__name__} answers no profile reads")
    return store.profiles

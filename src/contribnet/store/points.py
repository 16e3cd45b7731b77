"""The points ledger's port: points policy versions, accounts, redemptions and reversals.

A narrow port of its own beside the ``Store`` and its ``Ledger`` (``store/base.py``), with one
adapter per store -- ``sqlite_points.py`` and ``neo4j_points.py`` -- which the store builds on its
own connection and hands out as ``store.points`` (:func:`points_store`). ``tests/points/`` runs
one suite against both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from contribnet.domain.points import (
    HolderKind,
    PointsAccount,
    PointsPolicyRecord,
    Redemption,
    Reversal,
)
from contribnet.store.base import Store

__all__ = ["HoldsPoints", "PointsRule", "PointsStore", "points_store"]

#: A check of a new record against the account as recorded at that moment (raises to refuse).
PointsRule = Callable[[PointsAccount], None]


class PointsStore(Protocol):
    """Where the points ledger's records live, and what its entries are computed from."""

    def put_points_policy(self, record: PointsPolicyRecord) -> tuple[PointsPolicyRecord, bool]:
        """Record a points policy version: ``(record, True)``; one with that id and hash already
        recorded: ``(it, False)``; that id with another hash raises ``RecordConflict``."""
        ...

    def points_policies(self) -> list[PointsPolicyRecord]:
        """Every points policy version, in the order recorded."""
        ...

    def points_account(self, kind: HolderKind, holder: str) -> PointsAccount:
        """What the ledger of one account is computed from (see :class:`PointsAccount`)."""
        ...

    def record_redemption(
        self, redemption: Redemption, rule: PointsRule
    ) -> tuple[Redemption, bool]:
        """Record a redemption if ``rule`` passes on its account as recorded at that moment,
        all in one write transaction with the account locked: ``(it, True)``. The same id and
        content again: ``(the recorded one, False)``, the rule not asked; the same id with other
        content raises ``RecordConflict``."""
        ...

    def redemption(self, redemption_id: str) -> Redemption:
        """One redemption by id; raises ``NotFound``."""
        ...

    def record_reversal(self, reversal: Reversal) -> tuple[Reversal, bool]:
        """Record the reversal of a recorded redemption: ``(it, True)``; that redemption's
        reversal with the same reason again: ``(the recorded one, False)``; with another reason
        raises ``RecordConflict``. ``NotFound`` if the redemption is not recorded."""
        ...

    def reversal(self, redemption_id: str) -> Reversal | None:
        """The reversal of a redemption, if it was reversed."""
        ...


@runtime_checkable
class HoldsPoints(Protocol):
    """A store that keeps a points ledger beside its events (both stores do)."""

    @property
    def points(self) -> PointsStore: ...


def points_store(store: Store) -> PointsStore:
    """The points ledger ``store`` keeps (``store.points``)."""
    if not isinstance(store, HoldsPoints):
        raise TypeError(f"a {type(store).__name__} keeps no points ledger")
    return store.points

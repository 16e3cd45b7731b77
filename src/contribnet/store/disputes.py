"""The disputes' port: open a dispute, resolve it once, read them.

A narrow port of its own beside the ``Store`` (``store/base.py``), with one adapter per store --
``sqlite_disputes.py`` and ``neo4j_disputes.py`` -- built on the store's own connection and
handed out as ``store.disputes`` (:func:`dispute_store`). ``tests/disputes/`` runs one suite
against both.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, runtime_checkable

from contribnet.domain.disputes import Dispute, DisputeStatus, Resolution
from contribnet.store.base import Store

__all__ = ["DisputeStore", "HoldsDisputes", "dispute_store"]


class DisputeStore(Protocol):
    """Disputes and their resolutions, both immutable once recorded."""

    def put_dispute(self, dispute: Dispute) -> None:
        """Record a new dispute (open: its ``resolution`` is not stored here);
        ``AlreadyDisputed`` if its line (deal, staff) has an open dispute, even one a concurrent
        writer recorded a moment before (a unique key on the open line)."""
        ...

    def resolve(self, dispute_id: str, resolution: Resolution) -> Dispute:
        """Record the dispute's resolution and return it resolved; ``NotFound`` for an unknown
        id, ``DisputeResolved`` if it has one already (the first resolution stands, even
        between concurrent writers)."""
        ...

    def dispute(self, dispute_id: str) -> Dispute:
        """One dispute with its resolution, if any; ``NotFound`` for an unknown id."""
        ...

    def disputes(
        self,
        *,
        status: DisputeStatus | None = None,
        staff: str | None = None,
        deal: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> list[Dispute]:
        """The disputes of ``staff`` / on ``deal`` / in ``status``, of deals closed in
        ``[start, end)`` (``None``: no filter), in the order opened."""
        ...


@runtime_checkable
class HoldsDisputes(Protocol):
    """A store that keeps disputes beside its ledger (both stores do)."""

    @property
    def disputes(self) -> DisputeStore: ...


def dispute_store(store: Store) -> DisputeStore:
    """The disputes' port of ``store`` (``store.disputes``)."""
    if not isinstance(store, HoldsDisputes):
        raise TypeError(f"a {type(store).__name__} keeps no disputes")
    return store.disputes

"""The audit trail's port: append an entry, read the entries touching one id.

A narrow port of its own beside the ``Store`` (``store/base.py``), like ``store/flags.py``, with
one adapter per store -- ``sqlite_audit.py`` and ``neo4j_audit.py`` -- built on the store's own
connection and handed out as ``store.audit`` (:func:`audit_log`). It has no way to edit or
delete an entry. ``tests/audit/`` runs one suite against both.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol, runtime_checkable

from contribnet.domain.audit import AuditEntry
from contribnet.store.base import Store

__all__ = ["AuditLog", "HoldsAudit", "audit_log"]


class AuditLog(Protocol):
    """The append-only audit trail."""

    def append(self, entry: AuditEntry, targets: Sequence[str]) -> None:
        """Append one entry (its id is new: the services make one per change), found from then
        on by each of ``targets``: every id the change touched (the entry lists the first)."""
        ...

    def entries(
        self, target: str, start: datetime | None = None, end: datetime | None = None
    ) -> list[AuditEntry]:
        """The entries touching ``target`` recorded in ``[start, end)`` (``None``: open), oldest
        first: an index seek on the target, not a scan of the trail."""
        ...

    def unit(self) -> AbstractContextManager[object]:
        """A block whose writes -- a change and its entry -- are one transaction where the
        store allows it: on SQLite every write inside joins one transaction (all or nothing);
        on Neo4j each write is its own transaction, run as it comes."""
        ...


@runtime_checkable
class HoldsAudit(Protocol):
    """A store that keeps an audit trail beside its events (both stores do)."""

    @property
    def audit(self) -> AuditLog: ...


def audit_log(store: Store) -> AuditLog:
    """The audit trail of ``store`` (``store.audit``)."""
    if not isinstance(store, HoldsAudit):
        raise TypeError(f"a {type(store).__name__} keeps no audit trail")
    return store.audit

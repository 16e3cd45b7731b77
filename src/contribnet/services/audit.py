"""The audit trail: record each change the services make, and read the trail of one id.

Every writing service calls :func:`record` once per change it made -- after the change is
written, and only if something was written (a re-sent batch of events, a settlement or an
adjustment recorded already, a policy version sent again: nothing new, no entry). A batch of
events is one entry listing every event written and the customers and staff they name, so the
trail of any of them finds it while ingest pays one small write per batch.

What is guaranteed: on SQLite a change and its entry are one transaction (:func:`unit`): both
or neither. On Neo4j they are two, the entry written right after its change commits: the trail
never shows a change that did not happen, but a crash or a lost connection between the two
leaves a change without its entry (the service call fails, so the caller sees an error and may
send it again: re-sent, the change is a no-op and is not recorded again).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime

from contribnet.domain.audit import MAX_LISTED_TARGETS, AuditAction, AuditEntry, actor_of
from contribnet.domain.settlement import InvalidRequest, period_bounds
from contribnet.store.audit import audit_log
from contribnet.store.base import Store

__all__ = ["record", "trail", "unit"]


def unit(store: Store) -> AbstractContextManager[object]:
    """Write a change and its entry together: one transaction on SQLite (all or nothing), one
    after the other on Neo4j (:meth:`~contribnet.store.audit.AuditLog.unit`)."""
    return audit_log(store).unit()


def record(
    store: Store,
    action: AuditAction,
    requested_by: str,
    targets: Iterable[str],
    reason: str | None = None,
) -> AuditEntry:
    """Append one entry: ``action`` done by ``requested_by`` (``role[:staff] (key-…)``, as the
    ledger records who asked) to the records ``targets`` (each once), now. The entry lists the
    first :data:`MAX_LISTED_TARGETS`; the trail of every one of them finds it."""
    actor = actor_of(requested_by)
    touched = list(dict.fromkeys(targets))
    entry = AuditEntry(
        id=f"au-{uuid.uuid4().hex[:20]}",
        at=datetime.now(UTC),
        action=action,
        actor=requested_by,
        actor_role=actor.role,
        actor_key=actor.key,
        targets=tuple(touched[:MAX_LISTED_TARGETS]),
        targets_total=len(touched),
        reason=reason,
    )
    audit_log(store).append(entry, touched)
    return entry


def trail(
    store: Store,
    target: str,
    start: date | None = None,
    end: date | None = None,
    *,
    hide_others: bool = False,
) -> list[AuditEntry]:
    """The entries touching ``target`` recorded on the days ``start`` to ``end`` (China
    Standard Time, inclusive; ``None`` open), oldest first. With ``hide_others`` (a staff key
    reading its own trail) each entry lists ``target`` alone: the other customers and staff a
    batch named are not theirs to see."""
    lo, hi = period_bounds(start, end)
    if start is not None and end is not None and end < start:
        raise InvalidRequest.one("to", f"{end.isoformat()} is before from {start.isoformat()}")
    entries = audit_log(store).entries(target, lo, hi)
    if hide_others:
        return [e.model_copy(update={"targets": (target,)}) for e in entries]
    return entries

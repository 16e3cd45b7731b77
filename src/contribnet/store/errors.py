"""Which store errors a retry cannot cure.

Neo4j classifies running out of memory as a *transient* error
(``Neo.TransientError.General.MemoryPoolOutOfMemoryError``, ``...OutOfMemoryError``,
``...TransactionMemoryLimit``) or as a client error (``TransactionOutOfMemoryError``, the
per-transaction limit). Either way the same request needs the same memory and fails again, so it
is answered as a limit (422, no ``Retry-After``), never as "unavailable, retry" (503).
:func:`memory_limit` tells such an error from a real outage and names the limit it hit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["MEMORY_LIMIT_CODES", "MemoryLimit", "memory_limit"]

#: Neo4j status codes meaning "this transaction needs more memory than allowed", with the
#: setting that bounds it (the message of a pool error names its own setting, which wins).
MEMORY_LIMIT_CODES: dict[str, str] = {
    "Neo.ClientError.General.TransactionOutOfMemoryError": "db.memory.transaction.max",
    "Neo.TransientError.General.MemoryPoolOutOfMemoryError": "dbms.memory.transaction.total.max",
    "Neo.TransientError.General.TransactionMemoryLimit": (
        "server.memory.off_heap.transaction_max_size"
    ),
    "Neo.TransientError.General.OutOfMemoryError": "server.memory.heap.max_size",
}

_SETTING = re.compile(r"\b((?:db|dbms|server)\.memory(?:\.\w+)+)")
_LIMIT = re.compile(r"\blimit (?:of )?(\d+(?:\.\d+)? ?[KMGT]?i?B)\b")


@dataclass(frozen=True)
class MemoryLimit:
    """The memory limit a store error hit: the server setting and, when known, its value."""

    setting: str
    value: str | None = None

    def __str__(self) -> str:
        value = f" of {self.value}" if self.value else ""
        return (
            f"the request needs more memory than the store allows (Neo4j's {self.setting}"
            f"{value}); the same request would fail again, so narrow it (a shorter period, "
            "fewer rows, a smaller batch)"
        )


def memory_limit(code: str | None, message: str | None) -> MemoryLimit | None:
    """The memory limit behind a Neo4j error's ``code`` and ``message``, or None for any other
    error (an outage, a deadlock: those a retry can cure).

    >>> memory_limit("Neo.TransientError.General.MemoryPoolOutOfMemoryError",
    ...     "The allocation of an extra 2.0 MiB would use more than the limit 10.0 MiB. "
    ...     "Currently using 9.0 MiB. dbms.memory.transaction.total.max threshold reached")
    MemoryLimit(setting='dbms.memory.transaction.total.max', value='10.0 MiB')
    >>> memory_limit("Neo.TransientError.Transaction.DeadlockDetected", "deadlock") is None
    True
    """
    setting = MEMORY_LIMIT_CODES.get(code or "")
    if setting is None:
        return None
    named = _SETTING.search(message or "")
    limit = _LIMIT.search(message or "")
    return MemoryLimit(named.group(1) if named else setting, limit.group(1) if limit else None)

"""Write transactions on Neo4j that outlast a transient conflict between concurrent writers,
and reads in one round trip (:func:`read`).

Two batches that create relationships on the same nodes lock relationship chains in whatever
order their rows come; when two such transactions each hold what the other wants, Neo4j aborts
one with ``Neo.TransientError.Transaction.DeadlockDetected`` (its siblings under
``Neo.TransientError.Transaction.*`` -- a lock wait cut short, a transaction outdated by a
schema change -- are alike). Run again, the aborted transaction succeeds. The driver's managed
transactions would retry it for ``max_transaction_retry_time`` only (2 s in ``store/neo4j.py``,
so that an outage answers 503 promptly), starting at a 1 s pause: under 50 clients a deadlock
could recur in that window and reach the caller as a 503 although one more try would have
worked (3 in a 300 s soak, see ``benchmarks/soak.py``). They are not used at all: see
:func:`in_transaction`.

:func:`write` keeps retrying those conflicts -- and only those -- with short jittered pauses for
up to :data:`CONFLICT_RETRY_SECONDS`; an unreachable server (``ServiceUnavailable``,
``SessionExpired``) or any other error goes to the caller as before. Neo4j's error is
unwrapped from the driver's ``ResultFailedError`` (which the API would answer as a 503): a
conflict behind it is retried, a ``ConstraintError`` (a concurrent writer appended the same
keys) reaches the store's own handling.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

import neo4j

__all__ = [
    "CONFLICT_RETRY_SECONDS",
    "cause",
    "execute",
    "in_transaction",
    "is_conflict",
    "put_once",
    "read",
    "write",
    "write_unique",
]

_log = logging.getLogger(__name__)

#: How long a write keeps being retried after transient conflicts before the caller hears of
#: it (as a 503 from the API): well within a client's patience and Neo4j's 60 s transaction
#: timeout, long enough for the deadlocks of 50 concurrent writers to clear.
CONFLICT_RETRY_SECONDS = 30.0

_FIRST_PAUSE = 0.05
_LONGEST_PAUSE = 1.0

_Result = TypeVar("_Result")


def is_conflict(exc: Exception) -> bool:
    """A transient error between transactions (deadlock, lock wait, outdated), which a retry
    resolves -- not the database or server being unavailable."""
    return isinstance(exc, neo4j.exceptions.TransientError) and (exc.code or "").startswith(
        "Neo.TransientError.Transaction."
    )


def cause(exc: Exception) -> Exception:
    """The error Neo4j gave, behind the driver's ``ResultFailedError`` (a ``DriverError``) that
    wraps it when a statement fails while its records are read or consumed."""
    while isinstance(exc, neo4j.exceptions.ResultFailedError) and isinstance(
        exc.__cause__, Exception
    ):
        exc = exc.__cause__
    return exc


class _Pauses:
    """The pauses between tries: jittered, doubling from 50 ms to 1 s, none past a deadline."""

    def __init__(self, deadline: float) -> None:
        self._deadline = deadline
        self._pause = _FIRST_PAUSE

    def wait(self) -> bool:
        """Pause before the next try; False, without pausing, if it would end past the
        deadline."""
        wait = random.uniform(self._pause / 2, self._pause)  # noqa: S311 (jitter, not a secret)
        if time.monotonic() + wait > self._deadline:
            return False
        time.sleep(wait)
        self._pause = min(2 * self._pause, _LONGEST_PAUSE)
        return True


def in_transaction(
    session: neo4j.Session,
    work: Callable[..., _Result],
    *args: Any,
    commit: bool = True,
    timeout: float | None = None,
) -> _Result:
    """``work(tx, *args)`` in an explicit transaction of ``session`` (Neo4j's ``timeout`` in
    seconds, if given), committed if it returns (rolled back with ``commit=False``: a read that
    must not write), rolled back if it raises an error of its own.

    Why not the driver's managed transactions (``execute_write``, ``execute_query``) or a
    transaction's ``with`` block: when a statement fails (a ``ConstraintError``, a deadlock), the
    driver resets the connection and hands it back to the pool at once; closing the transaction
    afterwards, as those do, then asks that connection whether it is at its end -- a read of one
    byte from its socket, which by then may be another thread's connection waiting for its own
    reply (neo4j 6.4: ``Transaction._rollback`` calls ``connection.defunct()``, which peeks the
    socket and resets its timeout). The other thread's reply comes short a byte: it waits until
    the connection is dropped (10 s with Bolt keep-alive, for ever if its socket lost its
    timeout) or reads garbage ("Expected structure, found marker 70": a 500). Seen 9 times in
    150 rounds of 24 racing batches (``tests/store/test_neo4j_transactions.py``). So after an
    error of the driver or of Neo4j the transaction is left alone: its connection is already
    reset, and the server has rolled it back."""
    tx = session.begin_transaction(timeout=timeout)
    try:
        result = work(tx, *args)
    except (neo4j.exceptions.Neo4jError, neo4j.exceptions.DriverError):
        raise
    except BaseException:
        tx.close()  # the connection is still this transaction's: roll back on it
        raise
    if commit:
        tx.commit()
    else:
        tx.close()
    return result


def write(
    driver: neo4j.Driver,
    database: str,
    work: Callable[..., _Result],
    *args: Any,
    deadline: float | None = None,
    commit: bool = True,
) -> _Result:
    """``work(tx, *args)`` in a write transaction (:func:`in_transaction`; rolled back with
    ``commit=False``: work that takes write locks only to wait for other writers), run again after
    transient conflicts (jittered pauses doubling from 50 ms to 1 s) until ``deadline`` (a
    ``time.monotonic()`` instant; by default :data:`CONFLICT_RETRY_SECONDS` from now); the last
    conflict is raised past it. A caller that sends the work again (after a
    ``ConstraintError``) passes the deadline of its first call, so that a request is answered
    within one budget, not one per try. Other failures the driver calls retryable (a pooled
    connection the server closed, a restarting server) are retried for
    :data:`RETRY_SECONDS`, as the driver's managed transactions would."""
    pauses = _Pauses(time.monotonic() + CONFLICT_RETRY_SECONDS if deadline is None else deadline)
    unavailable: _Pauses | None = None  # from the first such failure on
    conflicts = 0
    while True:
        try:
            with driver.session(database=database) as session:
                return in_transaction(session, work, *args, commit=commit)
        except (neo4j.exceptions.Neo4jError, neo4j.exceptions.DriverError) as failed:
            exc = cause(failed)
            if _retryable(exc) and not is_conflict(exc):
                unavailable = unavailable or _Pauses(time.monotonic() + RETRY_SECONDS)
                if unavailable.wait():
                    _log.info("write failed (%s); trying again", type(exc).__name__)
                    continue
            if not is_conflict(exc):
                if exc is failed:
                    raise
                raise exc from failed  # Neo4j's own error: a ConstraintError, a timeout ...
            code = getattr(exc, "code", None)
            if not pauses.wait():
                _log.warning("gave up after %d transient conflicts: %s", conflicts + 1, code)
                raise exc from None if exc is failed else failed
            conflicts += 1
            _log.info("transient conflict %d (%s); trying again", conflicts, code)


def _retryable(exc: Exception) -> bool:
    """An error the driver says a new try may cure (a connection the server closed, a
    restarting server, a transient conflict)."""
    return (
        isinstance(exc, neo4j.exceptions.Neo4jError | neo4j.exceptions.DriverError)
        and exc.is_retryable()
    )


def execute(
    driver: neo4j.Driver, database: str, query: str, params: dict[str, Any] | None = None
) -> list[neo4j.Record]:
    """``query`` (with ``params``) as a write transaction of its own (:func:`write`), and the
    records it returns: ``driver.execute_query`` without its managed transaction (see
    :func:`in_transaction`)."""
    return write(driver, database, _records, query, params or {})


def _records(tx: neo4j.Transaction, query: str, params: dict[str, Any]) -> list[neo4j.Record]:
    return list(tx.run(query, params))


#: How long a read, or a write that did not fail on a conflict, is sent again after a failure
#: the driver calls retryable (a pooled connection the server closed, a restarting server): as
#: long as the driver retries a transaction (``max_transaction_retry_time`` in
#: ``store/neo4j.py``).
RETRY_SECONDS = 2.0


def read(
    driver: neo4j.Driver, database: str, query: str, params: dict[str, Any]
) -> list[neo4j.Record]:
    """The records of ``query``, run as an auto-commit read: one round trip to the server (RUN
    and PULL sent together) where a managed transaction takes two (BEGIN, RUN and PULL, then
    COMMIT) and passes through the driver's bookmark manager. Measured on the m network, a
    journey read from one thread: 961 reads/s, p50 0.78 ms, against 532/s and 1.65 ms
    (``driver.execute_query``); from four threads 1,167/s against 756/s.

    Bookmarks order reads after writes across a cluster's members; Neo4j Community is one
    server, where every committed write is seen by the next read. A read is idempotent, so a
    retryable failure is answered by running it again, for :data:`RETRY_SECONDS`."""
    pauses = _Pauses(time.monotonic() + RETRY_SECONDS)
    while True:
        try:
            with driver.session(
                database=database, default_access_mode=neo4j.READ_ACCESS
            ) as session:
                return list(session.run(query, params))
        except (neo4j.exceptions.Neo4jError, neo4j.exceptions.DriverError) as failed:
            if not _retryable(failed) or not pauses.wait():
                raise
            _log.info("read failed (%s); trying again", type(failed).__name__)


#: How many times a write whose unique key a concurrent writer took is sent again.
UNIQUE_ATTEMPTS = 5


def write_unique(
    driver: neo4j.Driver, database: str, work: Callable[..., _Result], *args: Any
) -> _Result:
    """:func:`write`, sent again when a concurrent writer recorded one of its unique keys
    between its read and its write (a ``ConstraintError``): the next attempt reads that record
    and answers from it. The last ``ConstraintError`` is raised past the attempts; all share
    one conflict budget."""
    deadline = time.monotonic() + CONFLICT_RETRY_SECONDS
    for attempt in range(UNIQUE_ATTEMPTS):
        try:
            return write(driver, database, work, *args, deadline=deadline)
        except neo4j.exceptions.ConstraintError:
            if attempt == UNIQUE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def put_once(
    find: Callable[[], _Result | None], put: Callable[[], object], record: _Result, what: str
) -> tuple[_Result, bool]:
    """Record ``record`` unless it is recorded: ``(recorded, False)`` when ``find`` finds it
    (``find`` raises if the recorded one differs), else ``put`` writes it: ``(record, True)``.
    A concurrent writer recording it between the two (a ``ConstraintError``) is read again."""
    for _ in range(UNIQUE_ATTEMPTS):
        recorded = find()
        if recorded is not None:
            return recorded, False
        try:
            put()
        except neo4j.exceptions.ConstraintError:
            continue
        return record, True
    raise RuntimeError(f"could not record {what}")

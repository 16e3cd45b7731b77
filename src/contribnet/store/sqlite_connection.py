"""The one connection to a SQLite file that the event store and its ledger share.

``sqlite.py`` (the events) and ``sqlite_ledger.py`` (policies, settlements, adjustments) each
hold the same :class:`SqliteConnection`, so a write of either queues behind the other's and
every read sees every commit. One stdlib ``sqlite3`` connection in WAL mode, behind a lock: the
API's worker threads all go through it.
"""

from __future__ import annotations

import fcntl
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["SqliteConnection", "path_of", "sortable", "utc_text"]


def sortable(at: datetime) -> str:
    """Fixed-width UTC text, so that text order is time order."""
    return at.isoformat(timespec="microseconds")


def utc_text(at: datetime) -> str:
    """An instant as the store's sortable UTC text; a naive one is taken to be in UTC, as the
    events' instants are."""
    return sortable(at.astimezone(UTC) if at.tzinfo is not None else at.replace(tzinfo=UTC))


#: The condition that the row of the table aliased ``{0}`` is not voided.
LIVE = "NOT EXISTS (SELECT 1 FROM voids v WHERE v.target = {0}.id)"


def between(column: str, start: datetime | None, end: datetime | None) -> tuple[str, list[str]]:
    """A ``WHERE`` condition and its parameters: ``start <= column < end``, either end open
    when ``None``.

    >>> between("t.at", None, datetime(2025, 1, 1, tzinfo=UTC))
    ('1 AND t.at < ?', ['2025-01-01T00:00:00.000000+00:00'])
    """
    clauses, params = ["1"], []
    if start is not None:
        clauses.append(f"{column} >= ?")
        params.append(utc_text(start))
    if end is not None:
        clauses.append(f"{column} < ?")
        params.append(utc_text(end))
    return " AND ".join(clauses), params


def path_of(url: str) -> str:
    """``sqlite:///relative.db``, ``sqlite:////absolute.db`` or ``sqlite://:memory:``."""
    rest = url.removeprefix("sqlite://")
    if rest in (":memory:", "/:memory:", ""):
        return ":memory:"
    return rest[1:] if rest.startswith("/") else rest


_BACKSTOP_PAGES = 25_000


def _read_only_uri(path: str) -> str:
    return Path(path).absolute().as_uri() + "?mode=ro"


class _Checkpointer:
    """Copies the write-ahead log into the database file on a thread of its own.

    Left to itself SQLite checkpoints inside whichever commit takes the log past its limit, so
    one ingest request in a few pays for all of them; in WAL mode a checkpoint can run beside new
    writes, and ``sqlite3`` lets go of the GIL while it does, so here it uses the second core.
    """

    def __init__(self, path: str) -> None:
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA busy_timeout=10000")
        self._wake = threading.Event()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    def poke(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            if self._closing:
                return
            # Busy or interrupted: the next poke (or SQLite's backstop) tries again.
            with suppress(sqlite3.Error):
                self._db.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def close(self) -> None:
        self._closing = True
        self._wake.set()
        self._thread.join()
        self._db.close()


class _WriterQueue:
    """An exclusive ``flock`` on ``<database>-writer.lock``, held around each write transaction
    (nothing to share for an in-memory database, which only its one connection sees)."""

    def __init__(self, path: str) -> None:
        # held open for the store's life
        self._file = None if path == ":memory:" else open(f"{path}-writer.lock", "a+b")  # noqa: SIM115

    def __enter__(self) -> None:
        if self._file:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        if self._file:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)

    def close(self) -> None:
        if self._file:
            self._file.close()


class SqliteConnection:
    """A SQLite file opened for the store: its connection (``db``) and the ``lock`` every use
    of it holds, write transactions queued across processes, the log checkpointed aside."""

    def __init__(self, path: str, *, read_only: bool = False) -> None:
        self.path = path
        read_only = read_only and path != ":memory:"
        self.read_only = read_only
        if path != ":memory:" and not read_only:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # One connection behind a lock: sqlite3 objects are not shared across threads otherwise,
        # and the API's worker threads all go through here. Read-only (a file another process
        # works on, measured beside it): any write fails instead of changing the file.
        self.db = sqlite3.connect(
            _read_only_uri(path) if read_only else path,
            uri=read_only,
            check_same_thread=False,
            isolation_level=None,
        )
        self.lock = threading.RLock()
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA busy_timeout=10000")
        self.db.execute("PRAGMA cache_size=-65536")
        self._checkpointer = _Checkpointer(path) if path != ":memory:" and not read_only else None
        self._writer_queue = _WriterQueue(":memory:" if read_only else path)  # no writes to queue
        if self._checkpointer:
            # SQLite's own checkpoint stays as a backstop, far above what one batch writes.
            self.db.execute(f"PRAGMA wal_autocheckpoint={_BACKSTOP_PAGES}")

    def close(self) -> None:
        with self.lock:
            if self._checkpointer:
                self._checkpointer.close()
            self._writer_queue.close()
            self.db.close()

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """A connection of its own for a long read (the whole store), in one read transaction:
        a consistent view, and ``lock`` is not held meanwhile, so the API's threads go on (WAL
        lets readers run beside the writer). An in-memory database has no other connection:
        its own then, under the lock."""
        if self.path == ":memory:":
            with self.lock:
                yield self.db
            return
        db = sqlite3.connect(_read_only_uri(self.path), uri=True, isolation_level=None)
        try:
            db.execute("PRAGMA busy_timeout=10000")
            db.execute("PRAGMA cache_size=-65536")
            db.execute("BEGIN")
            yield db
        finally:
            db.close()

    @contextmanager
    def rollback_journal(self) -> Iterator[bool]:
        """The rollback journal instead of the write-ahead log for the block, when no other
        connection has the file open (yields whether it switched; if not, nothing changes).

        For one transaction that writes a whole store (a first import): the log would hold a
        copy of every page until the commit copied it into the file, twice the store's size on
        disk at the peak; a rollback journal keeps only the pages that existed before, and pages
        added to the file's end need none. A crash still undoes the transaction (the journal is
        rolled back when the file is next opened). Other processes cannot open the file during
        the block: opening it sets the log mode, which waits for the transaction.
        """
        if self.path == ":memory:" or self._checkpointer is None:
            yield False
            return
        with self.lock:
            self._checkpointer.close()  # its connection keeps the log in use
            self._checkpointer = None
            try:
                try:
                    (mode,) = self.db.execute("PRAGMA journal_mode=DELETE").fetchone()
                except sqlite3.OperationalError:  # locked: another connection has the file open
                    mode = "wal"
                yield mode == "delete"
            finally:
                try:  # (each opening of the store sets the log again, should this fail)
                    self.db.execute("PRAGMA journal_mode=WAL")
                finally:
                    self._checkpointer = _Checkpointer(self.path)

    @contextmanager
    def writing(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, committed if the block ends well and rolled back if not.

        Writers queue on a lock file before ``BEGIN IMMEDIATE``: SQLite makes a second process's
        writer poll with growing sleeps while the first holds the database, which leaves it idle
        long after the first commits; a blocked ``flock`` wakes at once.

        A write inside another (the same thread, the lock held) joins it: the outer block
        commits or rolls back both -- how a change and its audit entry are written together
        (``sqlite_audit.py``).
        """
        with self.lock:
            if self.db.in_transaction:
                yield self.db
                return
            with self._transaction():
                yield self.db
        self.written()

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        with self._writer_queue:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def written(self) -> None:
        """The log has grown (a write committed): checkpoint it soon, on the checkpoint thread."""
        if self._checkpointer:
            self._checkpointer.poke()

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """All the rows of one read."""
        with self.lock:
            return self.db.execute(sql, params).fetchall()

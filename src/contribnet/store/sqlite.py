"""The embedded store: one SQLite file (stdlib ``sqlite3``, WAL), zero servers.

The ``events`` table is the append-only log (key, type, content hash, canonical JSON); the other
tables index what the reads need. References are not foreign keys: a touch may arrive before the
staff member, store or customer it names, and reads join whatever has arrived. The credit ledger
(``sqlite_ledger.py``) keeps its tables in the same file, on the same connection
(``sqlite_connection.py``).
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from itertools import groupby
from json.scanner import make_scanner
from typing import Any, NamedTuple

from contribnet.domain.errors import ConflictError, NotFound
from contribnet.domain.events import (
    Activity,
    Brand,
    Customer,
    Deal,
    Handover,
    JointEvent,
    LeadAssignment,
    Referral,
    Staff,
    Store,
    Touch,
    Void,
    stored,
)
from contribnet.domain.journey import DealJourney, Journey, Page
from contribnet.domain.training import ContributionChanges, ContributionRows
from contribnet.domain.unchecked import unchecked
from contribnet.store.base import (
    BulkLoad,
    IngestResult,
    RecordedEvent,
    StoredEvent,
    assemble_deal_journey,
    lookup,
    read_whole,
    recorded_text,
    staff_view,
)
from contribnet.store.sqlite_audit import SqliteAudit
from contribnet.store.sqlite_connection import SqliteConnection, path_of, utc_text
from contribnet.store.sqlite_connection import sortable as _sortable
from contribnet.store.sqlite_disputes import SqliteDisputes
from contribnet.store.sqlite_flags import SqliteFlags
from contribnet.store.sqlite_leads import SqliteLeads
from contribnet.store.sqlite_ledger import SqliteLedger
from contribnet.store.sqlite_points import SqlitePoints
from contribnet.store.sqlite_profiles import SqliteProfiles

__all__ = ["AppendRows", "SqliteStore", "append_rows"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    hash TEXT NOT NULL,
    payload TEXT NOT NULL,
    recorded_at TEXT
);
CREATE TABLE IF NOT EXISTS brands (id TEXT PRIMARY KEY, name TEXT);
CREATE TABLE IF NOT EXISTS stores (
    id TEXT PRIMARY KEY, name TEXT, brand TEXT, city TEXT, region TEXT, mall TEXT
);
CREATE TABLE IF NOT EXISTS staff_spells (
    key TEXT PRIMARY KEY, staff TEXT NOT NULL, name TEXT, store TEXT, role TEXT,
    from_date TEXT, to_date TEXT
);
CREATE INDEX IF NOT EXISTS staff_spells_staff ON staff_spells (staff, from_date);
CREATE TABLE IF NOT EXISTS customers (id TEXT PRIMARY KEY, name TEXT, city TEXT);
CREATE TABLE IF NOT EXISTS touches (
    id TEXT PRIMARY KEY, at TEXT NOT NULL, customer TEXT NOT NULL, staff TEXT NOT NULL,
    store TEXT NOT NULL, stage TEXT NOT NULL, channel TEXT, joint_event TEXT
);
CREATE INDEX IF NOT EXISTS touches_customer ON touches (customer, at, id);
CREATE INDEX IF NOT EXISTS touches_staff ON touches (staff, at);
-- a period's touches (advisor profiles) without a scan of them all
CREATE INDEX IF NOT EXISTS touches_at ON touches (at);
CREATE TABLE IF NOT EXISTS referrals (
    id TEXT PRIMARY KEY, at TEXT NOT NULL, customer TEXT NOT NULL, to_store TEXT NOT NULL,
    referrer_staff TEXT, referrer_customer TEXT
);
CREATE INDEX IF NOT EXISTS referrals_customer ON referrals (customer, at);
-- a period's referrals (the fraud rules) without a scan of them all
CREATE INDEX IF NOT EXISTS referrals_at ON referrals (at);
-- every journey read asks whether the customer referred anyone: without this, a scan of them all
CREATE INDEX IF NOT EXISTS referrals_referrer_customer ON referrals (referrer_customer)
    WHERE referrer_customer IS NOT NULL;
CREATE TABLE IF NOT EXISTS handovers (
    id TEXT PRIMARY KEY, at TEXT NOT NULL, from_staff TEXT NOT NULL, to_staff TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS handover_customers (
    handover TEXT NOT NULL, customer TEXT NOT NULL, PRIMARY KEY (customer, handover)
) WITHOUT ROWID;
-- the customers of a handover (those whose training paths a new or voided one changes)
CREATE INDEX IF NOT EXISTS handover_customers_handover ON handover_customers (handover);
CREATE TABLE IF NOT EXISTS joint_events (id TEXT PRIMARY KEY, at TEXT NOT NULL, name TEXT);
CREATE TABLE IF NOT EXISTS joint_event_organisers (
    joint_event TEXT NOT NULL, store TEXT NOT NULL, PRIMARY KEY (joint_event, store)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS deals (
    id TEXT PRIMARY KEY, customer TEXT NOT NULL, store TEXT NOT NULL, staff TEXT NOT NULL,
    closed_at TEXT NOT NULL, amount INTEGER NOT NULL, reward_pool INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS deals_customer ON deals (customer);
CREATE INDEX IF NOT EXISTS deals_closed_at ON deals (closed_at);
CREATE TABLE IF NOT EXISTS api_keys (
    hash TEXT PRIMARY KEY, role TEXT NOT NULL, staff TEXT, created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS api_key_terms (
    hash TEXT PRIMARY KEY, expires_at TEXT, revoked_at TEXT
);
-- API keys since they are peppered (services/keys.py): a digest and a sealed record; the two
-- tables above hold only records from before, until the next start re-seals them here
CREATE TABLE IF NOT EXISTS api_key_records (digest TEXT PRIMARY KEY, sealed TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS activities (
    id TEXT PRIMARY KEY, at TEXT NOT NULL, staff TEXT NOT NULL, customer TEXT,
    action TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS activities_staff ON activities (staff, at);
-- lead pools: a customer's holding history, and a holder's follow-ups (touches_customer and
-- activities_customer) are read by customer
CREATE TABLE IF NOT EXISTS lead_assignments (
    id TEXT PRIMARY KEY, at TEXT NOT NULL, lead TEXT NOT NULL, staff TEXT, reason TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS lead_assignments_lead ON lead_assignments (lead, at, id);
CREATE INDEX IF NOT EXISTS lead_assignments_at ON lead_assignments (at);
CREATE INDEX IF NOT EXISTS activities_customer ON activities (customer, staff, at)
    WHERE customer IS NOT NULL;
CREATE INDEX IF NOT EXISTS activities_at ON activities (at);
CREATE TABLE IF NOT EXISTS voids (id TEXT PRIMARY KEY, target TEXT NOT NULL, reason TEXT);
CREATE INDEX IF NOT EXISTS voids_target ON voids (target);
"""

_VOIDED = "EXISTS (SELECT 1 FROM voids v WHERE v.target = {0}.id)"

#: The seq of the last event logged: it only grows, so it counts the events and marks how far
#: a reader has seen (``contribution_changes``).
_LAST_SEQ = "SELECT coalesce(max(seq), 0) FROM events"

#: The event tables' secondary indexes as ``(name, statement)``: rebuilt after a bulk load
#: (all but the staff spells', which the void checks of an import read).
_SECONDARY_INDEXES = [
    (m[1], m[0])
    for m in re.finditer(r"CREATE INDEX IF NOT EXISTS (\w+) ON [^;]+", SCHEMA)
    if m[1] != "staff_spells_staff"
]

#: Touches per page of ``contribution_paths``.
_PATH_PAGE = 50_000

#: A stored instant (``sortable``: ``YYYY-MM-DDTHH:MM:SS.ffffff+00:00``) as whole microseconds
#: since 1970-01-01 UTC.
_MICROS = "unixepoch({0}) * 1000000 + CAST(substr({0}, 21, 6) AS INTEGER)"

#: ``contribution_rows``' items, every live touch, referral and handover in (customer, at)
#: order; at one instant a touch, a referral, a handover, then by id. A whole-store read: each
#: table is read once in page order and the rows sorted once (along the touches' (customer, at,
#: id) index instead, every row would be looked up in the table at random, which costs as much
#: as the sort on the m network).
_CONTRIBUTION_ITEMS = (
    "SELECT customer, {micros}, stage FROM ("
    " SELECT customer, at, 0 AS rank, id, stage FROM touches t WHERE NOT {t_voided}"
    " UNION ALL SELECT customer, at, 1, id, CASE WHEN referrer_staff IS NOT NULL"
    " THEN 'referral' ELSE 'owner_referral' END FROM referrals r"
    " WHERE referrer_customer IS NOT customer AND NOT {r_voided}"
    " UNION ALL SELECT hc.customer, h.at, 2, h.id, 'handover'"
    " FROM handover_customers hc JOIN handovers h ON h.id = hc.handover WHERE NOT {h_voided}"
    ") ORDER BY customer, at, rank, id"
).format(
    micros=_MICROS.format("at"),
    t_voided=_VOIDED.format("t"),
    r_voided=_VOIDED.format("r"),
    h_voided=_VOIDED.format("h"),
)

#: ``contribution_changes``: the customers whose contribution rows the events in a range of
#: ``seq`` changed -- those an item or a deal of them names, and those a void of one names.
_CHANGED_CUSTOMERS = """
WITH fresh AS (SELECT key, type FROM events WHERE seq > ? AND seq <= ?),
targets AS (
    SELECT key AS id FROM fresh WHERE type IN ('touch', 'referral', 'handover', 'deal')
    UNION SELECT v.target FROM fresh JOIN voids v ON v.id = fresh.key WHERE fresh.type = 'void'
)
SELECT customer FROM touches WHERE id IN targets
UNION SELECT customer FROM referrals WHERE id IN targets
UNION SELECT customer FROM handover_customers WHERE handover IN targets
UNION SELECT customer FROM deals WHERE id IN targets
ORDER BY customer
"""

#: A row's event is recorded by mark ``?`` and no void recorded by then targets it.
_AS_OF = (
    " JOIN events e ON e.key = {0}.id WHERE e.seq <= ? AND NOT EXISTS (SELECT 1 FROM voids v"
    " JOIN events ve ON ve.key = v.id WHERE v.target = {0}.id AND ve.seq <= ?)"
)

#: ``_CONTRIBUTION_ITEMS`` of the customers in ``wanted`` (a ``VALUES`` list before it) as of a
#: mark (its parameter three times over, after theirs).
_CONTRIBUTION_ITEMS_AS_OF = (
    "SELECT customer, {micros}, stage FROM ("
    " SELECT t.customer, t.at, 0 AS rank, t.id, t.stage FROM touches t"
    + _AS_OF.format("t")
    + " AND t.customer IN wanted"
    " UNION ALL SELECT r.customer, r.at, 1, r.id, CASE WHEN referrer_staff IS NOT NULL"
    " THEN 'referral' ELSE 'owner_referral' END FROM referrals r"
    + _AS_OF.format("r")
    + " AND r.customer IN wanted AND r.referrer_customer IS NOT r.customer"
    " UNION ALL SELECT hc.customer, h.at, 2, h.id, 'handover'"
    " FROM handover_customers hc JOIN handovers h ON h.id = hc.handover"
    + _AS_OF.format("h")
    + " AND hc.customer IN wanted"
    ") ORDER BY customer, at, rank, id"
).format(micros=_MICROS.format("at"))

#: ``_LIVE_CLOSES`` of the customers in ``wanted`` as of a mark.
_LIVE_CLOSES_AS_OF = (
    "SELECT d.customer, "
    + _MICROS.format("d.closed_at")
    + " FROM deals d"
    + _AS_OF.format("d")
    + " AND d.customer IN wanted"
)

#: ``save_tally``'s table: one derived text per key, as of a mark (``events.seq``).
_PATH_TALLIES = (
    "CREATE TABLE IF NOT EXISTS path_tallies"
    " (key TEXT PRIMARY KEY, mark INTEGER NOT NULL, tally TEXT NOT NULL)"
)

#: ``contribution_rows``' deals: each live deal's customer and close.
_LIVE_CLOSES = (
    "SELECT customer, " + _MICROS.format("closed_at") + " FROM deals d"
    " WHERE NOT " + _VOIDED.format("d")
)

_LISTS = {
    "stores": ("SELECT e.payload FROM stores s JOIN events e ON e.key = s.id", "stores"),
    "customers": ("SELECT e.payload FROM customers c JOIN events e ON e.key = c.id", "customers"),
    "deals": (
        "SELECT e.payload, " + _VOIDED.format("d") + " FROM deals d JOIN events e ON e.key = d.id",
        "deals",
    ),
}


#: The page cache of a bulk load (KiB; the store's default is 64 MiB): the indexes of the
#: tables an import grows are written into, at random places, for the whole file.
_BULK_CACHE_KIB = 256 * 1024

#: Ids per ``IN (...)`` list: well under SQLite's limit on a statement's parameters.
_PART = 500


def _parts(ids: Sequence[str]) -> Iterator[Sequence[str]]:
    for i in range(0, len(ids), _PART):
        yield ids[i : i + _PART]


def _marks(ids: Sequence[str]) -> str:
    return ",".join("?" * len(ids))


#: The C scanner behind ``json.loads``, called directly: the payloads read here are JSON this
#: store wrote (nothing around the value to skip or check), and reading a chunk's journeys
#: decodes about 13 per deal, where ``json.loads``'s checks around the scan cost as much again.
_scan_json = make_scanner(json.JSONDecoder())  # type: ignore[arg-type]  # typeshed: a duck type


def _decoded(payload: str) -> Any:
    """A stored event's payload (JSON text this store wrote) as Python values."""
    return _scan_json(payload, 0)[0]


def _item(payload: str, voided: object) -> dict[str, Any]:
    """A journey item as the chunk read gives it: the event's stored fields and ``voided``."""
    item: dict[str, Any] = _scan_json(payload, 0)[0]  # as _decoded, one call less per item
    item["voided"] = bool(voided)
    return item


def _received(at: datetime | None) -> str | None:
    """A received time as stored: sortable UTC text."""
    return utc_text(at) if at is not None else None


def _instant_or_none(text: str | None) -> datetime | None:
    """A stored received time (null for events stored before they were kept)."""
    return datetime.fromisoformat(text) if text else None


class SqliteStore:
    """The ``Store`` port on one SQLite file; its ledger (``ledger``) shares the connection."""

    def __init__(self, url: str = "sqlite:///./contribnet.db", *, read_only: bool = False) -> None:
        # read_only: for measuring a file another process uses; opening runs the schema's
        # CREATE ... IF NOT EXISTS, which then fails rather than build what the file lacks
        self._connection = SqliteConnection(path_of(url), read_only=read_only)
        # The event reads below use the connection and its lock directly.
        self._db = self._connection.db
        self._lock = self._connection.lock
        self._db.executescript(SCHEMA)
        self._add_recorded_at()
        self.ledger = SqliteLedger(self._connection)
        self.points = SqlitePoints(self._connection, self.ledger)
        self.flags = SqliteFlags(self._connection)
        self.leads = SqliteLeads(self._connection)
        self.audit = SqliteAudit(self._connection)
        self.disputes = SqliteDisputes(self._connection)
        self.profiles = SqliteProfiles(self._connection)

    def close(self) -> None:
        self._connection.close()

    def _add_recorded_at(self) -> None:
        """A database made before received times were kept gets the ``recorded_at`` column;
        its events read it as null. Another process opening the file may add it first."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(events)")}
        if "recorded_at" in columns:
            return
        try:
            with self._writing() as db:
                db.execute("ALTER TABLE events ADD COLUMN recorded_at TEXT")
        except sqlite3.OperationalError as exc:
            if "duplicate column" not in str(exc):
                raise

    # --- writes ----------------------------------------------------------------------------

    def stored_hashes(self, keys: Sequence[str]) -> dict[str, str]:
        with self._lock:
            return self._hashes(keys)

    def stored_types(self, ids: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        with self._lock:
            for start in range(0, len(ids), 5000):
                chunk = list(ids[start : start + 5000])
                marks = ",".join("?" * len(chunk))
                found.update(
                    self._db.execute(
                        f"SELECT staff, 'staff' FROM staff_spells WHERE staff IN ({marks}) "
                        f"UNION SELECT key, type FROM events WHERE key IN ({marks})",
                        chunk + chunk,
                    ).fetchall()
                )
        return found

    def _hashes(self, keys: Sequence[str], up_to_seq: int | None = None) -> dict[str, str]:
        """Stored content hashes by key; with ``up_to_seq`` only of events logged until then."""
        found: dict[str, str] = {}
        bound = "" if up_to_seq is None else " AND seq <= ?"
        for start in range(0, len(keys), 5000):
            chunk = list(keys[start : start + 5000])
            marks = ",".join("?" * len(chunk))
            params = chunk if up_to_seq is None else [*chunk, up_to_seq]
            found.update(
                self._db.execute(
                    f"SELECT key, hash FROM events WHERE key IN ({marks}){bound}", params
                ).fetchall()
            )
        return found

    def append(self, events: Sequence[RecordedEvent]) -> IngestResult:
        return self._write_rows(append_rows(events))

    def _write_rows(self, rows: AppendRows) -> IngestResult:
        """Write the rows :func:`append_rows` made of a batch: the log entries not yet in the
        log, and the index rows of those alone."""
        with self._writing():
            new = self._log_new(rows.events)
            written = {key for key, *_ in new} if len(new) < len(rows.events) else None
            self._project(rows.tables, written)
        return IngestResult(accepted=len(new), duplicates=len(rows.events) - len(new))

    @contextmanager
    def bulk_load(self) -> Iterator[BulkLoad]:
        """One write transaction for a whole import: a failed file leaves nothing behind, and
        each page is written once at the commit instead of once per batch. Other writers wait
        for it; readers go on seeing the store as it was. The page cache is raised for the
        block so that the growing indexes stay in memory (bounded: ``_BULK_CACHE_KIB``).

        Into an empty store no other process has open, the block writes in place, with a
        rollback journal (:meth:`SqliteConnection.rollback_journal`): no log to hold a second
        copy of the whole import."""
        empty = self._query("SELECT 1 FROM events LIMIT 1") == []
        with (
            self._connection.rollback_journal() if empty else nullcontext(),
            self._writing() as db,
        ):
            (cache,) = db.execute("PRAGMA cache_size").fetchone()
            db.execute(f"PRAGMA cache_size=-{_BULK_CACHE_KIB}")
            # Into an empty store, the secondary indexes are built once at the end, by sorting,
            # instead of row by row at random places; the imports' own lookups use only keys.
            # (Dropped inside the transaction: a failed import gets them back in the rollback.)
            rebuild = db.execute("SELECT 1 FROM events LIMIT 1").fetchone() is None
            if rebuild:
                for name, _ in _SECONDARY_INDEXES:
                    db.execute(f"DROP INDEX IF EXISTS {name}")
            try:
                yield BulkLoad(append_rows, self._write_rows)
                if rebuild:
                    for _, statement in _SECONDARY_INDEXES:
                        db.execute(statement)
            finally:
                db.execute(f"PRAGMA cache_size={int(cache)}")

    def stored_events(self, keys: Sequence[str]) -> dict[str, StoredEvent]:
        # The payload is the canonical JSON as accepted (and as edited since, if it was).
        return {
            key: StoredEvent(key, hash_, payload.encode(), _instant_or_none(recorded_at))
            for part in _parts(list(dict.fromkeys(keys)))
            for key, hash_, payload, recorded_at in self._query(
                f"SELECT key, hash, payload, recorded_at FROM events WHERE key IN ({_marks(part)})",
                part,
            )
        }

    def _writing(self) -> AbstractContextManager[sqlite3.Connection]:
        """One write transaction (:meth:`SqliteConnection.writing`)."""
        return self._connection.writing()

    def _log_new(self, events: Sequence[tuple[Any, ...]]) -> Sequence[tuple[Any, ...]]:
        """Append the log entries (``(key, type, hash, payload, recorded_at)``) not yet in the
        log; raise ``ConflictError`` on a re-used key.

        Most batches are all new, so the insert comes first and the key index it probes anyway
        does the checking; only when some rows were ignored are the stored hashes read, from the
        rows that were there before this insert (``seq`` only grows).
        """
        db = self._db
        (last_seq,) = db.execute(_LAST_SEQ).fetchone()
        before = db.total_changes
        db.executemany(
            "INSERT OR IGNORE INTO events (key, type, hash, payload, recorded_at)"
            " VALUES (?, ?, ?, ?, ?)",
            events,
        )
        if db.total_changes - before == len(events):
            return events
        stored = self._hashes([key for key, *_ in events], up_to_seq=last_seq)
        conflicts = [key for key, _, hash_, *_ in events if stored.get(key, hash_) != hash_]
        if conflicts:
            raise ConflictError(conflicts)
        return [e for e in events if e[0] not in stored]

    def _project(self, tables: dict[str, list[tuple[Any, ...]]], only: set[str] | None) -> None:
        """Insert the index rows of ``tables``; with ``only``, those of the events so keyed
        (each row begins with its event's key)."""
        db = self._db
        for table, rows in tables.items():
            kept = rows if only is None else [row for row in rows if row[0] in only]
            if kept:
                marks = ",".join("?" * len(kept[0]))
                verb = "INSERT OR IGNORE" if table in _LINK_TABLES else "INSERT"
                db.executemany(f"{verb} INTO {table} VALUES ({marks})", kept)

    def put_api_key(self, digest: str, sealed: str) -> None:
        with self._writing() as db:
            db.execute("INSERT INTO api_key_records VALUES (?, ?)", (digest, sealed))

    def find_api_key(self, digest: str) -> str | None:
        rows = self._query("SELECT sealed FROM api_key_records WHERE digest = ?", (digest,))
        return str(rows[0][0]) if rows else None

    _LEGACY_KEY_FIELDS = ("hash", "role", "staff", "created_at", "expires_at", "revoked_at")

    def api_keys(self) -> list[dict[str, Any]]:
        rows = self._query("SELECT digest, sealed FROM api_key_records ORDER BY digest")
        legacy = self._query(
            "SELECT k.hash, k.role, k.staff, k.created_at, t.expires_at, t.revoked_at"
            " FROM api_keys k LEFT JOIN api_key_terms t ON t.hash = k.hash"
            " ORDER BY k.created_at, k.hash"
        )
        return [{"digest": d, "sealed": s} for d, s in rows] + [
            dict(zip(self._LEGACY_KEY_FIELDS, row, strict=True)) for row in legacy
        ]

    def replace_api_keys(self, changes: Sequence[tuple[str, str, str]]) -> None:
        with self._writing() as db:
            for old, digest, sealed in changes:
                gone = db.execute("DELETE FROM api_keys WHERE hash = ?", (old,)).rowcount
                db.execute("DELETE FROM api_key_terms WHERE hash = ?", (old,))
                gone += db.execute("DELETE FROM api_key_records WHERE digest = ?", (old,)).rowcount
                if not gone:  # replaced meanwhile (say revoked): that record stands
                    continue
                db.execute(
                    "INSERT INTO api_key_records VALUES (?, ?)"
                    " ON CONFLICT (digest) DO UPDATE SET sealed = excluded.sealed",
                    (digest, sealed),
                )

    # --- reads -----------------------------------------------------------------------------

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._connection.query(sql, params)

    def count_events(self) -> dict[str, int]:
        return dict(self._query("SELECT type, count(*) FROM events GROUP BY type ORDER BY type"))

    def event_count(self) -> int:
        return int(self._query(_LAST_SEQ)[0][0])

    def _payload(self, key: str, type_: str) -> dict[str, Any] | None:
        row = self._query("SELECT payload FROM events WHERE key = ? AND type = ?", (key, type_))
        return json.loads(row[0][0]) if row else None

    def _items(self, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
        return [
            {**json.loads(payload), "voided": bool(voided)}
            for payload, voided in self._query(sql, params)
        ]

    def _received_items(self, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
        """As :meth:`_items`, each with its ``recorded_at`` (the query's third column)."""
        return [
            {
                **json.loads(payload),
                "voided": bool(voided),
                "recorded_at": recorded_text(_instant_or_none(received)),
            }
            for payload, voided, received in self._query(sql, params)
        ]

    def journey(self, customer_id: str) -> Journey:
        c = (customer_id,)
        touches = self._received_items(
            "SELECT e.payload, "
            + _VOIDED.format("t")
            + ", e.recorded_at FROM touches t JOIN events e ON e.key = t.id"
            " WHERE t.customer = ? ORDER BY t.at, t.id",
            c,
        )
        referrals = self._received_items(
            "SELECT e.payload, "
            + _VOIDED.format("r")
            + ", e.recorded_at FROM referrals r JOIN events e ON e.key = r.id"
            " WHERE r.customer = ? ORDER BY r.at, r.id",
            c,
        )
        handovers = self._received_items(
            "SELECT e.payload, "
            + _VOIDED.format("h")
            + ", e.recorded_at FROM handover_customers hc"
            " JOIN handovers h ON h.id = hc.handover JOIN events e ON e.key = h.id"
            " WHERE hc.customer = ? ORDER BY h.at, h.id",
            c,
        )
        joint_events = self._received_items(
            "SELECT e.payload, "
            + _VOIDED.format("j")
            + ", e.recorded_at FROM joint_events j JOIN events e ON e.key = j.id"
            " WHERE j.id IN (SELECT joint_event FROM touches WHERE customer = ?)"
            " ORDER BY j.at, j.id",
            c,
        )
        deals = self._received_items(
            "SELECT e.payload, "
            + _VOIDED.format("d")
            + ", e.recorded_at FROM deals d JOIN events e ON e.key = d.id"
            " WHERE d.customer = ? ORDER BY d.closed_at, d.id",
            c,
        )
        assignments = self._received_items(
            "SELECT e.payload, "
            + _VOIDED.format("a")
            + ", e.recorded_at FROM lead_assignments a JOIN events e ON e.key = a.id"
            " WHERE a.lead = ? ORDER BY a.at, a.id",
            c,
        )
        customer = self._payload(customer_id, "customer")
        referred = self._query("SELECT 1 FROM referrals WHERE referrer_customer = ? LIMIT 1", c)
        if customer is None and not (
            touches or referrals or handovers or deals or referred or assignments
        ):
            raise NotFound("customer", customer_id)
        return Journey(
            customer=customer,
            touches=touches,
            referrals=referrals,
            handovers=handovers,
            joint_events=joint_events,
            deals=deals,
            lead_assignments=assignments,
        )

    def deal_journey(self, deal_id: str) -> DealJourney:
        payload = self._payload(deal_id, "deal")
        if payload is None or self._query("SELECT 1 FROM voids WHERE target = ?", (deal_id,)):
            raise NotFound("deal", deal_id)
        deal = stored(Deal, payload)
        return assemble_deal_journey(
            deal, self.journey(deal.customer), self._staff_spells, self._stores
        )

    def deal_journeys(self, deal_ids: Sequence[str]) -> dict[str, DealJourney]:
        """Many deals' journeys in a few queries per chunk (not one set per deal): the deals,
        their customers' items, and the staff spells and stores they involve, each read once."""
        ids = list(dict.fromkeys(deal_ids))
        deals: dict[str, Deal] = {}
        for part in _parts(ids):
            for (payload,) in self._query(
                "SELECT e.payload FROM deals d JOIN events e ON e.key = d.id"
                f" WHERE d.id IN ({_marks(part)}) AND NOT " + _VOIDED.format("d"),
                part,
            ):
                deal = stored(Deal, _decoded(payload))
                deals[deal.id] = deal
        customers = sorted({d.customer for d in deals.values()})
        journeys = self._journeys(customers)
        staff_ids: set[str] = {d.staff for d in deals.values()}
        store_ids: set[str] = {d.store for d in deals.values()}
        for journey in journeys.values():
            for t in journey.touches:
                staff_ids.add(t["staff"])
                store_ids.add(t["store"])
            for r in journey.referrals:
                store_ids.add(r["to_store"])
                if r.get("referrer_staff"):
                    staff_ids.add(r["referrer_staff"])
            for h in journey.handovers:
                staff_ids.update((h["from_staff"], h["to_staff"]))
            for j in journey.joint_events:
                store_ids.update(j["organisers"])
            staff_ids.update(a["staff"] for a in journey.lead_assignments if a.get("staff"))
        spells = self._staff_spells(sorted(staff_ids))
        store_ids.update(s.store for group in spells.values() for s in group)
        stores = self._stores(sorted(store_ids))
        staff_lookup = lookup(spells)
        store_lookup = lookup(stores)
        return {
            deal_id: assemble_deal_journey(
                deals[deal_id], journeys[deals[deal_id].customer], staff_lookup, store_lookup
            )
            for deal_id in ids
            if deal_id in deals
        }

    def _journeys(self, customers: Sequence[str]) -> dict[str, Journey]:
        """The journeys of many customers (as :meth:`journey` reads one), a query per kind of
        item for a part of them at a time."""
        found: dict[str, dict[str, Any]] = {
            c: {
                "customer": None,
                "touches": [],
                "referrals": [],
                "handovers": [],
                "joint_events": [],
                "deals": [],
                "lead_assignments": [],
            }
            for c in customers
        }
        for part in _parts(customers):
            marks = _marks(part)
            for key, sql in (
                (
                    "touches",
                    "SELECT t.customer, e.payload, " + _VOIDED.format("t") + " FROM touches t"
                    f" JOIN events e ON e.key = t.id WHERE t.customer IN ({marks})"
                    " ORDER BY t.customer, t.at, t.id",
                ),
                (
                    "referrals",
                    "SELECT r.customer, e.payload, " + _VOIDED.format("r") + " FROM referrals r"
                    f" JOIN events e ON e.key = r.id WHERE r.customer IN ({marks})"
                    " ORDER BY r.customer, r.at, r.id",
                ),
                (
                    "handovers",
                    "SELECT hc.customer, e.payload, "
                    + _VOIDED.format("h")
                    + " FROM handover_customers hc JOIN handovers h ON h.id = hc.handover"
                    f" JOIN events e ON e.key = h.id WHERE hc.customer IN ({marks})"
                    " ORDER BY hc.customer, h.at, h.id",
                ),
                (
                    "deals",
                    "SELECT d.customer, e.payload, " + _VOIDED.format("d") + " FROM deals d"
                    f" JOIN events e ON e.key = d.id WHERE d.customer IN ({marks})"
                    " ORDER BY d.customer, d.closed_at, d.id",
                ),
                (
                    "lead_assignments",
                    "SELECT a.lead, e.payload, " + _VOIDED.format("a") + " FROM lead_assignments a"
                    f" JOIN events e ON e.key = a.id WHERE a.lead IN ({marks})"
                    " ORDER BY a.lead, a.at, a.id",
                ),
            ):
                for customer, payload, voided, *_ in self._query(sql, part):
                    found[customer][key].append(_item(payload, voided))
            for customer, payload in self._query(
                f"SELECT key, payload FROM events WHERE type = 'customer' AND key IN ({marks})",
                part,
            ):
                found[customer]["customer"] = _decoded(payload)
            self._add_joint_events({c: found[c] for c in part})
        return {c: unchecked(Journey, items) for c, items in found.items()}

    def _add_joint_events(self, found: dict[str, dict[str, Any]]) -> None:
        """The joint events at which the customers (their items read so far) were touched, in
        ``(at, id)`` order: found by the ids in their touches (voided ones too), read by id --
        joining the touches again to find them would read every touch's row, which the
        customer index does not cover."""
        events_of = {
            c: {t["joint_event"] for t in items["touches"] if t.get("joint_event")}
            for c, items in found.items()
        }
        ids = sorted(set().union(*events_of.values()))
        rows: dict[str, tuple[str, str, int]] = {}
        for part in _parts(ids):
            for id_, at, payload, voided in self._query(
                "SELECT j.id, j.at, e.payload, " + _VOIDED.format("j") + " FROM joint_events j"
                f" JOIN events e ON e.key = j.id WHERE j.id IN ({_marks(part)})",
                part,
            ):
                rows[id_] = (at, payload, voided)
        for customer, wanted in events_of.items():
            for _, _, payload, voided in sorted(
                (rows[j][0], j, rows[j][1], rows[j][2]) for j in wanted if j in rows
            ):
                found[customer]["joint_events"].append(_item(payload, voided))

    def _staff_spells(self, ids: Sequence[str]) -> dict[str, tuple[Staff, ...]]:
        if not ids:
            return {}
        rows = [
            row
            for part in _parts(ids)
            for row in self._query(
                "SELECT s.staff, e.payload FROM staff_spells s JOIN events e ON e.key = s.key"
                f" WHERE s.staff IN ({_marks(part)}) ORDER BY s.staff, s.from_date",
                part,
            )
        ]
        return {
            staff: tuple(stored(Staff, _decoded(p)) for _, p in group)
            for staff, group in groupby(rows, key=lambda r: r[0])
        }

    def _stores(self, ids: Sequence[str]) -> dict[str, Store]:
        if not ids:
            return {}
        rows = [
            row
            for part in _parts(ids)
            for row in self._query(
                "SELECT s.id, e.payload FROM stores s JOIN events e ON e.key = s.id"
                f" WHERE s.id IN ({_marks(part)})",
                part,
            )
        ]
        return {sid: stored(Store, _decoded(p)) for sid, p in rows}

    def contribution_paths(
        self,
    ) -> Iterator[tuple[tuple[tuple[datetime, str], ...], tuple[datetime, ...]]]:
        # Referrals, handovers and deals are few beside touches: read whole, by customer. The
        # touches are read in pages along their (customer, at, id) index, the lock held for one
        # page at a time, and merged customer by customer.
        extras: dict[str, list[tuple[str, int, str, str]]] = {}
        closes: dict[str, list[str]] = {}
        with self._lock:
            for customer, at, rank, id_, stage in self._db.execute(
                "SELECT customer, at, 1, id, CASE WHEN referrer_staff IS NOT NULL"
                " THEN 'referral' ELSE 'owner_referral' END FROM referrals r"
                " WHERE referrer_customer IS NOT customer AND NOT " + _VOIDED.format("r") + ""
                " UNION ALL SELECT hc.customer, h.at, 2, h.id, 'handover'"
                " FROM handover_customers hc JOIN handovers h ON h.id = hc.handover"
                " WHERE NOT " + _VOIDED.format("h")
            ):
                extras.setdefault(customer, []).append((at, rank, id_, stage))
            for customer, closed_at in self._db.execute(
                "SELECT customer, closed_at FROM deals d WHERE NOT " + _VOIDED.format("d")
            ):
                closes.setdefault(customer, []).append(closed_at)

        def path(
            customer: str, touches: list[tuple[str, int, str, str]]
        ) -> tuple[tuple[tuple[datetime, str], ...], tuple[datetime, ...]]:
            more = extras.pop(customer, None)
            if more:  # same instant: touch, referral, handover (the guards' order), then id
                touches = sorted(touches + more)
            return (
                tuple((datetime.fromisoformat(at), stage) for at, _, _, stage in touches),
                tuple(sorted(map(datetime.fromisoformat, closes.pop(customer, ())))),
            )

        after: tuple[str, str, str] = ("", "", "")
        current: str | None = None
        items: list[tuple[str, int, str, str]] = []
        while True:
            with self._lock:
                rows = self._db.execute(
                    "SELECT customer, at, id, stage FROM touches t"
                    " WHERE (customer, at, id) > (?, ?, ?) AND NOT " + _VOIDED.format("t") + ""
                    " ORDER BY customer, at, id LIMIT ?",
                    (*after, _PATH_PAGE),
                ).fetchall()
            for customer, at, id_, stage in rows:
                if customer != current:
                    if current is not None:
                        yield path(current, items)
                    current, items = customer, []
                items.append((at, 0, id_, stage))
            if len(rows) < _PATH_PAGE:
                break
            after = rows[-1][:3]
        if current is not None:
            yield path(current, items)
        # customers with referrals, handovers or deals but no live touch
        for customer in sorted(extras.keys() | closes.keys()):
            yield path(customer, [])

    def contribution_rows(self) -> ContributionRows:
        # One read of the whole store on a connection of its own (the API's lock is not held
        # meanwhile): every live touch, referral and handover in the order the models learn
        # them, as bare values, then the live deals' closes.
        with self._connection.reading() as db:
            (mark,) = db.execute(_LAST_SEQ).fetchone()
            items = db.execute(_CONTRIBUTION_ITEMS).fetchall()
            deals = db.execute(_LIVE_CLOSES).fetchall()
        return _contribution_rows(items, deals, mark)

    def contribution_changes(self, after: int) -> ContributionChanges | None:
        # Writers take turns, each a seq above every committed one: a reader that has seen the
        # events up to a mark has seen every event below it.
        with self._connection.reading() as db:
            (mark,) = db.execute(_LAST_SEQ).fetchone()
            if after > mark or read_whole(mark - after, mark):
                return None
            changed = [c for (c,) in db.execute(_CHANGED_CUSTOMERS, (after, mark))]
            rows = []
            for as_of in (after, mark):
                items: list[tuple[Any, ...]] = []
                deals: list[tuple[Any, ...]] = []
                for part in _parts(changed):  # in customer order: each one's rows stay together
                    wanted = "WITH wanted(customer) AS (VALUES " + ",".join(["(?)"] * len(part))
                    args = (*part, as_of, as_of)
                    items += db.execute(
                        wanted + ") " + _CONTRIBUTION_ITEMS_AS_OF, (*args, *[as_of] * 4)
                    ).fetchall()
                    deals += db.execute(wanted + ") " + _LIVE_CLOSES_AS_OF, args).fetchall()
                rows.append(_contribution_rows(items, deals, as_of))
        return ContributionChanges(mark, rows[0], rows[1])

    def saved_tally(self, key: str) -> tuple[int, str] | None:
        try:
            found = self._query("SELECT mark, tally FROM path_tallies WHERE key = ?", (key,))
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):  # none saved yet (the table comes with the first)
                return None
            raise
        return (int(found[0][0]), str(found[0][1])) if found else None

    def save_tally(self, key: str, mark: int, text: str) -> None:
        if self._connection.read_only:
            return
        with self._writing() as db:
            # made here, not with the schema: a file opened read-only may predate it
            db.execute(_PATH_TALLIES)
            db.execute("INSERT OR REPLACE INTO path_tallies VALUES (?, ?, ?)", (key, mark, text))

    def get(self, kind: str, id: str) -> dict[str, Any]:
        if kind == "staff":
            spells = self._staff_spells([id]).get(id)
            if not spells:
                raise NotFound("staff", id)
            return staff_view(id, spells)
        if kind == "deal":
            items = self._items(
                "SELECT e.payload, " + _VOIDED.format("d") + " FROM deals d JOIN events e"
                " ON e.key = d.id WHERE d.id = ?",
                (id,),
            )
        else:
            payload = self._payload(id, kind)
            items = [payload] if payload else []
        if not items:
            raise NotFound(kind, id)
        return items[0]

    def list(
        self,
        kind: str,
        offset: int,
        limit: int,
        *,
        store: str | None = None,
        staff: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> Page:
        if kind == "deals":
            return self._list_deals(offset, limit, store, staff, start, end)
        if kind == "staff":
            total = self._query("SELECT count(DISTINCT staff) FROM staff_spells")[0][0]
            ids = [
                r[0]
                for r in self._query(
                    "SELECT DISTINCT staff FROM staff_spells ORDER BY staff LIMIT ? OFFSET ?",
                    (limit, offset),
                )
            ]
            spells = self._staff_spells(ids)
            items = [staff_view(i, spells[i]) for i in ids]
        else:
            select, table = _LISTS[kind]
            total = self._query(f"SELECT count(*) FROM {table}")[0][0]
            alias = select.split(" JOIN ")[0].split()[-1]
            rows = self._query(f"{select} ORDER BY {alias}.id LIMIT ? OFFSET ?", (limit, offset))
            items = [
                {**json.loads(r[0]), **({"voided": bool(r[1])} if len(r) > 1 else {})} for r in rows
            ]
        return Page(items=items, offset=offset, limit=limit, total=total)

    def _list_deals(
        self,
        offset: int,
        limit: int,
        store: str | None,
        staff: str | None,
        start: datetime | None,
        end: datetime | None,
    ) -> Page:
        clauses, params = ["1"], []
        for column, value in (("d.store", store), ("d.staff", staff)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        for op, at in ((">=", start), ("<", end)):
            if at is not None:
                clauses.append(f"d.closed_at {op} ?")
                params.append(_sortable(at.astimezone(UTC)))
        where = " AND ".join(clauses)
        total = self._query(f"SELECT count(*) FROM deals d WHERE {where}", params)[0][0]
        select, _ = _LISTS["deals"]
        rows = self._query(
            f"{select} WHERE {where} ORDER BY d.id LIMIT ? OFFSET ?", [*params, limit, offset]
        )
        items = [{**json.loads(r[0]), "voided": bool(r[1])} for r in rows]
        return Page(items=items, offset=offset, limit=limit, total=total)


class AppendRows(NamedTuple):
    """The rows a batch of recorded events adds: its log entries, ``(key, type, hash, payload,
    recorded_at)``, and its index rows by table, each row beginning with its event's key."""

    events: list[tuple[Any, ...]]
    tables: dict[str, list[tuple[Any, ...]]]


def append_rows(events: Sequence[RecordedEvent]) -> AppendRows:
    """The rows :meth:`SqliteStore.append` writes for ``events``: a pure function of them, so
    that a file's batches can be made ready in another process while this one writes
    (``services/ingest.py``).

    >>> from contribnet.domain.events import Brand, canonical_json, event_hash
    >>> brand = Brand(id="b-1", name="Aurora")
    >>> canonical = canonical_json(brand)
    >>> rows = append_rows([RecordedEvent("b-1", brand, canonical, event_hash(canonical))])
    >>> rows.tables
    {'brands': [('b-1', 'Aurora')]}
    """
    # a batch is received at one instant: its text is made once, not once per event
    received = {at: _received(at) for at in {e.recorded_at for e in events}}
    log = [
        (e.key, e.event.type, e.hash, e.canonical.decode(), received[e.recorded_at]) for e in events
    ]
    tables: dict[str, list[tuple[Any, ...]]] = {}
    touches = [e.event for e in events if isinstance(e.event, Touch)]
    if touches:
        tables["touches"] = [
            (t.id, _sortable(t.at), t.customer, t.staff, t.store, t.stage, t.channel, t.joint_event)
            for t in touches
        ]
    for recorded in events:
        if not isinstance(recorded.event, Touch):
            for table, row in _rows(recorded):
                tables.setdefault(table, []).append(row)
    return AppendRows(log, tables)


def _contribution_rows(
    items: Sequence[tuple[Any, ...]], deals: Sequence[tuple[Any, ...]], mark: int
) -> ContributionRows:
    return ContributionRows(
        item_customers=[r[0] for r in items],
        item_at=[r[1] for r in items],
        item_stages=[r[2] for r in items],
        deal_customers=[r[0] for r in deals],
        deal_closes=[r[1] for r in deals],
        mark=mark,
    )


# A handover may list a customer twice, a joint event an organiser twice: one link is enough.
_LINK_TABLES = frozenset({"handover_customers", "joint_event_organisers"})


def _rows(recorded: RecordedEvent) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """The index rows one event other than a touch adds, as ``(table, row)``."""
    e = recorded.event
    # the most frequent kinds first (after touches: customers, activities, lead assignments)
    if isinstance(e, Customer):
        yield "customers", (e.id, e.name, e.city)
    elif isinstance(e, Activity):
        yield "activities", (e.id, _sortable(e.at), e.staff, e.customer, e.action)
    elif isinstance(e, LeadAssignment):
        yield "lead_assignments", (e.id, _sortable(e.at), e.lead, e.staff, e.reason)
    elif isinstance(e, Referral):
        yield (
            "referrals",
            (e.id, _sortable(e.at), e.customer, e.to_store, e.referrer_staff, e.referrer_customer),
        )
    elif isinstance(e, Deal):
        yield (
            "deals",
            (e.id, e.customer, e.store, e.staff, _sortable(e.closed_at), e.amount, e.reward_pool),
        )
    elif isinstance(e, Handover):
        yield "handovers", (e.id, _sortable(e.at), e.from_staff, e.to_staff)
        for customer in e.customers:
            yield "handover_customers", (e.id, customer)
    elif isinstance(e, JointEvent):
        yield "joint_events", (e.id, _sortable(e.at), e.name)
        for store in e.organisers:
            yield "joint_event_organisers", (e.id, store)
    elif isinstance(e, Void):
        yield "voids", (e.id, e.target, e.reason)
    elif isinstance(e, Staff):
        start = e.from_.isoformat() if e.from_ else ""
        yield (
            "staff_spells",
            (
                recorded.key,
                e.id,
                e.name,
                e.store,
                e.role,
                start,
                e.to.isoformat() if e.to else None,
            ),
        )
    elif isinstance(e, Store):
        yield "stores", (e.id, e.name, e.brand, e.city, e.region, e.mall)
    elif isinstance(e, Brand):
        yield "brands", (e.id, e.name)
    else:
        raise TypeError(f"touches are indexed in bulk, not here: {e.id}")

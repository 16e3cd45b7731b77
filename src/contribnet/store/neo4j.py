"""The production store: Neo4j 5.26 over Bolt, with the official driver.

Every accepted event is an ``(:Event {key, type, hash, payload})`` node — the append-only log —
and is projected into the graph analysts query: ``(:Staff)-[:TOUCHED]->(:Customer)``,
``-[:REFERRED]->``, ``(:Handover)``, ``(:JointEvent)``, ``(:Deal)``, ``(:Activity)``, employment
and organiser relationships. A reference to a staff member, customer or store that has not arrived
yet creates a node holding only its id; the node's own event fills it in. Writes are batched with
``UNWIND``; one batch is one transaction. All Cypher is in ``cypher/schema.cypher`` and
``cypher/store/``.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from itertools import groupby, repeat
from typing import Any
from urllib.parse import unquote, urlsplit

import neo4j
from neo4j import GraphDatabase, Transaction
from pydantic import ValidationError

from contribnet import cypher
from contribnet.domain.errors import ConflictError, NotFound
from contribnet.domain.events import (
    Activity,
    Deal,
    Handover,
    JointEvent,
    LeadAssignment,
    Referral,
    Staff,
    Store,
    Touch,
    Void,
    canonical_json,
)
from contribnet.domain.evidence import STORED
from contribnet.domain.journey import DealJourney, Journey, Page
from contribnet.domain.training import ContributionChanges, ContributionRows
from contribnet.store import neo4j_retry
from contribnet.store.base import (
    IngestResult,
    RecordedEvent,
    StoredEvent,
    assemble_deal_journey,
    read_whole,
    recorded_text,
    staff_view,
)
from contribnet.store.neo4j_audit import Neo4jAudit
from contribnet.store.neo4j_disputes import Neo4jDisputes
from contribnet.store.neo4j_flags import Neo4jFlags
from contribnet.store.neo4j_journeys import deal_journeys, touch_fields
from contribnet.store.neo4j_leads import Neo4jLeads
from contribnet.store.neo4j_ledger import Neo4jLedger
from contribnet.store.neo4j_points import Neo4jPoints
from contribnet.store.neo4j_profiles import Neo4jProfiles

__all__ = ["Neo4jStore", "connect"]

_log = logging.getLogger(__name__)

#: How many times a batch is sent when Neo4j's transaction timeout ends it.
_APPEND_ATTEMPTS = 3

_LIST_TYPES = {"stores": "store", "customers": "customer", "deals": "deal"}

#: The name a schema statement creates (a uniqueness constraint's index bears its name).
_SCHEMA_NAME = re.compile(r"CREATE (?:CONSTRAINT|INDEX) (\w+)")


def connect(url: str) -> tuple[neo4j.Driver, str]:
    """A driver and database name from ``neo4j://user:pass@host:port[/database]``."""
    parts = urlsplit(url)
    auth = (unquote(parts.username or "neo4j"), unquote(parts.password or ""))
    address = f"{parts.scheme}://{parts.hostname}:{parts.port or 7687}"
    database = parts.path.strip("/") or "neo4j"
    # Notifications (e.g. "property key does not exist" on a fresh database) would be logged as
    # warnings on every such query; the queries are checked by the contract tests instead.
    driver = GraphDatabase.driver(
        address,
        auth=auth,
        notifications_min_severity="OFF",
        # A dead or unreachable server fails a request in about 5 s instead of hanging it for a
        # minute (the driver's defaults: 30 s to connect, 60 s to get a connection, 30 s of
        # retries), so the API answers 503 promptly and recovers once the server is back.
        connection_timeout=_CONNECT_SECONDS,
        connection_acquisition_timeout=_ACQUIRE_SECONDS,
        max_transaction_retry_time=_RETRY_SECONDS,
    )
    return driver, database


#: Seconds to open a connection, to get one from the pool (opening included), and to keep
#: retrying a transaction that failed transiently (deadlock, leader switch, lost connection).
#: Writes keep retrying a conflict between transactions (a deadlock) for longer:
#: ``store/neo4j_retry.py``.
_CONNECT_SECONDS = 2.0
_ACQUIRE_SECONDS = 3.0
_RETRY_SECONDS = 2.0


#: How many times a schema statement is sent when a concurrent writer created its rule first.
_SCHEMA_ATTEMPTS = 2

#: The codes Neo4j answers when another transaction created the same schema rule concurrently.
_SCHEMA_RACE_CODES = (
    "EquivalentSchemaRuleAlreadyExists",
    "ConstraintAlreadyExists",
    "IndexAlreadyExists",
)


def _schema_race(exc: neo4j.exceptions.Neo4jError) -> bool:
    """Whether a schema statement failed only because the rule was created meanwhile."""
    return any(code in (exc.code or "") for code in _SCHEMA_RACE_CODES)


class Neo4jStore:
    """The ``Store`` port on Neo4j; its ledger (``ledger``) shares the driver."""

    def __init__(self, url: str) -> None:
        self._driver, self._database = connect(url)
        self._driver.verify_connectivity()
        self.apply_schema()
        self.ledger = Neo4jLedger(self._driver, self._database)
        self.points = Neo4jPoints(self._driver, self._database)
        self.flags = Neo4jFlags(self._driver, self._database)
        self.leads = Neo4jLeads(self._driver, self._database)
        self.audit = Neo4jAudit(self._driver, self._database)
        self.disputes = Neo4jDisputes(self._driver, self._database)
        self.profiles = Neo4jProfiles(self._driver, self._database)

    def apply_schema(self) -> None:
        """Create the schema's constraints and indexes that are missing; safe to race with other
        processes doing the same (every statement is ``IF NOT EXISTS``, and the error Neo4j
        gives the loser of a race to create one rule means it exists)."""
        for statement in cypher.statements("schema"):
            for attempt in range(_SCHEMA_ATTEMPTS):
                try:
                    neo4j_retry.execute(self._driver, self._database, statement)
                    break
                except neo4j.exceptions.ClientError as exc:
                    if not _schema_race(exc):
                        raise
                    if attempt == _SCHEMA_ATTEMPTS - 1:
                        break  # created meanwhile by the other writer: it is there

    def missing_schema(self) -> list[str]:
        """The schema's constraints and indexes that are absent or not online (``/ready``)."""
        wanted = {m[1] for s in cypher.statements("schema") if (m := _SCHEMA_NAME.match(s))}
        records = neo4j_retry.read(
            self._driver, self._database, "SHOW INDEXES YIELD name, state", {}
        )
        online = {r["name"] for r in records if r["state"] == "ONLINE"}
        return sorted(wanted - online)

    def close(self) -> None:
        self._driver.close()

    def _read(self, name: str, **params: Any) -> list[neo4j.Record]:
        return neo4j_retry.read(self._driver, self._database, cypher.load(name), params)

    # --- writes ----------------------------------------------------------------------------

    def stored_hashes(self, keys: Sequence[str]) -> dict[str, str]:
        return {r["key"]: r["hash"] for r in self._read("store/stored_hashes", keys=list(keys))}

    def stored_types(self, ids: Sequence[str]) -> dict[str, str]:
        return {r["id"]: r["type"] for r in self._read("store/stored_types", ids=list(ids))}

    def append(self, events: Sequence[RecordedEvent]) -> IngestResult:
        batch = list(events)
        # Deadlocks with other writers are retried within one budget for all attempts, so
        # that a client hears back (a 503 at worst) within it, not once per attempt.
        deadline = time.monotonic() + neo4j_retry.CONFLICT_RETRY_SECONDS
        for attempt in range(1, _APPEND_ATTEMPTS + 1):
            try:
                accepted: int = neo4j_retry.write(
                    self._driver, self._database, _append, batch, deadline=deadline
                )
                break
            except neo4j.exceptions.ConstraintError:
                # Another writer appended some of these keys between our read of the stored
                # hashes and our write (same new batch from two clients at once). It has
                # committed, so the batch is sent again: the next attempt finds its events and
                # answers them as duplicates, or as a ConflictError if their content differs.
                if attempt == _APPEND_ATTEMPTS:
                    raise
                _log.info("%d events raced another writer; checking them again", len(batch))
            except neo4j.exceptions.ClientError as exc:
                # A batch that outlived the server's transaction timeout was rolled back whole;
                # appending is idempotent, so it is sent again before the caller hears of it.
                # (The stall that made this necessary, a plan cached on an empty graph that
                # scanned an index per key, is prevented by the seek hints in cypher/store/.)
                if attempt == _APPEND_ATTEMPTS or "TransactionTimedOut" not in (exc.code or ""):
                    raise
                _log.warning("%d events timed out in Neo4j; sending them again", len(batch))
        return IngestResult(accepted=accepted, duplicates=len(events) - accepted)

    def bulk_load(self) -> AbstractContextManager[None]:
        # One transaction for millions of events would outgrow the heap: batches commit alone.
        return nullcontext()

    def stored_events(self, keys: Sequence[str]) -> dict[str, StoredEvent]:
        found: dict[str, StoredEvent] = {}
        for r in self._read("store/stored_events", keys=list(dict.fromkeys(keys))):
            received = r["recorded_at"].to_native() if r["recorded_at"] is not None else None
            if r["touch"] is not None:  # a touch's log entry is its relationship
                canonical = _touch_canonical(dict(r["touch"]))
            else:
                canonical = r["payload"].encode()
            found[r["key"]] = StoredEvent(r["key"], r["hash"], canonical, received)
        return found

    def put_api_key(self, digest: str, sealed: str) -> None:
        neo4j_retry.execute(
            self._driver,
            self._database,
            cypher.load("store/put_api_key"),
            {"digest": digest, "sealed": sealed},
        )

    def find_api_key(self, digest: str) -> str | None:
        rows = self._read("store/find_api_key", digest=digest)
        return str(rows[0]["sealed"]) if rows else None

    def api_keys(self) -> list[dict[str, Any]]:
        keys = []
        for row in self._read("store/api_keys"):
            if row["sealed"] is not None:
                keys.append({"digest": row["digest"], "sealed": row["sealed"]})
            else:  # written before keys were peppered
                keys.append({k: v for k, v in dict(row).items() if k not in ("digest", "sealed")})
        return keys

    def replace_api_keys(self, changes: Sequence[tuple[str, str, str]]) -> None:
        neo4j_retry.execute(
            self._driver,
            self._database,
            cypher.load("store/replace_api_keys"),
            {"changes": [{"old": o, "digest": d, "sealed": s} for o, d, s in changes]},
        )

    # --- reads -----------------------------------------------------------------------------

    def count_events(self) -> dict[str, int]:
        return {r["type"]: r["count"] for r in self._read("store/count_events")}

    def event_count(self) -> int:
        return int(self._read("store/event_count")[0]["count"])

    def _payloads(self, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        rows = self._read("store/payloads", keys=list(keys))
        return {r["key"]: json.loads(r["payload"]) for r in rows}

    def journey(self, customer_id: str) -> Journey:
        (row,) = self._read("store/journey_items", customer=customer_id)
        if not row["known"]:  # any reference to a customer makes its node
            raise NotFound("customer", customer_id)

        def recorded(item: dict[str, Any]) -> dict[str, Any]:
            return {
                **json.loads(item["payload"]),
                "voided": item["voided"],
                "recorded_at": _received_text(item["recorded_at"]),
            }

        def items(kind: str, time_field: str) -> list[dict[str, Any]]:
            if kind == "touches":
                found = [
                    {
                        **_touch_payload(touch),
                        "voided": bool(touch["voided"]),
                        "recorded_at": _received_text(touch.get("recorded_at")),
                    }
                    for touch in row["touches"]
                ]
            else:
                found = [recorded(item) for item in row[kind]]
            return sorted(found, key=lambda i: (datetime.fromisoformat(i[time_field]), i["id"]))

        customer = row["customer"]
        return Journey(
            customer=json.loads(customer["payload"]) if customer is not None else None,
            touches=items("touches", "at"),
            referrals=items("referrals", "at"),
            handovers=items("handovers", "at"),
            joint_events=items("joint_events", "at"),
            deals=items("deals", "closed_at"),
            lead_assignments=items("lead_assignments", "at"),
        )

    def deal_journey(self, deal_id: str) -> Any:
        rows = self._read("store/deal_state", id=deal_id)
        if not rows or rows[0]["voided"]:
            raise NotFound("deal", deal_id)
        deal = Deal.model_validate_json(rows[0]["payload"])
        return assemble_deal_journey(
            deal, self.journey(deal.customer), self._staff_spells, self._stores
        )

    def deal_journeys(self, deal_ids: Sequence[str]) -> dict[str, DealJourney]:
        return deal_journeys(self._driver, self._database, deal_ids)

    def _staff_spells(self, ids: Sequence[str]) -> dict[str, tuple[Staff, ...]]:
        rows = self._read("store/staff_spells", ids=list(ids))
        return {
            staff: tuple(Staff.model_validate_json(r["payload"]) for r in group)
            for staff, group in groupby(rows, key=lambda r: r["staff"])
        }

    def _stores(self, ids: Sequence[str]) -> dict[str, Store]:
        return {
            key: Store.model_validate(payload)
            for key, payload in self._payloads(ids).items()
            if payload.get("type") == "store"
        }

    def contribution_paths(
        self,
    ) -> Iterator[tuple[tuple[tuple[datetime, str], ...], tuple[datetime, ...]]]:
        parse = datetime.fromisoformat
        with self._driver.session(database=self._database, default_access_mode="READ") as session:
            for items, closes in session.run(cypher.load("store/contribution_paths")):
                yield (
                    tuple((parse(at), stage) for at, stage in items),
                    tuple(map(parse, closes)),
                )

    def contribution_rows(self) -> ContributionRows:
        # Neo4j reads are read-committed: the one query sees writers commit as it goes. The
        # customers those writers changed are read again as of the last of them, so that the
        # rows are all as of one mark (contribution_changes).
        first = self._last_commit()
        rows = _RowsRead()
        with self._driver.session(database=self._database, default_access_mode="READ") as session:
            for record in session.run(cypher.load("store/contribution_rows")):
                rows.add(*record)
        last = self._last_commit()
        if last != first:
            changed, _ = self._changed(first, last)
            rows = rows.without(set(changed))
            self._read_as_of(rows, changed, last)
        return rows.as_of(last)

    def contribution_changes(self, after: int) -> ContributionChanges | None:
        # Writers number their transactions in commit order (store/commit_batch.cypher): what
        # a reader that has seen up to one number has not seen is the transactions after it.
        last = self._last_commit()
        if after > last:
            return None
        before, now = _RowsRead(), _RowsRead()
        if after == last:
            return ContributionChanges(last, before.as_of(after), now.as_of(last))
        changed, events = self._changed(after, last)
        if read_whole(events, self.event_count()):
            return None
        self._read_as_of(before, changed, after)
        self._read_as_of(now, changed, last)
        return ContributionChanges(last, before.as_of(after), now.as_of(last))

    def _last_commit(self) -> int:
        # It waits on the counter's lock like a writer, so Neo4j may pick it as a deadlock's
        # victim (seen under three racing writers): run again, as writes are.
        return neo4j_retry.write(self._driver, self._database, _last_commit, commit=False)

    def _changed(self, after: int, last: int) -> tuple[list[str], int]:
        """The customers the writes numbered after ``after`` up to ``last`` changed, and how
        many events they recorded."""
        (row,) = self._read("store/changed_customers", after=after, last=last)
        return list(row["customers"]), int(row["events"])

    def _read_as_of(self, rows: _RowsRead, customers: Sequence[str], mark: int) -> None:
        for i in range(0, len(customers), _AS_OF_PART):
            part = list(customers[i : i + _AS_OF_PART])
            for record in self._read("store/contribution_rows_as_of", customers=part, mark=mark):
                rows.add(*record)

    def saved_tally(self, key: str) -> tuple[int, str] | None:
        found = self._read("store/saved_tally", key=key)
        return (int(found[0]["mark"]), str(found[0]["tally"])) if found else None

    def save_tally(self, key: str, mark: int, text: str) -> None:
        neo4j_retry.execute(
            self._driver,
            self._database,
            cypher.load("store/save_tally"),
            {"key": key, "mark": mark, "tally": text},
        )

    def get(self, kind: str, id: str) -> dict[str, Any]:
        if kind == "staff":
            spells = self._staff_spells([id]).get(id)
            if not spells:
                raise NotFound("staff", id)
            return staff_view(id, spells)
        payload = self._payloads([id]).get(id)
        if payload is None or payload.get("type") != kind:
            raise NotFound(kind, id)
        if kind == "deal":
            payload["voided"] = bool(self._read("store/deal_state", id=id)[0]["voided"])
        return payload

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
            filters = {
                "store": store,
                "staff": staff,
                "start": start.astimezone(UTC) if start else None,
                "end": end.astimezone(UTC) if end else None,
            }
            total = self._read("store/count_deals", **filters)[0]["total"]
            rows = self._read("store/list_deals", offset=offset, limit=limit, **filters)
            items = [{**json.loads(r["payload"]), "voided": r["voided"]} for r in rows]
            return Page(items=items, offset=offset, limit=limit, total=total)
        if kind == "staff":
            total = self._read("store/count_staff")[0]["total"]
            ids = [r["id"] for r in self._read("store/list_staff", offset=offset, limit=limit)]
            spells = self._staff_spells(ids)
            items = [staff_view(i, spells[i]) for i in ids]
        else:
            type_ = _LIST_TYPES[kind]
            total = self._read("store/count_type", type=type_)[0]["total"]
            rows = self._read("store/list_events", type=type_, offset=offset, limit=limit)
            items = [
                {**json.loads(r["payload"]), **({"voided": r["voided"]} if type_ == "deal" else {})}
                for r in rows
            ]
        return Page(items=items, offset=offset, limit=limit, total=total)


#: Customers per read of rows as of a mark.
_AS_OF_PART = 1_000


def _last_commit(tx: Transaction) -> int:
    return int(tx.run(cypher.load("store/last_commit")).single(strict=True)["last"])


class _RowsRead:
    """``ContributionRows`` gathered from the rows of ``store/contribution_rows`` (one a
    customer: their items' instants and stages, their deals' closes)."""

    def __init__(self) -> None:
        self.customers: list[str] = []
        self.at: list[int] = []
        self.stages: list[str] = []
        self.deal_customers: list[str] = []
        self.closes: list[int] = []

    def add(self, customer: str, at: list[int], stages: list[str], closes: list[int]) -> None:
        self.customers.extend(repeat(customer, len(at)))
        self.at.extend(at)
        self.stages.extend(stages)
        self.deal_customers.extend(repeat(customer, len(closes)))
        self.closes.extend(closes)

    def without(self, customers: set[str]) -> _RowsRead:
        """These rows less those of ``customers``."""
        kept = _RowsRead()
        items = [i for i, c in enumerate(self.customers) if c not in customers]
        deals = [j for j, c in enumerate(self.deal_customers) if c not in customers]
        kept.customers = [self.customers[i] for i in items]
        kept.at = [self.at[i] for i in items]
        kept.stages = [self.stages[i] for i in items]
        kept.deal_customers = [self.deal_customers[j] for j in deals]
        kept.closes = [self.closes[j] for j in deals]
        return kept

    def as_of(self, mark: int) -> ContributionRows:
        return ContributionRows(
            self.customers, self.at, self.stages, self.deal_customers, self.closes, mark
        )


# --- the write transaction ---------------------------------------------------------------------


def _append(tx: Transaction, events: list[RecordedEvent]) -> int:
    """Check for conflicts, then log and project the new events; all in one transaction.

    Every write is consumed where it is sent, so that a statement Neo4j refuses raises its own
    error there -- a ``ConstraintError`` when a concurrent writer appended the same keys, which
    ``append`` answers by checking the batch again -- not the driver's ``ResultFailedError``
    (a ``DriverError``: a 503) at the next statement of the transaction."""
    keys = [e.key for e in events]
    stored = {r["key"]: r["hash"] for r in tx.run(cypher.load("store/stored_hashes"), keys=keys)}
    conflicts = [e.key for e in events if stored.get(e.key, e.hash) != e.hash]
    if conflicts:
        raise ConflictError(conflicts)
    new = [e for e in events if e.key not in stored]
    if not new:
        return 0
    voidable = [
        e.key
        for e in new
        if isinstance(
            e.event, (Touch, Referral, Deal, Handover, JointEvent, Activity, LeadAssignment)
        )
    ]
    voided = {r["id"] for r in tx.run(cypher.load("store/voided_targets"), ids=voidable)}
    voided |= {e.event.target for e in new if isinstance(e.event, Void)}

    logged = [
        {
            "key": e.key,
            "type": e.event.type,
            "hash": e.hash,
            "payload": e.canonical.decode(),
            "recorded_at": _iso(e.recorded_at),
        }
        | ({"target": e.event.target} if isinstance(e.event, Void) else {})
        for e in new
        if not isinstance(e.event, Touch)  # a touch's log entry is its relationship
    ]
    batch = uuid.uuid4().hex
    if logged:
        tx.run(cypher.load("store/append_events"), rows=logged, batch=batch).consume()
    by_type: dict[str, list[Any]] = defaultdict(list)
    for recorded in new:
        by_type[recorded.event.type].append(recorded)
    by_type["staff"].sort(key=lambda r: r.key)  # spells in order, so the latest one shows
    _merge_referenced_nodes(tx, new)
    for type_, query, to_row in _PROJECTIONS:
        if by_type.get(type_):
            rows = [to_row(r, voided) for r in by_type[type_]]
            tx.run(cypher.load(query), rows=rows, batch=batch).consume()
    targets = [e.event.target for e in new if isinstance(e.event, Void)]
    if targets:
        tx.run(cypher.load("store/apply_voids"), targets=targets).consume()
    customers = sorted(_contributors(new))
    if customers or targets:  # else no learned-model input changed: no number, no wait for one
        tx.run(
            cypher.load("store/commit_batch"),
            batch=batch,
            events=len(new),
            customers=customers,
            targets=targets,
        ).consume()
    return len(new)


def _contributors(events: Sequence[RecordedEvent]) -> set[str]:
    """The customers whose learned-model inputs these events change: by a touch, a referral, a
    handover or a deal of theirs (voids' targets are found in ``store/commit_batch``)."""
    customers: set[str] = set()
    for recorded in events:
        e = recorded.event
        if isinstance(e, (Touch, Referral, Deal)):
            customers.add(e.customer)
        elif isinstance(e, Handover):
            customers.update(e.customers)
    return customers


def _touch_payload(properties: dict[str, Any]) -> dict[str, Any]:
    """A touch's canonical JSON, rebuilt from its relationship's properties."""
    return dict(
        json.loads(canonical_json(Touch.model_validate(touch_fields(properties), context=STORED)))
    )


def _touch_canonical(properties: dict[str, Any]) -> bytes:
    """A touch's canonical JSON as its relationship holds it now; properties edited into
    something that is no touch give their own JSON text (which matches no content hash)."""
    fields = touch_fields(properties)
    if hasattr(fields.get("at"), "to_native"):
        fields["at"] = fields["at"].to_native()
    try:
        # evidence as stored: an earlier version's blob rebuilds to what was hashed too
        return canonical_json(Touch.model_validate(fields, context=STORED))
    except ValidationError:
        return json.dumps(fields, default=str, sort_keys=True).encode()


def _received_text(value: str | None) -> str | None:
    """A received time read from Neo4j as ISO text (null before they were kept)."""
    return recorded_text(datetime.fromisoformat(value)) if value is not None else None


def _merge_referenced_nodes(tx: Transaction, events: Sequence[RecordedEvent]) -> None:
    staff: set[str] = set()
    customers: set[str] = set()
    for recorded in events:
        e = recorded.event
        if isinstance(e, Touch):
            staff.add(e.staff)
            customers.add(e.customer)
        elif isinstance(e, Referral):
            customers.add(e.customer)
            if e.referrer_staff:
                staff.add(e.referrer_staff)
            if e.referrer_customer:
                customers.add(e.referrer_customer)
        elif isinstance(e, Handover):
            staff.update((e.from_staff, e.to_staff))
            customers.update(e.customers)
        elif isinstance(e, Deal):
            staff.add(e.staff)
            customers.add(e.customer)
        elif isinstance(e, Activity):
            staff.add(e.staff)
            if e.customer:
                customers.add(e.customer)
        elif isinstance(e, LeadAssignment):
            customers.add(e.lead)
            if e.staff:
                staff.add(e.staff)
    if staff or customers:
        tx.run(
            cypher.load("store/merge_nodes"), staff=sorted(staff), customers=sorted(customers)
        ).consume()


def _iso(at: datetime | None) -> str | None:
    """An instant as the write queries take it: ISO 8601 text, made into a DateTime by Cypher's
    ``datetime()``. The Python driver packs a DateTime parameter in ~60 us of CPU, most of the
    client's time in a batch of touches, activities and their log entries; text costs nothing."""
    return at.isoformat() if at is not None else None


def _instants_as_text(row: dict[str, Any]) -> dict[str, Any]:
    for name, value in row.items():
        if isinstance(value, datetime):
            row[name] = value.isoformat()
    return row


def _fields(recorded: RecordedEvent, voided: set[str]) -> dict[str, Any]:
    row = recorded.event.model_dump(by_alias=True, exclude={"type"})
    row["voided"] = recorded.key in voided
    return _instants_as_text(row)


def _touch_row(recorded: RecordedEvent, voided: set[str]) -> list[Any]:
    """A touch as the positional row ``project_touches`` takes: lists cost the server less to
    read than maps, and touches are most of the stream."""
    t = recorded.event
    assert isinstance(t, Touch)
    evidence = None
    if t.evidence is not None:  # keys in the order sent, as hashed: the touch's JSON rebuilds
        evidence = json.dumps(t.evidence, ensure_ascii=False)
    return [
        t.id,
        recorded.hash,
        t.at.isoformat(),
        t.customer,
        t.staff,
        t.store,
        t.stage,
        t.channel,
        t.joint_event,
        evidence,
        recorded.key in voided,
        _iso(recorded.recorded_at),  # the received time: a touch's log entry is its relationship
    ]


def _staff_row(recorded: RecordedEvent, voided: set[str]) -> dict[str, Any]:
    row = recorded.event.model_dump(by_alias=True, exclude={"type"})
    row["key"] = recorded.key
    return row


def _activity_row(recorded: RecordedEvent, voided: set[str]) -> dict[str, Any]:
    """An activity's projected fields (its evidence stays in its log entry)."""
    row = recorded.event.model_dump(exclude={"type", "evidence"})
    row["voided"] = recorded.key in voided
    return _instants_as_text(row)


def _plain_row(recorded: RecordedEvent, voided: set[str]) -> dict[str, Any]:
    return recorded.event.model_dump(by_alias=True, exclude={"type"})


_PROJECTIONS = (
    ("brand", "store/project_brands", _plain_row),
    ("store", "store/project_stores", _plain_row),
    ("staff", "store/project_staff", _staff_row),
    ("customer", "store/project_customers", _plain_row),
    ("touch", "store/project_touches", _touch_row),
    ("referral", "store/project_referrals", _fields),
    ("handover", "store/project_handovers", _fields),
    ("joint_event", "store/project_joint_events", _fields),
    ("deal", "store/project_deals", _fields),
    ("activity", "store/project_activities", _activity_row),
    ("lead_assignment", "store/project_lead_assignments", _fields),
)

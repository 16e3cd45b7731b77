"""Ingest: validate events whole, then append them idempotently to a store.

A batch is all-or-nothing: any invalid event rejects it with every problem listed (index, id,
field), and an id re-used with other content rejects it with a conflict. Re-sending an event with
identical content is a duplicate and changes nothing.

Every event is stored with ``recorded_at``: when the service received its batch (UTC; for a file,
when that batch of the file was written). It is the service's, not the sender's: an event that
carries one is refused naming the field, and it is no part of the content hash, so a re-sent
event is still a duplicate (the first ``recorded_at`` stays).

Files (JSON Lines, a ``{"events": [...]}`` document, or CSV) are all-or-nothing too. On SQLite a
file is read once inside one transaction, undone if any line fails; on Neo4j it is read twice: the
first pass checks every line and every id against the store and against the rest of the file, the
second appends in batches.
"""

from __future__ import annotations

import csv
import hashlib
import multiprocessing
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import numpy as np
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from contribnet import metrics
from contribnet.domain import strict_json
from contribnet.domain.audit import event_targets
from contribnet.domain.errors import ConflictError, FieldError, InvalidEvents
from contribnet.domain.events import (
    DEFAULT_ACTIONS,
    DEFAULT_STAGES,
    MAX_BATCH,
    MONEY_FIELDS,
    VOIDABLE_TYPES,
    Activity,
    Event,
    Handover,
    JointEvent,
    Touch,
    Void,
    canonical_json,
    event_hash,
    event_key,
)
from contribnet.domain.limits import MAX_JSON_DEPTH, MAX_LINKS_PER_BATCH
from contribnet.services import audit
from contribnet.store.base import BulkLoad, IngestResult, RecordedEvent, Store

__all__ = [
    "PARALLEL_BYTES",
    "RECEIVED_FIELD",
    "ingest_body",
    "ingest_events",
    "ingest_file",
    "ingest_stream",
    "read_event_file",
    "validate_events",
]


_T = TypeVar("_T")


class _Body(BaseModel):
    events: list[Event] = Field(max_length=MAX_BATCH)


_body_adapter = TypeAdapter(_Body)
_list_adapter: TypeAdapter[list[Event]] = TypeAdapter(list[Event])

#: When the service received an event: stored beside it, set by the service, never sent.
RECEIVED_FIELD = "recorded_at"
_RECEIVED_REFUSED = (
    "recorded_at is set by the service when it receives the event (UTC) and may not be sent; "
    "remove it (the time the contribution happened is 'at')"
)

_LIST_FIELDS = {"customers", "organisers"}
_JSON_FIELDS = {"evidence"}


def _field_errors(exc: ValidationError, raw: Sequence[Any], offset: int = 0) -> list[FieldError]:
    """One ``FieldError`` per problem pydantic found in a list of events.

    pydantic locates an error as ``(index, type tag, field...)``; a bad or missing tag is an error
    of the ``type`` field itself.
    """
    errors = []
    for err in exc.errors(include_url=False):
        loc = list(err["loc"])
        if loc and loc[0] == "events":
            loc = loc[1:]
        if not loc or not isinstance(loc[0], int):
            errors.append(FieldError(offset, None, "events", err["msg"]))
            continue
        index, rest = loc[0], loc[1:]
        if rest and rest[0] == _type_of(raw, index):
            rest = rest[1:]
        if rest:
            field = ".".join(str(part) for part in rest)
        elif err["type"].startswith("union_tag"):
            field = "type"
        else:
            field = "event"
        message = err["msg"]
        if field == RECEIVED_FIELD and err["type"] == "extra_forbidden":
            message = _RECEIVED_REFUSED
        errors.append(FieldError(offset + index, _id_of(raw, index), field, message))
    return errors


def _type_of(raw: Sequence[Any], index: int) -> object:
    item = raw[index] if index < len(raw) else None
    return item.get("type") if isinstance(item, dict) else None


def _id_of(raw: Sequence[Any], index: int) -> str | None:
    item = raw[index] if index < len(raw) else None
    value = item.get("id") if isinstance(item, dict) else None
    return str(value) if value is not None else None


def _check_stages(
    events: Sequence[Event],
    stages: Sequence[str],
    offset: int,
    actions: Sequence[str] = DEFAULT_ACTIONS,
) -> list[FieldError]:
    """A touch's ``stage`` and an activity's ``action`` must be of the configured vocabularies."""
    allowed = frozenset(stages)
    allowed_actions = frozenset(actions)
    errors = []
    for i, e in enumerate(events):
        if isinstance(e, Touch) and e.stage not in allowed:
            message = f"unknown stage {e.stage!r}; allowed: {', '.join(stages)}"
            errors.append(FieldError(offset + i, e.id, "stage", message))
        elif isinstance(e, Activity) and e.action not in allowed_actions:
            message = f"unknown action {e.action!r}; allowed: {', '.join(actions)}"
            errors.append(FieldError(offset + i, e.id, "action", message))
    return errors


def _record(
    events: Sequence[Event], received: datetime | None = None
) -> tuple[list[RecordedEvent], int, list[str]]:
    """Key and hash each event, received at ``received``; merge exact repeats within the batch,
    report re-used ids."""
    seen: dict[str, RecordedEvent] = {}
    repeats = 0
    conflicts: list[str] = []
    for event in events:
        canonical = canonical_json(event)
        recorded = RecordedEvent(
            event_key(event), event, canonical, event_hash(canonical), received
        )
        earlier = seen.get(recorded.key)
        if earlier is None:
            seen[recorded.key] = recorded
        elif earlier.hash == recorded.hash:
            repeats += 1
        else:
            conflicts.append(recorded.key)
    return list(seen.values()), repeats, conflicts


def _check_sizes(raw: Sequence[Any], offset: int = 0) -> None:
    """Refuse a batch over ``MAX_BATCH`` events or ``MAX_LINKS_PER_BATCH`` customer and organiser
    links before any event is validated (``domain/limits.py``)."""
    if len(raw) > MAX_BATCH:
        raise InvalidEvents(
            [FieldError(offset, None, "events", f"at most {MAX_BATCH:,} events a batch")]
        )
    links = sum(
        len(value)
        for item in raw
        if isinstance(item, dict)
        for name in _LIST_FIELDS
        if isinstance(value := item.get(name), list)
    )
    if links > MAX_LINKS_PER_BATCH:
        message = (
            f"{links:,} handover customers and joint-event organisers in one batch; the limit "
            f"is {MAX_LINKS_PER_BATCH:,}: send them in smaller batches"
        )
        raise InvalidEvents([FieldError(offset, None, "events", message)])


def validate_events(
    raw: Sequence[Any],
    stages: Sequence[str] = DEFAULT_STAGES,
    offset: int = 0,
    actions: Sequence[str] = DEFAULT_ACTIONS,
) -> list[Event]:
    """Validate a list of event dicts; raises ``InvalidEvents`` listing every problem."""
    _check_sizes(raw, offset)
    try:
        events = _list_adapter.validate_python(raw)
    except ValidationError as exc:
        raise InvalidEvents(_field_errors(exc, raw, offset)) from None
    errors = _check_stages(events, stages, offset, actions)
    if errors:
        raise InvalidEvents(errors)
    return events


def _void_target_errors(store: Store, events: Sequence[Event], offset: int = 0) -> list[FieldError]:
    """Voids may retract only activity events (``VOIDABLE_TYPES``): a void of a void, or of a
    customer, store, brand or staff id, is refused when its target's type is known -- from this
    batch or from the store. A void whose target is not recorded yet is accepted; if the target
    arrives later as an entity or a void it is recorded and the void stays inert (voids only ever
    hide activity events), so the late event is never refused for what another event said."""
    return _void_targets(store, events, offset)[0]


def _void_targets(
    store: Store, events: Sequence[Event], offset: int = 0
) -> tuple[list[FieldError], list[tuple[int, Void]]]:
    """:func:`_void_target_errors`, and the voids (with their index in ``events``) whose target
    is neither in this batch nor recorded."""
    errors, unresolved = _voids_within(events, offset)
    if not unresolved:
        return errors, []
    types = store.stored_types(sorted({v.target for _, v in unresolved}))
    errors += [
        FieldError(offset + i, v.id, "target", _not_voidable(v.target, types[v.target]))
        for i, v in unresolved
        if v.target in types and types[v.target] not in VOIDABLE_TYPES
    ]
    errors.sort(key=lambda e: e.index)
    return errors, [(i, v) for i, v in unresolved if v.target not in types]


def _voids_within(
    events: Sequence[Event], offset: int = 0
) -> tuple[list[FieldError], list[tuple[int, Void]]]:
    """The voids of a batch refused by what the batch itself says their target is, and those
    (with their index) whose target is not in the batch: the store may know it."""
    voids = [(i, e) for i, e in enumerate(events) if isinstance(e, Void)]
    if not voids:
        return [], []
    known = {e.id: e.type for e in events}
    errors = [
        FieldError(offset + i, v.id, "target", _not_voidable(v.target, known[v.target]))
        for i, v in voids
        if v.target in known and known[v.target] not in VOIDABLE_TYPES
    ]
    return errors, [(i, v) for i, v in voids if v.target not in known]


def _not_voidable(target: str, kind: str) -> str:
    allowed = ", ".join(sorted(VOIDABLE_TYPES))
    return f"{target!r} is a {kind} event, which cannot be voided (only {allowed})"


def _voids_of_earlier_entities(
    path: Path, pending: dict[str, list[tuple[int, str]]], batch_size: int
) -> list[FieldError]:
    """The voids of ``pending`` (target -> ``(line, void id)``: not recorded when their batch
    was checked) whose target is an entity or a void on an earlier line of the file. Appending
    batch by batch would refuse them only after the earlier batches were committed, so the
    check refuses them first, naming the void's line."""
    errors: list[FieldError] = []
    for lines, raw, _ in _batches(path, batch_size):
        for line, event in zip(lines, raw, strict=True):
            ident = event.get("id") if isinstance(event, dict) else None
            found = pending.get(ident) if isinstance(ident, str) else None
            kind = event.get("type") if found else None
            if not found or kind in VOIDABLE_TYPES:
                continue
            errors.extend(
                FieldError(at - 1, void, "target", _not_voidable(event["id"], str(kind)), line=at)
                for at, void in found
                if line < at
            )
    return sorted(errors, key=lambda e: e.line or 0)


def _received() -> datetime:
    """When the service received a batch: the ``recorded_at`` of its events (UTC)."""
    return datetime.now(UTC)


#: Who wrote events when no caller is named (the demo loader, a trusted stream).
SYSTEM = "system"


def _append(store: Store, events: Sequence[Event], requested_by: str = SYSTEM) -> IngestResult:
    bad_voids = _void_target_errors(store, events)
    if bad_voids:
        metrics.count_events((e.type for e in events), "rejected")
        raise InvalidEvents(bad_voids)
    received = _received()
    recorded, repeats, conflicts = _record(events, received)
    if conflicts:
        metrics.count_events((e.type for e in events), "rejected")
        raise ConflictError(conflicts)
    with audit.unit(store):
        result = store.append(recorded)
        if result.accepted:
            _audit(store, _written(store, recorded, result.accepted, received), requested_by)
    metrics.count_ingest(
        metrics.tally(e.type for e in events), result.accepted, result.duplicates + repeats
    )
    return IngestResult(result.accepted, result.duplicates + repeats)


def _written(
    store: Store, recorded: Sequence[RecordedEvent], accepted: int, received: datetime
) -> list[Event]:
    """The events of a batch that this append wrote: all of them, unless some were duplicates --
    then those the store holds with this batch's received time (a duplicate keeps its first)."""
    if accepted == len(recorded):
        return [r.event for r in recorded]
    held = store.stored_events([r.key for r in recorded])
    return [
        r.event
        for r in recorded
        if (at := held[r.key].recorded_at) is not None and at.astimezone(UTC) == received
    ]


def _audit(store: Store, written: Sequence[Event], requested_by: str) -> None:
    """One audit entry for the events written, one for the voids (with their reasons)."""
    _record_audit(store, requested_by, _AuditTargets.of(written))


class _AuditTargets(NamedTuple):
    """What a batch's audit entries name: the records the events other than voids touch, those
    the voids touch, and the voids' reasons."""

    written: list[str]
    voided: list[str]
    reasons: str | None

    @classmethod
    def of(cls, events: Sequence[Event]) -> _AuditTargets:
        voids = [e for e in events if isinstance(e, Void)]
        others = [e for e in events if not isinstance(e, Void)]
        reasons = "; ".join(dict.fromkeys(v.reason for v in voids)) if voids else None
        return cls(event_targets(others), event_targets(voids), reasons)


def _record_audit(store: Store, requested_by: str, targets: _AuditTargets) -> None:
    if targets.written:
        audit.record(store, "event_written", requested_by, targets.written)
    if targets.voided:
        audit.record(store, "event_voided", requested_by, targets.voided, targets.reasons)


def ingest_events(
    store: Store,
    raw: Sequence[Any],
    stages: Sequence[str] = DEFAULT_STAGES,
    actions: Sequence[str] = DEFAULT_ACTIONS,
    *,
    requested_by: str = SYSTEM,
) -> IngestResult:
    """Validate and append one batch of event dicts (at most ``MAX_BATCH``); ``requested_by``
    is who the audit trail names."""
    return _append(store, validate_events(raw, stages, actions=actions), requested_by)


def ingest_body(
    store: Store,
    body: bytes,
    stages: Sequence[str] = DEFAULT_STAGES,
    actions: Sequence[str] = DEFAULT_ACTIONS,
    *,
    requested_by: str = SYSTEM,
) -> IngestResult:
    """Validate and append the raw JSON body of ``POST /v1/events`` (``{"events": [...]}``).

    The body is parsed once, strictly (``domain/strict_json.py``: duplicate keys and nesting
    past ``MAX_JSON_DEPTH`` refused), its sizes checked (events, links), then validated.
    """
    try:
        document = strict_json.loads(body)
    except strict_json.JsonRefused as exc:
        raise InvalidEvents([FieldError(0, None, exc.field, exc.message)]) from None
    raw = document.get("events") if isinstance(document, dict) else None
    if not isinstance(raw, list):
        raise InvalidEvents([FieldError(0, None, "events", 'the body must be {"events": [...]}')])
    _check_sizes(raw)
    try:
        events = _body_adapter.validate_python(document).events
    except ValidationError as exc:
        metrics.count_events(
            (e.get("type") if isinstance(e, dict) else None for e in raw), "rejected"
        )
        raise InvalidEvents(_field_errors(exc, raw)) from None
    errors = _check_stages(events, stages, 0, actions)
    if errors:
        metrics.count_events((e.type for e in events), "rejected")
        raise InvalidEvents(errors)
    return _append(store, events, requested_by)


def ingest_stream(
    store: Store,
    events: Iterable[dict[str, Any]],
    batch_size: int = MAX_BATCH,
    progress: bool = False,
    stages: Sequence[str] = DEFAULT_STAGES,
    total: int | None = None,
    actions: Sequence[str] = DEFAULT_ACTIONS,
) -> IngestResult:
    """Append a stream of trusted event dicts (e.g. the demo generator) in batches.

    Each batch is all-or-nothing; a bad event stops the stream at its batch, with the index in
    the stream named.
    """
    result = IngestResult()
    with _progress(progress, "Loading events", total) as advance:
        batch: list[dict[str, Any]] = []
        offset = 0
        for event in events:
            batch.append(event)
            if len(batch) >= batch_size:
                result += _append(store, validate_events(batch, stages, offset, actions))
                offset += len(batch)
                advance(len(batch))
                batch = []
        if batch:
            result += _append(store, validate_events(batch, stages, offset, actions))
            advance(len(batch))
    return result


# --- files ---------------------------------------------------------------------------------


def read_event_file(path: Path) -> Iterator[tuple[int, Any]]:
    """Yield ``(line_number, event_dict_or_error)`` from JSON Lines, a JSON document or CSV.

    A line that is not JSON yields a ``FieldError`` in place of the dict.
    """
    for number, item in _read_items(path):
        yield number, _parsed(number, item)


def _read_items(path: Path) -> Iterator[tuple[int, Any]]:
    """:func:`read_event_file` with a JSON Lines file's lines left as their bytes, to be parsed
    (:func:`_parsed`) where the batch is made ready -- in a worker, for a big file."""
    if _is_json_lines(path):
        with path.open("rb") as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    yield number, line
    elif path.suffix.lower() == ".csv":
        yield from _read_csv(path)
    else:
        yield from _read_json_document(path.read_bytes())


def _is_json_lines(path: Path) -> bool:
    """Whether ``path`` is JSON Lines: not CSV, and not a ``.json`` file holding one document."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return False
    with path.open("rb") as handle:
        first = handle.read(1)
        while first in (b" ", b"\n", b"\r", b"\t"):
            first = handle.read(1)
    return not (first == b"{" and suffix == ".json")


class _Lines(NamedTuple):
    """Consecutive lines of a JSON Lines file, the first of them numbered ``first``: sent to a
    worker as they were read, and numbered there."""

    first: int
    lines: list[bytes]


def _numbered(batch: _Lines | list[tuple[int, Any]]) -> list[tuple[int, Any]]:
    """A batch's items, ``(line number, line or item)``; of JSON Lines, the lines not blank."""
    if isinstance(batch, _Lines):
        return [(n, line) for n, line in enumerate(batch.lines, batch.first) if line.strip()]
    return batch


def _parsed(number: int, item: Any) -> Any:
    """A JSON Lines line (bytes) parsed strictly -- a repeated key or nesting past
    ``MAX_JSON_DEPTH`` names the line -- or an item already parsed, as it is."""
    if not isinstance(item, bytes):
        return item
    try:
        return strict_json.loads(item)
    except strict_json.JsonRefused as exc:
        field = "line" if exc.field == "body" else exc.field
        return FieldError(number - 1, None, field, exc.message, line=number)


def _read_json_document(data: bytes) -> Iterator[tuple[int, Any]]:
    try:
        document = strict_json.loads(data)
    except strict_json.JsonRefused as exc:
        line = exc.line or 1
        yield line, FieldError(0, None, exc.field, exc.message, line=line)
        return
    events = document.get("events") if isinstance(document, dict) else None
    if not isinstance(events, list):
        yield 1, FieldError(0, None, "events", 'a JSON document must be {"events": [...]}', line=1)
        return
    # A JSON document has no line per event; the event's position stands in for it.
    yield from enumerate(events, start=1)


def _read_csv(path: Path) -> Iterator[tuple[int, Any]]:
    """CSV with a header of field names; lists (customers, organisers) are ``;``-separated,
    ``evidence`` is JSON (one item or a list), an empty cell is an absent field."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            number = reader.line_num
            event: dict[str, Any] = {}
            try:
                for name, value in row.items():
                    if name is None or value is None or value == "":
                        continue
                    if name in _LIST_FIELDS:
                        event[name] = [v.strip() for v in value.split(";") if v.strip()]
                    elif name in _JSON_FIELDS:
                        event[name] = strict_json.loads(value)
                    elif name in MONEY_FIELDS and value.isascii() and value.isdigit():
                        # CSV has no numbers, only text: whole fen become integers; anything
                        # else stays text, which the event model refuses naming the field
                        event[name] = int(value)
                    else:
                        event[name] = value
            except strict_json.JsonRefused as exc:  # not JSON, a repeated key, too deep
                yield (
                    number,
                    FieldError(number - 1, row.get("id"), "evidence", exc.message, line=number),
                )
                continue
            yield number, event


def _batches(path: Path, size: int) -> Iterator[tuple[list[int], list[Any], list[FieldError]]]:
    lines: list[int] = []
    raw: list[Any] = []
    bad: list[FieldError] = []
    for number, item in read_event_file(path):
        if isinstance(item, FieldError):
            bad.append(item)
            continue
        lines.append(number)
        raw.append(item)
        if len(raw) >= size:
            yield lines, raw, bad
            lines, raw, bad = [], [], []
    if raw or bad:
        yield lines, raw, bad


def _with_lines(
    errors: Iterable[FieldError], lines: Sequence[int], offset: int
) -> list[FieldError]:
    return [
        FieldError(e.index, e.id, e.field, e.message, line=lines[e.index - offset]) for e in errors
    ]


def ingest_file(
    store: Store,
    path: Path,
    stages: Sequence[str] = DEFAULT_STAGES,
    batch_size: int = MAX_BATCH,
    progress: bool = False,
    actions: Sequence[str] = DEFAULT_ACTIONS,
    *,
    requested_by: str = SYSTEM,
    parallel: bool | None = None,
) -> IngestResult:
    """Import a file all-or-nothing; raises ``InvalidEvents`` (errors name the line) or
    ``ConflictError`` and nothing of the file is written.

    Where the store can hold the whole file in one transaction (SQLite: ``Store.bulk_load``) the
    file is read once, each batch checked and appended in turn, and the transaction undone if any
    line failed; else (Neo4j) it is checked whole first, then appended in batches.

    In one transaction, the batches of a file of :data:`PARALLEL_BYTES` or more (or any file,
    with ``parallel``) are parsed, validated and turned into rows in a worker process while this
    one writes the batches before them.
    """
    total = _count_events(path) if progress else None
    with store.bulk_load() as bulk:
        if bulk is not None:
            if parallel is None:
                parallel = path.stat().st_size >= PARALLEL_BYTES
            return _import_at_once(
                store, bulk, path, stages, batch_size, progress, actions, requested_by, total,
                parallel,
            )  # fmt: skip
    return _check_then_import(
        store, path, stages, batch_size, progress, actions, requested_by, total
    )


#: Files from this size on are made ready in a worker process (a process costs about a second
#: to start; this is some 100,000 events, five seconds of work).
PARALLEL_BYTES = 16 << 20
#: Batches made ready ahead of the one being written: enough to keep both processes busy, few
#: enough to keep memory flat.
_AHEAD = 3
_WORKERS = 2


class _Prepared(NamedTuple):
    """A batch of a file made ready to append by :func:`_prepare`, in a worker process for a big
    file: its store rows, or why it is refused."""

    #: Its lines' problems, each naming the line; when there are any, nothing else is filled.
    errors: list[FieldError]
    #: Ids re-used within the batch with other content; when there are any, no rows.
    conflicts: list[str]
    #: ``(line, void id, target)`` of the voids whose target is not in the batch.
    voids: list[tuple[int, str, str]]
    rows: Any
    #: Events once exact repeats within the batch are merged, and how many were merged.
    size: int
    repeats: int
    received: datetime | None
    #: Its events by type (``metrics.tally``).
    types: dict[str, int]
    audit: _AuditTargets | None

    @classmethod
    def refused(cls, errors: list[FieldError], conflicts: list[str] | None = None) -> _Prepared:
        return cls(errors, conflicts or [], [], None, 0, 0, None, {}, None)


def _prepare(
    batch: _Lines | list[tuple[int, Any]],
    rows_of: Callable[[Sequence[RecordedEvent]], Any],
    stages: Sequence[str],
    actions: Sequence[str],
) -> _Prepared:
    """Everything of appending a file's batch that needs no store: parse, validate, check the
    voids against the batch, key and hash, make the store's rows and the audit's targets."""
    items = _numbered(batch)
    lines = [number for number, _ in items]
    errors: list[FieldError] = []
    events = _plain_lines(items, stages, actions)
    if events is None:  # read again the exact way, which names every problem
        lines, raw = [], []
        for number, item in items:
            parsed = _parsed(number, item)
            if isinstance(parsed, FieldError):
                errors.append(parsed)
            else:
                lines.append(number)
                raw.append(parsed)
        try:
            events = validate_events(raw, stages, actions=actions)
        except InvalidEvents as exc:
            return _Prepared.refused(errors + _with_lines(exc.errors, lines, 0))
    bad_voids, unresolved = _voids_within(events)
    if errors or bad_voids:
        return _Prepared.refused(errors + _with_lines(bad_voids, lines, 0))
    received = _received()
    recorded, repeats, conflicts = _record(events, received)
    if conflicts:
        return _Prepared.refused([], conflicts)
    return _Prepared(
        [],
        [],
        [(lines[i], v.id, v.target) for i, v in unresolved],
        rows_of(recorded),
        len(recorded),
        repeats,
        received,
        metrics.tally(e.type for e in events),
        _AuditTargets.of([r.event for r in recorded]),
    )


#: A key's end in JSON text (a string's closing quote, then the colon); a string value may end
#: so too, so the count of these is at least the count of keys.
_KEY_END = re.compile(rb'"\s*:')
_validate_line = TypeAdapter(Event).validator.validate_json


def _plain_lines(
    items: Sequence[tuple[int, Any]], stages: Sequence[str], actions: Sequence[str]
) -> list[Event] | None:
    """A batch of JSON Lines validated straight from their text (parsed by pydantic, in Rust:
    about half the time of parsing to dicts and validating those), or None when any line is
    not plainly a valid event -- then the caller reads the batch the exact way, which names
    every problem. This way accepts nothing the exact way refuses, and reads the same events.

    What makes a line plain: it is one JSON object (pydantic refuses anything else, or ``NaN``,
    bad UTF-8 or a lone surrogate, as ``strict_json`` does); its brackets cannot nest past
    ``MAX_JSON_DEPTH``; and its event holds as many keys (its evidence's included) as the text
    has key endings, so that no key was repeated -- pydantic would keep the last silently.
    """
    if len(items) > MAX_BATCH:
        return None
    events: list[Event] = []
    try:
        for _, line in items:
            if not isinstance(line, bytes):  # CSV, or a JSON document: read already
                return None
            if line.count(b"{") + line.count(b"[") > MAX_JSON_DEPTH:
                return None
            event = _validate_line(line)
            if _keys_sent(event) != len(_KEY_END.findall(line)):
                return None
            events.append(event)
    except ValidationError:
        return None
    links = sum(len(e.customers) for e in events if isinstance(e, Handover))
    links += sum(len(e.organisers) for e in events if isinstance(e, JointEvent))
    if links > MAX_LINKS_PER_BATCH or _check_stages(events, stages, 0, actions):
        return None
    return events


def _keys_sent(event: Event) -> int:
    """The keys of the JSON object ``event`` was read from, as many as it kept: its fields
    sent, and those of its evidence (kept as sent, less any sent as null)."""
    keys = len(event.model_fields_set)
    # from the fields themselves: asking a model for one it lacks raises an AttributeError
    evidence = event.__dict__.get("evidence")
    if isinstance(evidence, dict):
        keys += len(evidence)
    elif isinstance(evidence, list):
        keys += sum(len(item) for item in evidence)
    return keys


def _write_prepared(
    store: Store,
    bulk: BulkLoad,
    batch: _Prepared,
    read: _Lines | list[tuple[int, Any]],
    requested_by: str,
) -> IngestResult:
    """Append a batch :func:`_prepare` made ready: the checks that need the store (a void's
    target recorded earlier, an id re-used), the rows, the audit entries."""
    if batch.voids:
        types = store.stored_types(sorted({target for _, _, target in batch.voids}))
        bad = [
            FieldError(line - 1, void, "target", _not_voidable(target, kind), line=line)
            for line, void, target in batch.voids
            if (kind := types.get(target)) is not None and kind not in VOIDABLE_TYPES
        ]
        if bad:
            raise InvalidEvents(bad)
    with audit.unit(store):
        result = bulk.write(batch.rows)
        if result.accepted == batch.size:
            assert batch.audit is not None  # a batch with rows has its targets
            _record_audit(store, requested_by, batch.audit)
        elif result.accepted:  # some were there already: name only those written now
            received = batch.received
            assert received is not None
            raw = [_parsed(number, item) for number, item in _numbered(read)]
            recorded, _, _ = _record(validate_events(raw), received)
            _audit(store, _written(store, recorded, result.accepted, received), requested_by)
    metrics.count_ingest(batch.types, result.accepted, result.duplicates + batch.repeats)
    return IngestResult(result.accepted, result.duplicates + batch.repeats)


class _Here(Executor):
    """Runs each task at once, in this process: a small file is not worth a worker's start."""

    def submit(  # type: ignore[override]  # positional only, as the callers here use it
        self, fn: Callable[..., _T], /, *args: Any
    ) -> Future[_T]:
        future: Future[_T] = Future()
        future.set_result(fn(*args))
        return future


@contextmanager
def _preparer(parallel: bool) -> Iterator[Executor]:
    """Where a file's batches are made ready: a worker process, or here.

    The worker is forked: it starts at once and needs no ``__main__`` guard in the caller's
    script (``spawn`` runs the script again). It touches nothing of this process's but the
    batches it is sent -- not the open store, not the console -- and it is started before any
    thread of the import's (the progress bar's), so no lock is copied held."""
    if not parallel:
        yield _Here()
        return
    pool = ProcessPoolExecutor(_WORKERS, mp_context=multiprocessing.get_context("fork"))
    try:
        pool.submit(int).result()  # forks the worker now, before the progress bar's thread
        yield pool
    finally:
        pool.shutdown(cancel_futures=True)


def _import_at_once(
    store: Store,
    bulk: BulkLoad,
    path: Path,
    stages: Sequence[str],
    batch_size: int,
    progress: bool,
    actions: Sequence[str],
    requested_by: str,
    total: int | None,
    parallel: bool,
) -> IngestResult:
    """Append a file batch by batch inside the caller's transaction, raising at the end if any
    line failed (so the transaction is undone). Every line is still checked, as the two-pass
    import checks them: each error is named, and an id re-used anywhere -- the store finds the
    ids of the earlier batches, which it holds by then -- is a conflict. Memory stays flat: a
    few batches at a time. The batches are written in the file's order."""
    errors: list[FieldError] = []
    conflicts: list[str] = []
    result = IngestResult()
    pending: deque[tuple[_Lines | list[tuple[int, Any]], Future[_Prepared]]] = deque()
    stages, actions = tuple(stages), tuple(actions)

    def write_next() -> None:
        nonlocal result
        read, prepared = pending.popleft()
        batch = prepared.result()
        advance(len(read.lines) if isinstance(read, _Lines) else len(read))
        errors.extend(batch.errors)
        conflicts.extend(batch.conflicts)
        if batch.errors or batch.conflicts:
            return
        try:
            result += _write_prepared(store, bulk, batch, read, requested_by)
        except InvalidEvents as exc:  # a void of what cannot be voided
            errors.extend(exc.errors)
        except ConflictError as exc:
            conflicts.extend(exc.ids)

    with (
        _preparer(parallel) as workers,
        _progress(progress, f"Importing {path.name}", total) as advance,
    ):
        for read in _item_batches(path, batch_size):
            pending.append((read, workers.submit(_prepare, read, bulk.rows, stages, actions)))
            if len(pending) > _AHEAD:
                write_next()
            if len(errors) > 1000:
                break
        else:
            while pending:
                write_next()
    if errors:
        raise InvalidEvents(errors)
    if conflicts:
        raise ConflictError(sorted(set(conflicts)))
    return result


def _item_batches(path: Path, size: int) -> Iterator[_Lines | list[tuple[int, Any]]]:
    """A file's items (:func:`_read_items`) in batches of ``size``; JSON Lines as read."""
    if _is_json_lines(path):
        with path.open("rb") as handle:
            first = 1
            while lines := list(islice(handle, size)):
                yield _Lines(first, lines)
                first += len(lines)
        return
    items = iter(_read_items(path))
    while batch := list(islice(items, size)):
        yield batch


def _check_then_import(
    store: Store,
    path: Path,
    stages: Sequence[str],
    batch_size: int,
    progress: bool,
    actions: Sequence[str],
    requested_by: str,
    total: int | None,
) -> IngestResult:
    """Check a file whole, then append it in batches (each its own transaction).

    Memory stays bounded: the first pass keeps 16 bytes per event (64-bit hashes of key and
    content) to find ids re-used within the file.
    """
    errors: list[FieldError] = []
    conflicts: list[str] = []
    key_hashes: list[np.ndarray] = []
    content_hashes: list[np.ndarray] = []
    pending_voids: dict[str, list[tuple[int, str]]] = {}
    with _progress(progress, f"Checking {path.name}", total) as advance:
        for lines, raw, bad in _batches(path, batch_size):
            errors.extend(bad)
            try:
                events = validate_events(raw, stages, actions=actions)
            except InvalidEvents as exc:
                errors.extend(_with_lines(exc.errors, lines, 0))
                if len(errors) > 1000:
                    break
                continue
            bad_voids, unresolved = _void_targets(store, events)
            if bad_voids:
                errors.extend(_with_lines(bad_voids, lines, 0))
                continue
            for i, void in unresolved:
                pending_voids.setdefault(void.target, []).append((lines[i], void.id))
            recorded, _, repeated = _record(events)
            conflicts.extend(repeated)
            stored = store.stored_hashes([r.key for r in recorded])
            conflicts.extend(r.key for r in recorded if stored.get(r.key, r.hash) != r.hash)
            key_hashes.append(np.array([_h64(r.key.encode()) for r in recorded], dtype=np.uint64))
            content_hashes.append(
                np.array([int(r.hash[:16], 16) for r in recorded], dtype=np.uint64)
            )
            advance(len(raw))
    if not errors and pending_voids:
        errors = _voids_of_earlier_entities(path, pending_voids, batch_size)
    if errors:
        raise InvalidEvents(errors)
    if key_hashes:
        conflicts.extend(
            _reused_within_file(path, key_hashes, content_hashes, stages, batch_size, actions)
        )
    if conflicts:
        raise ConflictError(sorted(set(conflicts)))

    result = IngestResult()
    with _progress(progress, f"Importing {path.name}", total) as advance:
        for _lines, raw, _bad in _batches(path, batch_size):
            result += _append(store, validate_events(raw, stages, actions=actions), requested_by)
            advance(len(raw))
    return result


def _count_events(path: Path) -> int | None:
    """Lines in a JSON Lines or CSV file (less a CSV header), for the progress bar."""
    if path.suffix.lower() == ".json":
        return None
    with path.open("rb") as handle:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    return max(lines - 1, 0) if path.suffix.lower() == ".csv" else lines


def _h64(data: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


def _reused_within_file(
    path: Path,
    key_hashes: list[np.ndarray],
    content_hashes: list[np.ndarray],
    stages: Sequence[str],
    batch_size: int,
    actions: Sequence[str] = DEFAULT_ACTIONS,
) -> list[str]:
    keys = np.concatenate(key_hashes)
    contents = np.concatenate(content_hashes)
    order = np.lexsort((contents, keys))
    keys, contents = keys[order], contents[order]
    same_key = keys[1:] == keys[:-1]
    differs = same_key & (contents[1:] != contents[:-1])
    if not differs.any():
        return []
    suspects = set(int(k) for k in keys[1:][differs])
    # Rare path: read the file again to name the ids behind the colliding hashes.
    named: set[str] = set()
    for _lines, raw, _bad in _batches(path, batch_size):
        for event in validate_events(raw, stages, actions=actions):
            key = event_key(event)
            if _h64(key.encode()) in suspects:
                named.add(key)
    return sorted(named)


class _NoProgress:
    def __enter__(self) -> Callable[[int], None]:
        return lambda n: None

    def __exit__(self, *exc: object) -> None:
        return None


class _RichProgress:
    def __init__(self, description: str, total: int | None) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            transient=False,
        )
        self._task = self._progress.add_task(description, total=total)

    def __enter__(self) -> Callable[[int], None]:
        self._progress.start()
        return lambda n: self._progress.advance(self._task, n)

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()


def _progress(enabled: bool, description: str, total: int | None) -> Any:
    return _RichProgress(description, total) if enabled else _NoProgress()

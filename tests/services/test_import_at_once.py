"""File import into SQLite as one transaction: what the single pass keeps of the two-pass checks,
and the fast paths it relies on (strict JSON of a flat line, ASCII ids) refusing what they did."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from pydantic import TypeAdapter, ValidationError

from contribnet.domain.errors import ConflictError, InvalidEvents
from contribnet.domain.strict_json import JsonRefused, loads
from contribnet.domain.values import Id
from contribnet.services import audit
from contribnet.services.ingest import ingest_file
from contribnet.store import open_store
from contribnet.store.base import IngestResult

TOUCH = {
    "type": "touch",
    "id": "t-1",
    "at": "2025-01-05T10:00:00Z",
    "customer": "c-1",
    "staff": "sf-1",
    "store": "st-1",
    "stage": "lead",
}


def _jsonl(path: Path, events: list[dict]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return path


def _indexes(db: Path) -> set[str]:
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        return {name for (name,) in rows}


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "store.db"


@pytest.fixture(params=[False, True], ids=["here", "in-a-worker"])
def parallel(request: pytest.FixtureRequest) -> bool:
    """Whether the batches are made ready in worker processes (a big file's way) or here."""
    return bool(request.param)


def test_an_import_into_an_empty_store_leaves_every_index(
    db: Path, tmp_path: Path, parallel: bool
) -> None:
    open_store(f"sqlite:///{db}").close()
    indexes = _indexes(db)
    assert {"touches_customer", "referrals_referrer_customer", "voids_target"} <= indexes
    events = [dict(TOUCH, id=f"t-{i}", customer=f"c-{i % 3}") for i in range(25)]
    store = open_store(f"sqlite:///{db}")
    try:
        path = _jsonl(tmp_path / "a.jsonl", events)
        assert ingest_file(store, path, batch_size=10, parallel=parallel).accepted == 25
        assert len(store.journey("c-1").touches) == 8
    finally:
        store.close()
    assert _indexes(db) == indexes


def test_a_failed_import_into_an_empty_store_leaves_every_index(
    db: Path, tmp_path: Path, parallel: bool
) -> None:
    open_store(f"sqlite:///{db}").close()
    indexes = _indexes(db)
    events = [dict(TOUCH, id=f"t-{i}") for i in range(25)] + [dict(TOUCH, id="t-x", stage="nap")]
    store = open_store(f"sqlite:///{db}")
    try:
        with pytest.raises(InvalidEvents):
            ingest_file(
                store, _jsonl(tmp_path / "a.jsonl", events), batch_size=10, parallel=parallel
            )
        assert store.count_events() == {}
        assert _journal_mode(db) == "wal"  # written in place, then the log again
        assert ingest_file(store, _jsonl(tmp_path / "b.jsonl", events[:25])).accepted == 25
    finally:
        store.close()
    assert _indexes(db) == indexes


def test_a_void_of_an_entity_sent_in_an_earlier_batch_names_its_line(
    db: Path, tmp_path: Path, parallel: bool
) -> None:
    """The customer arrives in the first batch, the void of it in the second: refused with its
    line, and the first batch is not written either."""
    events = [{"type": "customer", "id": f"c-{i}"} for i in range(10)]
    events.append({"type": "void", "id": "v-1", "target": "c-3", "reason": "typo"})
    store = open_store(f"sqlite:///{db}")
    try:
        with pytest.raises(InvalidEvents) as raised:
            ingest_file(
                store, _jsonl(tmp_path / "a.jsonl", events), batch_size=10, parallel=parallel
            )
        assert [(e.line, e.field) for e in raised.value.errors] == [(11, "target")]
        assert store.count_events() == {}
    finally:
        store.close()


def test_every_id_reused_in_the_file_is_named(db: Path, tmp_path: Path, parallel: bool) -> None:
    events = [dict(TOUCH, id=f"t-{i}") for i in range(30)]
    events += [dict(TOUCH, id="t-3", stage="quote"), dict(TOUCH, id="t-25", stage="quote")]
    events += [dict(TOUCH, id="t-7")]  # an exact repeat is no conflict
    store = open_store(f"sqlite:///{db}")
    try:
        with pytest.raises(ConflictError) as raised:
            ingest_file(
                store, _jsonl(tmp_path / "a.jsonl", events), batch_size=10, parallel=parallel
            )
        assert raised.value.ids == ["t-25", "t-3"]
        assert store.count_events() == {}
        good = _jsonl(tmp_path / "b.jsonl", events[:30] + events[-1:])
        assert ingest_file(store, good, batch_size=10, parallel=parallel) == IngestResult(30, 1)
    finally:
        store.close()


def _audit_targets(db: Path) -> list[tuple[str, int]]:
    with sqlite3.connect(db) as connection:
        return connection.execute("SELECT target, entry FROM audit_targets").fetchall()


def test_every_record_an_import_writes_finds_its_audit_entries(
    db: Path, tmp_path: Path, parallel: bool
) -> None:
    """One transaction, many batches: each event, customer and staff member of every batch
    finds the audit entry of its batch."""
    events = [
        dict(TOUCH, id=f"t-{i}", customer=f"c-{i % 7}", staff=f"sf-{i % 4}") for i in range(25)
    ]
    store = open_store(f"sqlite:///{db}")
    try:
        ingest_file(store, _jsonl(tmp_path / "a.jsonl", events), batch_size=10, parallel=parallel)
        entries = {target: audit.trail(store, target) for target in ("t-24", "c-6", "sf-0")}
    finally:
        store.close()
    assert [e.action for e in entries["t-24"]] == ["event_written"]
    assert len(entries["c-6"]) == 3  # c-6 is in every one of the three batches
    # each batch's entry names its events, their customers and their staff
    assert [e.targets_total for e in entries["sf-0"]] == [10 + 7 + 4, 10 + 7 + 4, 5 + 5 + 4]
    assert len(_audit_targets(db)) == 21 + 21 + 14


def test_a_failed_import_leaves_no_audit_target_behind(
    db: Path, tmp_path: Path, parallel: bool
) -> None:
    store = open_store(f"sqlite:///{db}")
    try:
        ingest_file(store, _jsonl(tmp_path / "a.jsonl", [TOUCH]))
        before = _audit_targets(db)
        events = [dict(TOUCH, id=f"t-{i}") for i in range(2, 25)] + [dict(TOUCH, stage="nap")]
        with pytest.raises(InvalidEvents):
            ingest_file(
                store, _jsonl(tmp_path / "b.jsonl", events), batch_size=10, parallel=parallel
            )
        ingest_file(store, _jsonl(tmp_path / "c.jsonl", [dict(TOUCH, id="t-2")]))
        after = _audit_targets(db)
    finally:
        store.close()
    assert len(before) == 3  # t-1, c-1 and sf-1
    assert len(after) == len(before) + 3


def _contents(db: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every event as logged (received time aside: each batch has its own) and every index row."""
    with sqlite3.connect(db) as connection:
        tables = ["touches", "customers", "deals", "referrals", "voids", "handover_customers"]
        found = {t: sorted(connection.execute(f"SELECT * FROM {t}").fetchall()) for t in tables}
        found["events"] = connection.execute(
            "SELECT seq, key, type, hash, payload FROM events ORDER BY seq"
        ).fetchall()
        return found


def _network(tmp_path: Path) -> Path:
    """Customers, touches, a handover, a referral, a deal and a void across five batches."""
    events: list[dict] = [{"type": "customer", "id": f"c-{i}"} for i in range(5)]
    events += [dict(TOUCH, id=f"t-{i}", customer=f"c-{i % 5}") for i in range(30)]
    events += [
        {"type": "handover", "id": "h-1", "at": "2025-01-06T10:00:00Z", "from_staff": "sf-1",
         "to_staff": "sf-2", "customers": ["c-1", "c-2", "c-1"]},
        {"type": "referral", "id": "r-1", "at": "2025-01-06T11:00:00Z", "customer": "c-3",
         "to_store": "st-2", "referrer_customer": "c-4"},
        {"type": "deal", "id": "d-1", "customer": "c-1", "store": "st-1", "staff": "sf-2",
         "closed_at": "2025-01-09T10:00:00Z", "amount": 20_000_000, "reward_pool": 100_000},
        {"type": "void", "id": "v-1", "target": "t-6", "reason": "logged twice"},
    ]  # fmt: skip
    return _jsonl(tmp_path / "network.jsonl", events)


def test_batches_made_ready_in_a_worker_write_what_this_process_writes(
    tmp_path: Path,
) -> None:
    path = _network(tmp_path)
    results = {}
    for parallel in (False, True):
        store = open_store(f"sqlite:///{tmp_path / f'{parallel}.db'}")
        try:
            results[parallel] = ingest_file(store, path, batch_size=8, parallel=parallel)
            assert len(store.deal_journey("d-1").touches) == 5  # t-6 is voided
        finally:
            store.close()
    assert results[True] == results[False] == IngestResult(39, 0)
    assert _contents(tmp_path / "True.db") == _contents(tmp_path / "False.db")
    assert len(_contents(tmp_path / "True.db")["handover_customers"]) == 2


def test_a_file_partly_imported_before_audits_only_what_it_writes(
    db: Path, tmp_path: Path, parallel: bool
) -> None:
    """A re-sent file whose first events are stored already: they are duplicates, and the
    audit entries of the new import name only the events it wrote."""
    events = [dict(TOUCH, id=f"t-{i}", customer=f"c-{i}") for i in range(25)]
    store = open_store(f"sqlite:///{db}")
    try:
        ingest_file(store, _jsonl(tmp_path / "a.jsonl", events[:15]))
        path = _jsonl(tmp_path / "b.jsonl", events)
        assert ingest_file(store, path, batch_size=10, parallel=parallel) == IngestResult(10, 15)
        second = [e for e in audit.trail(store, "sf-1") if e.targets_total < 15 * 2 + 1]
        assert ingest_file(store, path, batch_size=10, parallel=parallel) == IngestResult(0, 25)
        assert len(audit.trail(store, "sf-1")) == 3  # the re-sent file wrote nothing
    finally:
        store.close()
    named = {target for entry in second for target in entry.targets}
    assert {"t-10", "t-14", "c-14"}.isdisjoint(named)  # in the first file
    assert {"t-15", "t-24", "c-24"} <= named


def test_a_bad_line_in_a_later_batch_is_named_and_nothing_is_written(
    db: Path, tmp_path: Path, parallel: bool
) -> None:
    path = _jsonl(tmp_path / "a.jsonl", [dict(TOUCH, id=f"t-{i}") for i in range(35)])
    with path.open("a") as handle:
        handle.write('{"type": "touch", "id": "t-x", "id": "t-y"}\n')
    store = open_store(f"sqlite:///{db}")
    try:
        with pytest.raises(InvalidEvents) as raised:
            ingest_file(store, path, batch_size=10, parallel=parallel)
        assert [(e.line, e.field) for e in raised.value.errors] == [(36, "id")]
        assert store.count_events() == {}
    finally:
        store.close()


def _journal_mode(db: Path) -> str:
    connection = sqlite3.connect(db)
    try:
        return str(connection.execute("PRAGMA journal_mode").fetchone()[0])
    finally:
        connection.close()


def _wal_sizes_while_importing(monkeypatch: pytest.MonkeyPatch, db: Path) -> list[int]:
    """The size of the store's write-ahead log each time the import makes a batch ready (with a
    page cache small enough that the transaction's pages reach the file before the commit)."""
    from contribnet.services import ingest
    from contribnet.store import sqlite

    monkeypatch.setattr(sqlite, "_BULK_CACHE_KIB", 64)

    sizes: list[int] = []
    real = ingest._received

    def watched() -> object:
        wal = Path(f"{db}-wal")
        sizes.append(wal.stat().st_size if wal.exists() else 0)
        return real()

    monkeypatch.setattr(ingest, "_received", watched)
    return sizes


def _big_touches(tmp_path: Path) -> Path:
    """3,000 touches of about 1 KB each, one customer each: six batches of 500."""
    evidence = {"kind": "photo", "ref": "x" * 900}
    events = [dict(TOUCH, id=f"t-{i}", customer=f"c-{i}", evidence=evidence) for i in range(3000)]
    return _jsonl(tmp_path / "big.jsonl", events)


def test_a_first_import_writes_in_place_without_a_second_copy_in_the_log(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Into an empty store no one else has open, the import writes with a rollback journal: the
    write-ahead log stays empty however much is written, and the store is back in WAL mode
    after."""
    sizes = _wal_sizes_while_importing(monkeypatch, db)
    store = open_store(f"sqlite:///{db}")
    try:
        assert ingest_file(store, _big_touches(tmp_path), batch_size=500).accepted == 3000
        assert len(store.journey("c-2999").touches) == 1
    finally:
        store.close()
    assert len(sizes) == 6 and set(sizes) == {0}
    assert _journal_mode(db) == "wal"


def test_a_first_import_beside_another_open_connection_keeps_the_log(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process may be reading the store (a server): then the import keeps the log, which
    lets it read on, and the import is as whole as ever."""
    sizes = _wal_sizes_while_importing(monkeypatch, db)
    store, reader = open_store(f"sqlite:///{db}"), open_store(f"sqlite:///{db}")
    try:
        assert ingest_file(store, _big_touches(tmp_path), batch_size=500).accepted == 3000
        assert len(reader.journey("c-2999").touches) == 1
    finally:
        store.close()
        reader.close()
    assert max(sizes) > 0
    assert _journal_mode(db) == "wal"


@pytest.mark.parametrize(
    "line",
    [
        '{"id": "c-1", "id": "c-2"}',
        '{"id" : "c-1", "name": "a\\":", "id": "c-2"}',  # a value ending like a key
        '{"id": "c-1", "name": "x", "id" :"c-2"}',
        '{"id": "c-1", "evidence": {"ref": "a", "ref": "b"}}',
    ],
)
def test_a_repeated_key_is_refused_however_the_line_is_spaced(line: str) -> None:
    with pytest.raises(JsonRefused, match="duplicate key"):
        loads(line.encode())


def test_a_flat_line_with_quotes_and_colons_in_values_is_read() -> None:
    line = '{"id": "c-1", "name": "say \\"hi\\": ok", "city": "{x}"}'
    assert loads(line.encode()) == {"id": "c-1", "name": 'say "hi": ok', "city": "{x}"}
    assert loads(b'"{"') == "{"


def test_ascii_ids_are_refused_exactly_as_character_by_character() -> None:
    """Every ASCII character inside an id: refused if and only if it is a control character,
    the space, '/' or '@' (the rule the character-by-character check applies)."""
    ids: TypeAdapter[str] = TypeAdapter(Id)
    refused = set(range(0x20)) | {0x20, ord("/"), ord("@"), 0x7F}
    for code in range(128):
        value = f"a{chr(code)}b"
        if code in refused:
            with pytest.raises(ValidationError, match="may not contain"):
                ids.validate_python(value)
        else:
            assert ids.validate_python(value) == value


def test_a_big_file_is_made_ready_in_worker_processes(
    db: Path, tmp_path: Path, parallel: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each batch is parsed and validated in a worker (by default from ``PARALLEL_BYTES`` on),
    here otherwise; the worker forked from this process sees the same code."""
    from contribnet.services import ingest

    where = tmp_path / "pids"
    real = ingest._received

    def received() -> object:
        with where.open("a") as handle:
            handle.write(f"{os.getpid()}\n")
        return real()

    monkeypatch.setattr(ingest, "_received", received)
    if parallel:
        monkeypatch.setattr(ingest, "PARALLEL_BYTES", 1)
    store = open_store(f"sqlite:///{db}")
    try:
        path = _jsonl(tmp_path / "a.jsonl", [dict(TOUCH, id=f"t-{i}") for i in range(25)])
        assert ingest_file(store, path, batch_size=10).accepted == 25
    finally:
        store.close()
    pids = set(map(int, where.read_text().split()))
    assert (os.getpid() in pids) is not parallel
    assert len(pids) <= (ingest._WORKERS if parallel else 1)

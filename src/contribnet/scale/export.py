"""The store's journeys as Parquet: what a cluster recomputes credit from.

:func:`export` streams from either store (SQLite or Neo4j) through the ``Store`` port, a chunk
of deals at a time, so memory stays bounded whatever the store's size. It writes, under one
folder (see :data:`TABLES`):

``journeys/close_month=YYYY-MM/``
    One row per live deal closed in the period: the deal's fields and ``journey``, the
    :class:`~contribnet.domain.journey.DealJourney` the credit engine splits, as JSON (voided
    items removed, the customer's earlier live deals and voided items listed, the staff spells
    and stores involved), exactly as ``Store.deal_journeys`` gives it. Months are China
    Standard Time, as periods are.
``items/close_month=YYYY-MM/``
    The same journeys flattened for analysts: one row per deal and contribution item (touch,
    referral, handover), voids applied.
``paths/``
    ``Store.contribution_paths()``: per customer the live contribution items ``(at, stage)`` in
    time order and the close instants of their live deals -- every customer, whatever the
    period, since the learned models learn from every journey.
``staff/``, ``stores/``
    Every employment spell and every store.
``_contribnet.json``
    The manifest, written last: counts, the period, the store's event count and every policy
    version recorded (settlements name them).

The export is written to a hidden folder beside ``out`` and renamed at the end, so ``out`` holds
a whole export or nothing.

With ``workers > 1`` the deals are cut, in close order, into ranges that that many processes
export side by side (each opening the store itself, each range its own ``part-NNNNN.parquet`` in
the month folders it touches), beside the paths, staff and stores: the reads of a store cost
more than anything else an export does, and they run on one core per process.
"""

from __future__ import annotations

import json
import multiprocessing
import shutil
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from contribnet.domain.journey import DealJourney
from contribnet.domain.settlement import DealRef, business_date, period_bounds
from contribnet.process import tune_gc
from contribnet.scale import ScaleError
from contribnet.store import open_store
from contribnet.store.base import Store

__all__ = [
    "CHUNK",
    "EXPORT_FORMAT",
    "MANIFEST",
    "TABLES",
    "ExportProgress",
    "check_out",
    "export",
    "finish_out",
    "prepare_out",
    "require_pyarrow",
]

#: Deals read and written together.
CHUNK = 1000
#: Customers' training paths per Parquet row group.
PATHS_CHUNK = 20_000
#: Ranges of deals per worker process (more than one each, so that they finish together).
RANGES_PER_WORKER = 4
#: The manifest's name, in every folder this package writes.
MANIFEST = "_contribnet.json"
#: What ``format`` an export's manifest says.
EXPORT_FORMAT = "contribnet-export/1"
#: The tables of an export.
TABLES = ("journeys", "items", "paths", "staff", "stores")


def require_pyarrow() -> Any:
    """The ``pyarrow`` module, or :class:`ScaleError` saying how to install it."""
    try:
        import pyarrow
    except ImportError:
        raise ScaleError(
            "this command needs the spark extra: pip install 'contribnet[spark]'"
        ) from None
    return pyarrow


def check_out(out: Path) -> None:
    """:class:`ScaleError` unless ``out`` can be written: a new (or empty) folder in an existing
    one."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ScaleError(f"{out} exists and is not empty: name a new folder")
    parent = out.absolute().parent
    if not parent.is_dir():
        raise ScaleError(f"no folder {parent} to write {out.name} in")


def prepare_out(out: Path) -> Path:
    """A fresh hidden folder beside ``out`` to write into (``out`` checked by
    :func:`check_out`). Rename it to ``out`` with :func:`finish_out` when done."""
    check_out(out)
    work = out.absolute().parent / f".{out.name}.tmp-{uuid.uuid4().hex[:8]}"
    work.mkdir()
    return work


def finish_out(work: Path, out: Path) -> None:
    """Move the finished ``work`` folder to ``out`` (an empty ``out`` is replaced)."""
    if out.is_dir():
        out.rmdir()
    work.rename(out)


@dataclass
class ExportProgress:
    """Where an export stands: ``phase`` (deals, paths, staff, stores), done and total (None:
    not known ahead)."""

    phase: str
    done: int = 0
    total: int | None = None


def _schemas(pa: Any) -> dict[str, Any]:
    ts = pa.timestamp("us", tz="UTC")
    return {
        "journeys": pa.schema(
            [
                ("deal", pa.string()),
                ("customer", pa.string()),
                ("store", pa.string()),
                ("staff", pa.string()),
                ("closed_at", ts),
                ("amount", pa.int64()),
                ("reward_pool", pa.int64()),
                ("points_pool", pa.int64()),
                ("journey", pa.string()),
            ]
        ),
        "items": pa.schema(
            [
                ("deal", pa.string()),
                ("customer", pa.string()),
                ("source", pa.string()),
                ("id", pa.string()),
                ("at", ts),
                ("stage", pa.string()),
                ("staff", pa.string()),
                ("referrer_customer", pa.string()),
                ("store", pa.string()),
                ("joint_event", pa.string()),
            ]
        ),
        "paths": pa.schema(
            [
                ("items", pa.list_(pa.struct([("at", ts), ("stage", pa.string())]))),
                ("closes", pa.list_(ts)),
            ]
        ),
        "staff": pa.schema(
            [
                ("id", pa.string()),
                ("name", pa.string()),
                ("role", pa.string()),
                ("store", pa.string()),
                ("from", pa.date32()),
                ("to", pa.date32()),
            ]
        ),
        "stores": pa.schema(
            [
                ("id", pa.string()),
                ("name", pa.string()),
                ("brand", pa.string()),
                ("city", pa.string()),
                ("region", pa.string()),
                ("mall", pa.string()),
            ]
        ),
    }


def _items(journey: DealJourney) -> list[dict[str, Any]]:
    """A deal's contribution items, one row each (voids applied: the journey holds live ones)."""
    deal = journey.deal
    rows: list[dict[str, Any]] = []
    base = {"deal": deal.id, "customer": deal.customer}
    for t in journey.touches:
        rows.append(
            {
                **base,
                "source": "touch",
                "id": t.id,
                "at": t.at,
                "stage": t.stage,
                "staff": t.staff,
                "referrer_customer": None,
                "store": t.store,
                "joint_event": t.joint_event,
            }
        )
    for r in journey.referrals:
        rows.append(
            {
                **base,
                "source": "referral",
                "id": r.id,
                "at": r.at,
                "stage": "referral",
                "staff": r.referrer_staff,
                "referrer_customer": r.referrer_customer,
                "store": r.to_store,
                "joint_event": None,
            }
        )
    for h in journey.handovers:
        rows.append(
            {
                **base,
                "source": "handover",
                "id": h.id,
                "at": h.at,
                "stage": "handover",
                "staff": h.from_staff,
                "referrer_customer": None,
                "store": None,
                "joint_event": None,
            }
        )
    return rows


class _MonthWriter:
    """Rows of one table, partitioned by close month; deals arrive in close order, so one file
    is open at a time."""

    def __init__(self, pa: Any, pq: Any, root: Path, schema: Any, part: int = 0) -> None:
        self._pa, self._pq, self._root, self._schema = pa, pq, root, schema
        self._file = f"part-{part:05d}.parquet"
        self._month: str | None = None
        self._writer: Any = None

    def write(self, month: str, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        if month != self._month:
            self.close()
            folder = self._root / f"close_month={month}"
            folder.mkdir(parents=True, exist_ok=True)
            self._writer = self._pq.ParquetWriter(
                folder / self._file, self._schema, compression="zstd"
            )
            self._month = month
        table = self._pa.Table.from_pylist(list(rows), schema=self._schema)
        self._writer.write_table(table)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def _month(at: datetime) -> str:
    return business_date(at).strftime("%Y-%m")


def export(
    store: Store,
    out: Path,
    start: date | None = None,
    end: date | None = None,
    *,
    chunk: int = CHUNK,
    store_label: str = "",
    on_progress: Callable[[ExportProgress], None] | None = None,
    workers: int = 1,
    store_url: str | None = None,
) -> dict[str, Any]:
    """Write the store's journeys of deals closed from ``start`` to ``end`` (business days,
    inclusive; None: open) and everything the split needs besides to ``out`` as Parquet (see
    the module notes); the manifest written, which is returned. ``on_progress`` is called after
    each chunk. ``workers > 1`` processes, each opening ``store_url`` (the store's), share the
    reads."""
    pa = require_pyarrow()
    import pyarrow.parquet as pq

    if chunk < 1:
        raise ScaleError("--chunk must be at least 1")
    if workers < 1:
        raise ScaleError("--workers must be at least 1")
    if workers > 1 and store_url is None:
        raise ValueError("exporting in several processes needs the store's URL")
    lo, hi = period_bounds(start, end)
    work = prepare_out(out)
    try:
        parallel = (workers, store_url) if workers > 1 and store_url is not None else None
        manifest = _export(store, work, pa, pq, lo, hi, chunk, on_progress, parallel)
        manifest["period"] = {
            "from": start.isoformat() if start else None,
            "to": end.isoformat() if end else None,
        }
        manifest["store"] = store_label
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
        finish_out(work, out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return manifest


def _export(
    store: Store,
    work: Path,
    pa: Any,
    pq: Any,
    lo: datetime | None,
    hi: datetime | None,
    chunk: int,
    on_progress: Callable[[ExportProgress], None] | None,
    parallel: tuple[int, str] | None,
) -> dict[str, Any]:
    report = on_progress or (lambda _: None)
    event_count = store.event_count()
    policies = [r.model_dump(mode="json") for r in store.ledger.policies()]
    progress = ExportProgress("deals", total=store.ledger.count_closed_deals(lo, hi))
    report(progress)

    def advance(done: int) -> None:
        progress.done += done
        report(progress)

    if parallel is None:
        deals, items = _write_deals(store, work, lo, hi, None, None, chunk, 0, advance)
        paths, spells, stores = _write_rest(store, work, report)
    else:
        workers, url = parallel
        ranges = _ranges(store, lo, hi, progress.total or 0, workers * RANGES_PER_WORKER)
        deals, items, paths, spells, stores = _in_processes(
            work, lo, hi, chunk, ranges, workers, url, advance, report
        )
    return {
        "format": EXPORT_FORMAT,
        "exported_at": datetime.now(UTC).isoformat(),
        "event_count": event_count,
        "deals": deals,
        "items": items,
        "paths": paths,
        "staff_spells": spells,
        "stores": stores,
        "policies": policies,
    }


def _write_deals(
    store: Store,
    work: Path,
    lo: datetime | None,
    hi: datetime | None,
    after: DealRef | None,
    until: DealRef | None,
    chunk: int,
    part: int,
    advance: Callable[[int], None],
) -> tuple[int, int]:
    """The journeys and items of the deals closed in ``[lo, hi)`` after ``after`` up to
    ``until`` (None: no bound), a chunk at a time in close order, into files named ``part``;
    deals and items written."""
    pa = require_pyarrow()
    import pyarrow.parquet as pq

    schemas = _schemas(pa)
    journeys_out = _MonthWriter(pa, pq, work / "journeys", schemas["journeys"], part)
    items_out = _MonthWriter(pa, pq, work / "items", schemas["items"], part)
    last = (until.closed_at, until.id) if until is not None else None
    deals = items = 0
    try:
        while True:
            refs = store.ledger.closed_deals(lo, hi, after=after, limit=chunk)
            if last is not None:
                refs = [r for r in refs if (r.closed_at, r.id) <= last]
            if not refs:
                break
            after = refs[-1]
            found = store.deal_journeys([r.id for r in refs])
            by_month: dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]] = {}
            for ref in refs:
                journey = found.get(ref.id)
                if journey is None:  # voided meanwhile
                    continue
                deal = journey.deal
                rows = by_month.setdefault(_month(deal.closed_at), ([], []))
                rows[0].append(
                    {
                        "deal": deal.id,
                        "customer": deal.customer,
                        "store": deal.store,
                        "staff": deal.staff,
                        "closed_at": deal.closed_at,
                        "amount": deal.amount,
                        "reward_pool": deal.reward_pool,
                        "points_pool": deal.points_pool,
                        "journey": journey.model_dump_json(),
                    }
                )
                rows[1].extend(_items(journey))
            for month in sorted(by_month):
                deal_rows, item_rows = by_month[month]
                journeys_out.write(month, deal_rows)
                items_out.write(month, item_rows)
                deals += len(deal_rows)
                items += len(item_rows)
            advance(len(refs))
    finally:
        journeys_out.close()
        items_out.close()
    return deals, items


def _write_rest(
    store: Store, work: Path, report: Callable[[ExportProgress], None]
) -> tuple[int, int, int]:
    """Everything but the deals: paths, staff spells, stores; rows written of each."""
    pa = require_pyarrow()
    import pyarrow.parquet as pq

    schemas = _schemas(pa)
    paths = _write_paths(store, work / "paths", pa, pq, schemas["paths"], report)
    spells = _write_pages(
        store, "staff", work / "staff", pa, pq, schemas["staff"], _spell_rows, report
    )
    stores = _write_pages(
        store, "stores", work / "stores", pa, pq, schemas["stores"], _store_rows, report
    )
    return paths, spells, stores


def _ranges(
    store: Store, lo: datetime | None, hi: datetime | None, total: int, parts: int
) -> list[tuple[DealRef | None, DealRef | None]]:
    """The deals of ``[lo, hi)`` cut in close order into up to ``parts`` ranges of about as many
    deals, each ``(after, until)``: the last deal before it and its own last (None: open). A
    deal recorded meanwhile falls in the range of its close."""
    size = max(1, -(-total // parts))
    bounds: list[DealRef] = []
    while len(bounds) < parts - 1:
        refs = store.ledger.closed_deals(lo, hi, after=bounds[-1] if bounds else None, limit=size)
        if len(refs) < size:
            break
        bounds.append(refs[-1])
    starts: list[DealRef | None] = [None, *bounds]
    ends: list[DealRef | None] = [*bounds, None]
    return list(zip(starts, ends, strict=True))


# A worker process's store and the queue its progress goes back through (set when it starts).
_worker_store: Store | None = None
_worker_queue: Any = None


def _start_worker(store_url: str, queue: Any) -> None:
    global _worker_store, _worker_queue
    tune_gc()
    _worker_store = open_store(store_url)
    _worker_queue = queue


def _worker_deals(
    work: Path,
    lo: datetime | None,
    hi: datetime | None,
    after: DealRef | None,
    until: DealRef | None,
    chunk: int,
    part: int,
) -> tuple[int, int]:
    assert _worker_store is not None
    return _write_deals(_worker_store, work, lo, hi, after, until, chunk, part, _worker_queue.put)


def _worker_rest(work: Path) -> tuple[int, int, int]:
    assert _worker_store is not None
    return _write_rest(_worker_store, work, _worker_queue.put)


def _in_processes(
    work: Path,
    lo: datetime | None,
    hi: datetime | None,
    chunk: int,
    ranges: Sequence[tuple[DealRef | None, DealRef | None]],
    workers: int,
    store_url: str,
    advance: Callable[[int], None],
    report: Callable[[ExportProgress], None],
) -> tuple[int, int, int, int, int]:
    """The ranges of deals and the rest exported by ``workers`` spawned processes; their
    progress passed on as it comes (deals as counts, the rest as :class:`ExportProgress`)."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()

    def drain() -> None:
        while not queue.empty():
            step = queue.get()
            if isinstance(step, int):
                advance(step)
            else:
                report(step)

    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start_worker, initargs=(store_url, queue)
    ) as pool:
        rest = pool.submit(_worker_rest, work)  # first: the longest single job
        parts = [
            pool.submit(_worker_deals, work, lo, hi, after, until, chunk, part)
            for part, (after, until) in enumerate(ranges)
        ]
        pending: set[Future[Any]] = {rest, *parts}
        try:
            while pending:
                done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                drain()
                for future in done:
                    future.result()  # a worker's error, raised here
        finally:
            for future in pending:
                future.cancel()
    drain()
    deals = sum(p.result()[0] for p in parts)
    items = sum(p.result()[1] for p in parts)
    return deals, items, *rest.result()


def _write_paths(
    store: Store,
    folder: Path,
    pa: Any,
    pq: Any,
    schema: Any,
    report: Callable[[ExportProgress], None],
) -> int:
    """``Store.contribution_paths()`` streamed into ``paths/``, a row group per chunk."""
    folder.mkdir()
    progress = ExportProgress("paths")
    report(progress)
    writer = pq.ParquetWriter(folder / "part-00000.parquet", schema, compression="zstd")
    rows: list[dict[str, Any]] = []
    try:
        for items, closes in store.contribution_paths():
            rows.append(
                {
                    "items": [{"at": at, "stage": stage} for at, stage in items],
                    "closes": list(closes),
                }
            )
            if len(rows) >= PATHS_CHUNK:
                writer.write_table(pa.Table.from_pylist(rows, schema=schema))
                progress.done += len(rows)
                report(progress)
                rows = []
        if rows or progress.done == 0:
            writer.write_table(pa.Table.from_pylist(rows, schema=schema))
            progress.done += len(rows)
            report(progress)
    finally:
        writer.close()
    return progress.done


def _spell_rows(item: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "id": item["id"],
            "name": item.get("name"),
            "role": spell.get("role"),
            "store": spell.get("store"),
            "from": date.fromisoformat(spell["from"]) if spell.get("from") else None,
            "to": date.fromisoformat(spell["to"]) if spell.get("to") else None,
        }
        for spell in item.get("employment") or [item]
    ]


def _store_rows(item: dict[str, Any]) -> list[dict[str, Any]]:
    return [{k: item.get(k) for k in ("id", "name", "brand", "city", "region", "mall")}]


def _write_pages(
    store: Store,
    kind: str,
    folder: Path,
    pa: Any,
    pq: Any,
    schema: Any,
    rows_of: Callable[[dict[str, Any]], list[dict[str, Any]]],
    report: Callable[[ExportProgress], None],
    page: int = 5000,
) -> int:
    """Every record of ``kind`` (staff, stores), page by page, into one file."""
    folder.mkdir()
    progress = ExportProgress(kind)
    written = 0
    with pq.ParquetWriter(folder / "part-00000.parquet", schema, compression="zstd") as writer:
        offset = 0
        while True:
            listed = store.list(kind, offset, page)
            progress.total = listed.total
            rows = [row for item in listed.items for row in rows_of(item)]
            writer.write_table(pa.Table.from_pylist(rows, schema=schema))
            written += len(rows)
            offset += len(listed.items)
            progress.done = offset
            report(progress)
            if not listed.items or offset >= listed.total:
                break
    return written

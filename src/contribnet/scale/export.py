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
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from contribnet.domain.journey import DealJourney
from contribnet.domain.settlement import DealRef, business_date, period_bounds
from contribnet.scale import ScaleError
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

    def __init__(self, pa: Any, pq: Any, root: Path, schema: Any) -> None:
        self._pa, self._pq, self._root, self._schema = pa, pq, root, schema
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
                folder / "part-00000.parquet", self._schema, compression="zstd"
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
) -> dict[str, Any]:
    """Write the store's journeys of deals closed from ``start`` to ``end`` (business days,
    inclusive; None: open) and everything the split needs besides to ``out`` as Parquet (see
    the module notes); the manifest written, which is returned. ``on_progress`` is called after
    each chunk."""
    pa = require_pyarrow()
    import pyarrow.parquet as pq

    if chunk < 1:
        raise ScaleError("--chunk must be at least 1")
    lo, hi = period_bounds(start, end)
    work = prepare_out(out)
    try:
        manifest = _export(store, work, pa, pq, lo, hi, chunk, on_progress)
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
) -> dict[str, Any]:
    report = on_progress or (lambda _: None)
    schemas = _schemas(pa)
    event_count = store.event_count()
    policies = [r.model_dump(mode="json") for r in store.ledger.policies()]

    # deals, a chunk at a time, in close order
    progress = ExportProgress("deals", total=store.ledger.count_closed_deals(lo, hi))
    report(progress)
    journeys_out = _MonthWriter(pa, pq, work / "journeys", schemas["journeys"])
    items_out = _MonthWriter(pa, pq, work / "items", schemas["items"])
    after: DealRef | None = None
    deals = items = 0
    try:
        while True:
            refs = store.ledger.closed_deals(lo, hi, after=after, limit=chunk)
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
            progress.done += len(refs)
            report(progress)
    finally:
        journeys_out.close()
        items_out.close()

    paths = _write_paths(store, work / "paths", pa, pq, schemas["paths"], report)
    spells = _write_pages(
        store, "staff", work / "staff", pa, pq, schemas["staff"], _spell_rows, report
    )
    stores = _write_pages(
        store, "stores", work / "stores", pa, pq, schemas["stores"], _store_rows, report
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

"""File import throughput: ``contribnet import`` of a generated network beside a bare executemany.

For each file, in one run, into fresh SQLite files under ``.cache/bench-import/``:

* **import** — ``contribnet import FILE --store sqlite:///…`` as a user runs it (a process of its
  own): reading, strict JSON, validation, hashing, id checks, the log, the projection and the
  audit trail, all in one transaction; a big file's batches made ready in worker processes
  while the first process writes. Wall time, CPU time (user + system, the workers' included) and
  the peak RSS of all its processes together.
* **bare executemany** — the same SQL work without the checks: the events' rows (the ``events``
  log and each event's projection rows, exactly as the store writes them) and each batch's audit
  entry, inserted with plain ``executemany`` inside the store's own bulk-load transaction (its
  pragmas; secondary indexes rebuilt and the audit trail's targets added sorted at the end, as
  the import does); the rows are made from the file batch by batch outside the clock, so only
  the inserts, the index builds and the commit are timed.

The machine is shared: the CPU seconds and the load average are recorded beside the wall time,
and the ratio import / bare is of two measurements taken minutes apart in the same run.

Run: ``python -m benchmarks.import_file [--size m] [--size l] [--lines N]``; the files are made
with ``contribnet generate --size SIZE --seed 1`` when missing (``.cache/networks/``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any

from benchmarks.results_file import append_section
from benchmarks.stages import contribnet, run_stage
from contribnet.domain import strict_json
from contribnet.domain.audit import event_targets
from contribnet.services import audit
from contribnet.services.ingest import SYSTEM, _record, validate_events
from contribnet.store.sqlite import _LINK_TABLES, AppendRows, SqliteStore, append_rows

ROOT = Path(__file__).resolve().parents[1]
NETWORKS = ROOT / ".cache" / "networks"
WORK = ROOT / ".cache" / "bench-import"
BATCH = 10_000
GOAL = "≥ 50,000/s and ≥ 60% of bare; peak RSS < 1 GiB, flat m → l"


def network_file(size: str, lines: int | None) -> Path:
    """The generated network of ``size`` (seed 1), or its first ``lines`` lines."""
    full = NETWORKS / f"{size}-1.jsonl"
    if not full.exists():
        NETWORKS.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "contribnet.cli", "generate", "--size", size, "--seed", "1"]
            + ["--out", str(full)],
            check=True,
        )
    if lines is None:
        return full
    part = WORK / f"{size}-1-first-{lines}.jsonl"
    if not part.exists():
        with full.open("rb") as source, part.open("wb") as out:
            out.writelines(islice(source, lines))
    return part


def fresh(path: Path) -> Path:
    for stale in path.parent.glob(path.name + "*"):
        stale.unlink()
    return path


def through_cli(source: Path, db: Path) -> dict[str, float]:
    """``contribnet import`` in a process of its own: wall and CPU seconds (its workers' too),
    peak RSS (MiB) of all its processes together."""
    stage = run_stage(contribnet("import", str(source), "--store", f"sqlite:///{db}"))
    return {
        "wall": stage.seconds,
        "cpu": stage.cpu_seconds,
        "rss": stage.peak_rss_mib,
    }


def _batches(source: Path) -> Iterator[list[Any]]:
    with source.open("rb") as handle:
        while batch := [strict_json.loads(line) for line in islice(handle, BATCH)]:
            yield batch


def _rows_of(raw: list[Any]) -> tuple[AppendRows, list[str]]:
    """The rows the store writes for a batch (its log and each event's index rows), and the
    records its audit entry names."""
    recorded, _, _ = _record(validate_events(raw), datetime.now(UTC))
    return append_rows(recorded), event_targets(r.event for r in recorded)


def bare(source: Path, db: Path) -> dict[str, float]:
    """Seconds (wall, CPU) of the bare writes of every row of ``source`` and the commit.

    The same SQL work as the import's, without its checks: the store's bulk-load transaction
    (secondary indexes rebuilt at the end, the audit trail's targets added sorted), each batch's
    rows inserted with plain ``executemany`` and its audit entry appended."""
    store = SqliteStore(f"sqlite:///{db}")
    connection = store._db
    wall = cpu = 0.0

    def timed(work: Callable[[], object]) -> None:
        nonlocal wall, cpu
        started, started_cpu = time.perf_counter(), time.process_time()
        work()
        wall += time.perf_counter() - started
        cpu += time.process_time() - started_cpu

    def insert(rows: AppendRows, targets: list[str]) -> None:
        connection.executemany(
            "INSERT INTO events (key, type, hash, payload, recorded_at) VALUES (?, ?, ?, ?, ?)",
            rows.events,
        )
        for table, table_rows in rows.tables.items():
            verb = "INSERT OR IGNORE" if table in _LINK_TABLES else "INSERT"
            marks = ",".join("?" * len(table_rows[0]))
            connection.executemany(f"{verb} INTO {table} VALUES ({marks})", table_rows)
        audit.record(store, "event_written", SYSTEM, targets)

    try:
        transaction = store.bulk_load()
        timed(transaction.__enter__)
        for raw in _batches(source):
            rows, targets = _rows_of(raw)
            timed(lambda: insert(rows, targets))  # noqa: B023  # called at once
        timed(lambda: transaction.__exit__(None, None, None))
    finally:
        store.close()
    return {"wall": wall, "cpu": cpu}


def count_lines(source: Path) -> int:
    with source.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", action="append", choices=("tiny", "demo", "m", "l"))
    parser.add_argument("--lines", type=int, help="import only the first N lines of each file")
    parser.add_argument("--skip-bare", action="store_true", help="the import alone (e.g. l)")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    rows: list[list[object]] = []
    for size in args.size or ["m"]:
        source = network_file(size, args.lines)
        events = count_lines(source)
        load = os.getloadavg()[0]
        run = through_cli(source, fresh(WORK / f"import-{size}.db"))
        base = None if args.skip_bare else bare(source, fresh(WORK / f"bare-{size}.db"))
        label = size if args.lines is None else f"{size}, first {events:,} events"
        rows.append(
            [
                label,
                f"{events:,}",
                f"{events / run['wall']:,.0f}",
                f"{events / run['cpu']:,.0f}",
                f"{events / base['wall']:,.0f}" if base else "—",
                f"{base['wall'] / run['wall']:.0%}" if base else "—",
                f"{run['rss']:,.0f} MiB",
                f"{load:.1f} → {os.getloadavg()[0]:.1f}",
                GOAL,
            ]
        )
        for db in WORK.glob("*.db*"):  # gigabytes each: not kept between runs
            db.unlink()
    append_section(
        "Import: `contribnet import` of a generated network into SQLite vs a bare executemany",
        [
            "network",
            "events",
            "import events/s (wall)",
            "import events/s of CPU",
            "bare executemany events/s",
            "import / bare",
            "import peak RSS",
            "load average (1 min) before → after",
            "goal",
        ],
        rows,
        "Import: `contribnet import FILE` in its own process into a fresh SQLite file (one "
        "transaction; every line parsed strictly, validated, hashed, checked against the store "
        "and the rest of the file; log, projection and audit trail written). Bare: the same "
        "rows, audit trail included, inserted into the same tables with plain executemany in the "
        "store's own bulk-load transaction (indexes and trail targets built at the end, as the "
        "import does), their preparation untimed. CPU = user + system seconds of the import "
        "and its worker processes; peak RSS of them all together (`benchmarks/stages.py`). The "
        "machine is shared by several engineers (2 cores): wall figures move with "
        "the load average shown.",
    )


if __name__ == "__main__":
    main()

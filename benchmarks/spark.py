"""Export and Spark recompute of a generated network, beside single-process compute.

* **Export** -- ``contribnet export`` of every deal from the embedded SQLite store, in a child
  process (wall time, peak RSS).
* **Recompute** -- ``contribnet recompute --engine spark --master local[2]`` in a child process:
  the seconds of each stage from its manifest (fit, split, write) and the peak memory of the
  driver's Python, of the JVM (driver and executors are one JVM on a ``local`` master) and of
  the Python workers, sampled from ``/proc`` every half second.
* **Reference** -- the same splits computed in this one process (``compute_split`` on every
  exported journey, read back from the Parquet: what ``contribnet settle`` computes per deal,
  without the store's reads and writes), on one core.

The network is generated and loaded once into ``.cache/bench-spark/SIZE.db`` and reused. Deals/s
is deals over the recompute's wall time (Spark's start included) and over the split stage alone.

Run: ``make bench`` or ``python -m benchmarks.spark [--size m] [--model stage_weighted]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.results_file import append_section
from contribnet.credit import compute_split
from contribnet.demo.generator import generate
from contribnet.domain.journey import DealJourney
from contribnet.paths import cache_dir
from contribnet.services.ingest import ingest_stream
from contribnet.services.policies import ensure_default_policy
from contribnet.store import open_store

GOALS = {"l_minutes": 15.0, "driver_gib": 2.0}


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


class TreeSampler(threading.Thread):
    """Peak RSS (MiB) of a process tree, by kind: the root, java processes, other Pythons."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = {"driver": 0.0, "jvm": 0.0, "workers": 0.0}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            sums = {"driver": 0, "jvm": 0, "workers": 0}
            stack = [self.pid]
            while stack:
                pid = stack.pop()
                try:
                    name = Path(f"/proc/{pid}/comm").read_text().strip()
                except OSError:
                    continue
                kind = "driver" if pid == self.pid else "jvm" if name == "java" else "workers"
                sums[kind] += _rss_kib(pid)
                stack += _children(pid)
            for kind, kib in sums.items():
                self.peak[kind] = max(self.peak[kind], kib / 1024)
            self.stop.wait(0.5)


def _contribnet(*args: str) -> tuple[float, dict[str, float], str]:
    """Run a contribnet command; wall seconds, peak RSS by kind, stdout."""
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable}
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "contribnet.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    sampler = TreeSampler(proc.pid)
    sampler.start()
    out, _ = proc.communicate()
    wall = time.perf_counter() - started
    sampler.stop.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"contribnet {' '.join(args)} failed ({proc.returncode})")
    return wall, sampler.peak, out


def _network(size: str, seed: int) -> tuple[Path, float | None]:
    home = cache_dir() / "bench-spark"
    home.mkdir(parents=True, exist_ok=True)
    path = home / f"{size}-{seed}.db"
    if path.exists():
        return path, None
    started = time.perf_counter()
    partial = path.with_suffix(".loading")
    partial.unlink(missing_ok=True)
    store = open_store(f"sqlite:///{partial}")
    try:
        ingest_stream(store, generate(size, seed))
        ensure_default_policy(store)
    finally:
        store.close()
    partial.rename(path)
    return path, time.perf_counter() - started


def _reference(folder: Path, model: str | None, limit: int) -> tuple[int, float]:
    """Splits per second in this process, over up to ``limit`` exported journeys."""
    import pyarrow.dataset as ds

    from contribnet.domain.policy import Policy
    from contribnet.scale.folders import read_export

    export = read_export(folder)
    record = export.policies[0]
    policy: Policy = record.policy
    dataset = ds.dataset(folder / "journeys", format="parquet", partitioning="hive")
    done = 0
    seconds = 0.0
    for batch in dataset.to_batches(columns=["journey"], batch_size=1000):
        texts = batch.column("journey").to_pylist()
        started = time.perf_counter()
        for text in texts:
            compute_split(DealJourney.model_validate_json(text), policy, model)
        seconds += time.perf_counter() - started
        done += len(texts)
        if done >= limit:
            break
    return done, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="m", choices=["tiny", "demo", "m", "l"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--model", default=None, help="rule-based model (default: the policy's)")
    parser.add_argument("--reference-deals", type=int, default=20_000)
    args = parser.parse_args()

    db, loaded = _network(args.size, args.seed)
    work = cache_dir() / "bench-spark" / "runs"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    store_url = f"sqlite:///{db}"

    export_s, export_mem, _ = _contribnet(
        "export", "--store", store_url, "--out", str(work / "export")
    )
    manifest = json.loads((work / "export" / "_contribnet.json").read_text())
    deals, items = manifest["deals"], manifest["items"]
    extra = ["--model", args.model] if args.model else []
    recompute_s, spark_mem, out = _contribnet(
        "recompute",
        "--engine",
        "spark",
        "--master",
        "local[2]",
        "--input",
        str(work / "export"),
        "--out",
        str(work / "recomputed"),
        "--json",
        *extra,
    )
    result: dict[str, Any] = json.loads(out)
    stages = result["seconds"]
    ref_deals, ref_s = _reference(work / "export", args.model, args.reference_deals)
    ref_rate = ref_deals / ref_s
    end_to_end = export_s + recompute_s
    load = f"; generated and loaded in {loaded:.0f} s" if loaded else ""
    rows: list[list[object]] = [
        [
            "export (SQLite → Parquet)",
            f"{export_s:.1f} s, {deals / export_s:,.0f} deals/s; "
            f"peak RSS {export_mem['driver']:.0f} MiB",
            "bounded memory",
        ],
        [
            "recompute on Spark local[2], wall",
            f"{recompute_s:.1f} s = {deals / recompute_s:,.0f} deals/s (Spark start included)",
            "",
        ],
        [
            "stages (fit / split / write)",
            " / ".join(f"{stages[k]:.1f} s" for k in ("fit", "split", "write")),
            "",
        ],
        ["split stage alone", f"{deals / stages['split']:,.0f} deals/s on 2 cores", ""],
        [
            "single process, compute only (1 core)",
            f"{ref_rate:,.0f} deals/s ({ref_deals:,} journeys)",
            "reference",
        ],
        [
            "peak memory",
            f"driver Python {spark_mem['driver']:.0f} MiB, JVM (driver + executors) "
            f"{spark_mem['jvm']:.0f} MiB, Python workers {spark_mem['workers']:.0f} MiB",
            f"driver < {GOALS['driver_gib']:.0f} GiB",
        ],
        [
            "export + recompute, end to end",
            f"{end_to_end / 60:.1f} min for {deals:,} deals ({items:,} items)",
            f"l (1M deals) < {GOALS['l_minutes']:.0f} min",
        ],
    ]
    append_section(
        f"Spark: export and recompute of the {args.size} network ({deals:,} deals)",
        ["what", "measured", "goal"],
        rows,
        f"Model: {result['policies'][0]['model'] if not args.model else args.model}; seed "
        f"{args.seed}{load}. The recompute runs `contribnet recompute` in a child process "
        "(JVM start and Python workers included); its stages come from its manifest. Load "
        f"average (1 min) at the end: {os.getloadavg()[0]:.1f}.",
    )


if __name__ == "__main__":
    main()

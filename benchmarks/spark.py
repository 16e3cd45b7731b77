"""Export and Spark recompute of a generated network, beside single-process compute.

* **Export** -- ``contribnet export --workers 2`` of every deal from the embedded SQLite store,
  in a child process (wall time, CPU seconds, peak RSS).
* **Recompute** -- ``contribnet recompute --engine spark --master local[2]`` in a child process:
  the seconds of each stage from its manifest (fit, split, write) and the peak memory of the
  driver's Python, of the JVM (driver and executors are one JVM on a ``local`` master) and of
  the Python workers, and the CPU seconds of each, sampled from ``/proc`` every half second.
* **Reference** -- the same splits computed in this one process (``compute_split`` on every
  exported journey, read back from the Parquet as the executors read it: what ``contribnet
  settle`` computes per deal, without the store's reads and writes), on one core, in CPU
  seconds (the machine is shared, so wall time would measure the neighbours).

The network is generated and loaded once into ``.cache/bench-spark/SIZE-SEED.db`` and reused, or
``--store URL`` names a store already holding it (e.g. the l network, whose generation streamed
into a store takes hours, imported with ``contribnet import``). Deals/s is deals over the
recompute's wall time (Spark's start included) and over the split stage alone.

Run: ``make bench`` or ``python -m benchmarks.spark [--size m] [--model stage_weighted]``; for l,
``make bench-l`` (the scale table imports the l network into ``.cache/bench-scale/l-1.db``,
then ``python -m benchmarks.spark --size l --store sqlite:///.cache/bench-scale/l-1.db
--reference-deals 100000``).
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
from urllib.parse import urlsplit

from benchmarks.results_file import append_section
from benchmarks.stages import children, rss_kib
from contribnet.credit import compute_split
from contribnet.demo.generator import generate
from contribnet.paths import cache_dir
from contribnet.scale.journeys import JourneyReader
from contribnet.services.ingest import ingest_stream
from contribnet.services.policies import ensure_default_policy
from contribnet.store import open_store
from contribnet.store.sqlite_connection import path_of

GOALS = {"l_minutes": 15.0, "driver_gib": 2.0}


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class TreeSampler(threading.Thread):
    """Peak RSS (MiB) and CPU seconds of a process tree, by kind: the root (the driver's
    Python), java processes (the JVM), other Pythons (Spark's workers). A process's CPU is its
    last sample, so up to half a second of a process that ends between samples is missed."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = {"driver": 0.0, "jvm": 0.0, "workers": 0.0}
        self._cpu: dict[int, tuple[str, float]] = {}
        self.stop = threading.Event()

    @property
    def cpu(self) -> dict[str, float]:
        """CPU seconds by kind."""
        sums = {"driver": 0.0, "jvm": 0.0, "workers": 0.0}
        for kind, seconds in self._cpu.values():
            sums[kind] += seconds
        return sums

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
                sums[kind] += rss_kib(pid)
                self._cpu[pid] = (kind, _cpu_seconds(pid) or self._cpu.get(pid, (kind, 0.0))[1])
                stack += children(pid)
            for kind, kib in sums.items():
                self.peak[kind] = max(self.peak[kind], kib / 1024)
            self.stop.wait(0.5)


def _contribnet(*args: str) -> tuple[float, TreeSampler, str]:
    """Run a contribnet command; wall seconds, its sampler (peak RSS and CPU by kind), stdout."""
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
    return wall, sampler, out


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


def _store_kind(url: str) -> str:
    return "SQLite" if url.startswith("sqlite:") else "Neo4j"


def _store_label(url: str) -> str:
    """The store a URL names, for the results file: a SQLite file's path, or a server's host and
    port (never the credentials a Neo4j URL carries)."""
    if _store_kind(url) == "SQLite":
        return f"SQLite {path_of(url)}"
    parts = urlsplit(url)
    return f"Neo4j at {parts.hostname}:{parts.port or 7687}"


def _reference(folder: Path, model: str | None, limit: int) -> dict[str, float]:
    """One core in this process, over up to ``limit`` exported journeys: CPU seconds to read
    them back as the executors do (:class:`JourneyReader`), and to split them
    (``compute_split``, what ``contribnet settle`` computes per deal, without the store's reads
    and writes); and the deals."""
    import pyarrow.dataset as ds

    from contribnet.domain.policy import Policy
    from contribnet.scale.folders import read_export

    export = read_export(folder)
    policy: Policy = export.policies[0].policy
    dataset = ds.dataset(folder / "journeys", format="parquet", partitioning="hive")
    reader = JourneyReader()
    done, read_s, split_s = 0, 0.0, 0.0
    for batch in dataset.to_batches(columns=["journey"], batch_size=1000):
        texts = batch.column("journey").to_pylist()
        started = time.process_time()
        journeys = [reader.read(text) for text in texts]
        read_s += time.process_time() - started
        started = time.process_time()
        for journey in journeys:
            compute_split(journey, policy, model)
        split_s += time.process_time() - started
        done += len(texts)
        if done >= limit:
            break
    return {"deals": done, "read": read_s, "split": split_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="m", choices=["tiny", "demo", "m", "l"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--model", default=None, help="rule-based model (default: the policy's)")
    parser.add_argument("--reference-deals", type=int, default=20_000)
    parser.add_argument("--export-workers", type=int, default=2)
    parser.add_argument(
        "--store",
        default=None,
        help="a store URL already holding the SIZE network (default: generate it into "
        ".cache/bench-spark/SIZE-SEED.db)",
    )
    args = parser.parse_args()

    if args.store:
        store_url, loaded = args.store, None
    else:
        db, loaded = _network(args.size, args.seed)
        store_url = f"sqlite:///{db}"
    work = cache_dir() / "bench-spark" / "runs"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    load_start = os.getloadavg()[0]

    export_s, export_run, _ = _contribnet(
        "export",
        "--store",
        store_url,
        "--out",
        str(work / "export"),
        "--workers",
        str(args.export_workers),
    )
    manifest = json.loads((work / "export" / "_contribnet.json").read_text())
    deals, items = manifest["deals"], manifest["items"]
    load_mid = os.getloadavg()[0]
    extra = ["--model", args.model] if args.model else []
    recompute_s, spark_run, out = _contribnet(
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
    load_end = os.getloadavg()[0]
    ref = _reference(work / "export", args.model, args.reference_deals)
    ref_split = ref["deals"] / ref["split"]
    ref_all = ref["deals"] / (ref["split"] + ref["read"])
    export_cpu = export_run.cpu["driver"] + export_run.cpu["workers"]
    spark_cpu = spark_run.cpu
    split_rate = deals / stages["split"]
    recompute_cpu = sum(spark_cpu.values())
    end_to_end = export_s + recompute_s
    # what the CPU seconds measured would take on 2 cores nobody else uses, scaled to 1M deals
    idle_minutes = (
        (export_cpu / min(args.export_workers, 2) + recompute_cpu / 2) * 1_000_000 / deals / 60
    )
    if args.store:
        origin = f"; the store given with --store: {_store_label(args.store)}"
    else:
        origin = f"; generated and loaded in {loaded:.0f} s" if loaded else ""
    l_verdict = ""
    if args.size == "l":
        l_verdict = ": met" if end_to_end / 60 < GOALS["l_minutes"] else ": not met"
    rows: list[list[object]] = [
        [
            f"export ({_store_kind(store_url)} → Parquet, {args.export_workers} processes)",
            f"{export_s:.1f} s, {deals / export_s:,.0f} deals/s; CPU {export_cpu:.0f} s "
            f"({deals / export_cpu:,.0f} deals per CPU-second); peak RSS "
            f"{export_run.peak['driver']:.0f} MiB + workers {export_run.peak['workers']:.0f} MiB",
            "bounded memory",
        ],
        [
            "recompute on Spark local[2], wall",
            f"{recompute_s:.1f} s = {deals / recompute_s:,.0f} deals/s (Spark start included); "
            f"CPU: JVM {spark_cpu['jvm']:.0f} s, Python workers {spark_cpu['workers']:.0f} s, "
            f"driver {spark_cpu['driver']:.0f} s",
            "",
        ],
        [
            "stages (fit / split / write)",
            " / ".join(f"{stages[k]:.1f} s" for k in ("fit", "split", "write")),
            "",
        ],
        [
            "split stage alone",
            f"{split_rate:,.0f} deals/s on 2 shared cores (wall); the recompute's CPU, "
            f"{recompute_cpu / deals * 1000:.2f} ms a deal, is {deals / recompute_cpu:,.0f} deals "
            f"per CPU-second = {deals / recompute_cpu / ref_all:.2f} × one process",
            "≈ 1 × one process per core",
        ],
        [
            "single process (1 core, CPU time)",
            f"read back and split: {ref_all:,.0f} deals/s; split alone (engine): "
            f"{ref_split:,.0f} deals/s ({ref['deals']:,} journeys)",
            "reference",
        ],
        [
            "peak memory",
            f"driver Python {spark_run.peak['driver']:.0f} MiB, JVM (driver + executors) "
            f"{spark_run.peak['jvm']:.0f} MiB, Python workers {spark_run.peak['workers']:.0f} MiB",
            f"driver < {GOALS['driver_gib']:.0f} GiB",
        ],
        [
            "export + recompute, end to end",
            f"{end_to_end / 60:.1f} min for {deals:,} deals ({items:,} items); from the CPU "
            f"seconds, 1M deals on 2 idle cores: {idle_minutes:.0f} min",
            f"l (1M deals) < {GOALS['l_minutes']:.0f} min{l_verdict}",
        ],
    ]
    append_section(
        f"Spark: export and recompute of the {args.size} network ({deals:,} deals)",
        ["what", "measured", "goal"],
        rows,
        f"Model: {result['policies'][0]['model'] if not args.model else args.model}; seed "
        f"{args.seed}{origin}. Export and recompute run `contribnet export --workers "
        f"{args.export_workers}` and `contribnet recompute` in child processes (JVM start and "
        "Python workers included); stages come from the recompute's manifest; CPU seconds and "
        "peak RSS are sampled from /proc every half second. The machine is shared: load "
        f"average (1 min) {load_start:.1f} at the start, {load_mid:.1f} after the export, "
        f"{load_end:.1f} after the recompute on 2 cores.",
    )


if __name__ == "__main__":
    main()

"""Demo network generation: events/s and peak memory, per size, beside the goals.

Each size runs in a fresh child process doing exactly what ``contribnet generate --out FILE`` does
(generate, serialise every event as a sorted-key JSON line, write) into ``/dev/null``, so the
figures are the generator's and the serialiser's, not the disk's, and the peak RSS (``VmHWM``) is
that size's alone.

Run: ``make bench`` (all benchmarks; ``demo`` and ``m``) or
``python -m benchmarks.generate [--l] [--seed N]`` — ``--l`` adds the ~1M-deal size (minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console

from benchmarks.results_file import append_section
from contribnet.cli.demo import write_json_lines
from contribnet.demo.generator import NetworkGenerator
from contribnet.process import fewer_gc_pauses

#: Goals from the issue: demo in a few seconds, m well under a few minutes, l streams in < 1 GB.
GOALS: dict[str, tuple[str, Callable[[dict[str, Any]], bool]]] = {
    "demo": ("< 5 s", lambda r: r["seconds"] < 5),
    "m": ("< 120 s", lambda r: r["seconds"] < 120),
    "l": ("peak RSS < 1 GiB", lambda r: r["peak_rss_mib"] < 1024),
}


def peak_rss_mib() -> float:
    """This process's peak resident set (``VmHWM``), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_child(size: str, seed: int) -> dict[str, Any]:
    """Generate ``size`` into /dev/null in this process; the figures as a dict."""
    gen = NetworkGenerator(size, seed)
    quiet = Console(stderr=True, quiet=True)
    wall, cpu = time.perf_counter(), time.process_time()
    with open(os.devnull, "w", encoding="utf-8") as out, fewer_gc_pauses():
        write_json_lines(gen, out, quiet)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    s = gen.summary
    return {
        "size": size,
        "events": s.total_events,
        "customers": s.customers,
        "deals": s.deals,
        "touches": s.events["touch"],
        "seconds": wall,
        "cpu_seconds": cpu,
        "peak_pending": s.peak_pending,
        "peak_rss_mib": peak_rss_mib(),
    }


def measure(size: str, seed: int) -> dict[str, Any]:
    """Run one size in a fresh child process and read its figures."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.generate", "--child", size, "--seed", str(seed)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def row(r: dict[str, Any]) -> list[object]:
    goal, met = GOALS[r["size"]]
    return [
        r["size"],
        f"{r['events']:,}",
        f"{r['customers']:,}",
        f"{r['deals']:,}",
        f"{r['touches']:,}",
        f"{r['seconds']:.1f} s (CPU {r['cpu_seconds']:.1f} s)",
        f"{r['events'] / r['seconds']:,.0f}",
        f"{r['peak_rss_mib']:,.0f} MiB",
        f"{goal} — {'met' if met(r) else 'NOT met'}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--l", action="store_true", help="also generate the l size (~1M deals)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_child(args.child, args.seed)))
        return
    sizes = ["demo", "m"] + (["l"] if args.l else [])
    results = []
    for size in sizes:
        print(f"generating {size} ...", file=sys.stderr, flush=True)
        results.append(measure(size, args.seed))
    append_section(
        "Demo network generation: events/s and peak memory",
        [
            "size",
            "events",
            "customers",
            "deals",
            "touches",
            "time (wall, CPU)",
            "events/s",
            "peak RSS",
            "goal",
        ],
        [row(r) for r in results],
        notes="Seed "
        f"{args.seed}. Each size in a fresh process, as `contribnet generate --size SIZE "
        "--out /dev/null` (JSON Lines serialisation included, no disk). Peak RSS is the child's "
        "VmHWM. Memory stays flat in size: the waiting events peak at "
        + ", ".join(f"{r['peak_pending']:,} ({r['size']})" for r in results)
        + ", bounded by customers per day x the longest journey.",
    )


if __name__ == "__main__":
    main()

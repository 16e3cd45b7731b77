"""Fraud signals: every flag of a generated network computed from each store, beside the bare
read of the rules' input (the reference).

The network is loaded once per store (through ``ingest_stream``, the import path) and kept under
``.cache/bench-flags/`` as ``benchmarks/settle.py`` keeps its own; ``NEO4J_URI`` points the
benchmark at another Neo4j server, which it wipes and loads when it does not hold the network.
Measured: the bare read (``store.flags.flag_inputs`` over the whole span: touches, deals,
referrals, spells, stores, received times), the rules alone on that input -- both with the
collector settings the service runs them under (``process.fewer_gc_pauses``) -- and the whole
``services.flags.list_flags`` call (read, rules, reviews). The goal, from issue 14: all flags of
the ``m`` network (100k deals) in under 60 s on each store. The machine's load average (1 min)
before and after each store's run is noted: the machines here are shared.

Run: ``make bench`` or ``python -m benchmarks.flags [--store neo4j|sqlite|both] [--size m]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import time

from benchmarks.results_file import append_section
from benchmarks.settle import each_store, store_arguments
from contribnet.credit.flags import find_flags, flagged_deals
from contribnet.paths import cache_dir
from contribnet.process import fewer_gc_pauses
from contribnet.services.flags import list_flags
from contribnet.store import open_store
from contribnet.store.flags import flag_store

GOAL_SECONDS = 60.0


def measure(url: str) -> dict[str, float]:
    """Seconds of the bare read, the rules, and the whole listing (wall, and this process's CPU:
    on a shared machine the wall time is mostly other processes' load); what was read and
    found."""
    store = open_store(url)
    try:
        events = store.event_count()
        load_before = os.getloadavg()[0]
        with fewer_gc_pauses():
            started, cpu = time.perf_counter(), time.process_time()
            inputs = flag_store(store).flag_inputs(None, None)
            read_s, read_cpu = time.perf_counter() - started, time.process_time() - cpu
            started, cpu = time.perf_counter(), time.process_time()
            found = find_flags(inputs)
            rules_s, rules_cpu = time.perf_counter() - started, time.process_time() - cpu
        # the listing reads afresh: the first read's records are not kept alive beside it
        touches, deals = len(inputs.touches), len(inputs.deals)
        del inputs
        started, cpu = time.perf_counter(), time.process_time()
        listed = list_flags(store)
        total_s, total_cpu = time.perf_counter() - started, time.process_time() - cpu
        if store.event_count() != events:
            raise SystemExit("the store changed during the run (another writer?): measure again")
    finally:
        store.close()
    return {
        "read_s": read_s,
        "rules_s": rules_s,
        "total_s": total_s,
        "read_cpu": read_cpu,
        "rules_cpu": rules_cpu,
        "total_cpu": total_cpu,
        "touches": touches,
        "deals": deals,
        "flags": len(listed),
        "flagged_deals": len(flagged_deals(found)),
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    store_arguments(parser)
    args = parser.parse_args()
    home = cache_dir() / "bench-flags"
    home.mkdir(parents=True, exist_ok=True)
    rows: list[list[object]] = []
    notes: list[str] = []
    for name, loaded, m in each_store(args, home, measure):
        share = m["flagged_deals"] / m["deals"] if m["deals"] else 0.0
        rows.append(
            [
                name,
                f"{m['touches']:,.0f} touches, {m['deals']:,.0f} deals",
                f"{m['read_s']:,.2f} s ({m['read_cpu']:,.2f} s CPU)",
                f"{m['rules_s']:,.2f} s ({m['rules_cpu']:,.2f} s CPU)",
                f"{m['total_s']:,.2f} s ({m['total_cpu']:,.2f} s CPU)",
                f"{m['flags']:,.0f} ({share:.1%} of deals)",
                f"< {GOAL_SECONDS:.0f} s on m",
            ]
        )
        if not loaded.get("cached"):
            notes.append(f"{name}: loading the network took {loaded['load_seconds']} s.")
        notes.append(
            f"{name}: load average {m['load_before']:.1f} before the run, "
            f"{m['load_after']:.1f} after."
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    append_section(
        f"Fraud signals: every flag of the {args.size} network (seed {args.seed})",
        ["store", "input", "bare read", "rules", "all flags (list_flags)", "flags", "goal"],
        rows,
        " ".join(
            [
                *notes,
                f"Peak RSS of the run: {peak:,.0f} MiB. The rules: late_log, outside_employment, "
                "impossible_travel, touch_burst, referral_ring, evidence_reuse, grab, under the "
                "default thresholds; the network is the clean generated one.",
            ]
        ),
    )


if __name__ == "__main__":
    main()

"""Points and advisor profiles for every advisor of a generated network, on each store.

The network is ``contribnet generate``'s (the generator's events with its activities,
``demo/activities.py``), loaded once per store through ``ingest_stream`` (the import path) and
settled under the default policy, and kept under ``.cache/bench-profiles/`` for later runs
(``NEO4J_URI`` points the benchmark at another Neo4j server, which it wipes and loads when it
does not hold the network). Measured, over the whole span of the network:

* **bare read** -- ``store.profiles.profile_inputs``: every live touch and activity, spell and
  store (the reference: what any profile must read);
* **board** -- ``services.profiles.profile_board``: the bare read, the current settlements of
  every deal, the activities priced by the points policy, every staff member's figures;
* **every profile** -- ``board_profile`` for each advisor from that one board (region average
  and top decile included);
* **one profile** -- ``staff_profile`` as one API request computes it (the staff member and
  their region's advisors only), median of a sample: over the whole span, and over the default
  window (12 weeks) ending on the network's last day;
* **every points statement** -- ``services.points.points_statement`` for each advisor (the
  points ledger, one account read each).

Run: ``make bench`` or ``python -m benchmarks.profiles [--store neo4j|sqlite|both] [--size m]``.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.results_file import append_section
from benchmarks.settle import each_store, ensure_network, store_arguments
from contribnet.demo.activities import ActivityStream
from contribnet.domain.settlement import business_date
from contribnet.graph.profiles import peers
from contribnet.paths import cache_dir
from contribnet.services.points import points_statement
from contribnet.services.policies import ensure_default_policy
from contribnet.services.profiles import board_profile, profile_board, staff_profile
from contribnet.services.settlement import settle_period
from contribnet.store import Store, open_store
from contribnet.store.profiles import profile_store

#: One API request's profile, and a whole network's profiles, on the m network.
GOALS = {"one_s": 5.0, "all_s": 120.0}
SAMPLE = 3


def _settle(store: Store) -> dict[str, Any]:
    ensure_default_policy(store)
    started = time.perf_counter()
    *_, done = settle_period(store, None, None, requested_by="bench-profiles")
    return {"settled": done.created, "settle_seconds": round(time.perf_counter() - started, 1)}


def load_network(url: str, home: Path, size: str, seed: int) -> dict[str, Any]:
    """The network with its activities, loaded and settled unless the store holds it already."""
    return ensure_network(url, home, size, seed, wrap=ActivityStream(seed).wrap, after_load=_settle)


def measure(url: str) -> dict[str, float]:
    """Seconds of each step (see the module), and how much was read and computed."""
    store = open_store(url)
    try:
        events = store.event_count()
        started = time.perf_counter()
        inputs = profile_store(store).profile_inputs(None, None)
        read_s = time.perf_counter() - started
        started = time.perf_counter()
        board = profile_board(store, None, None)
        board_s = time.perf_counter() - started
        advisors = sorted(peers(board.inputs, board.period))
        started = time.perf_counter()
        for staff in advisors:
            board_profile(board, staff)
        profiles_s = time.perf_counter() - started
        # One request over the network's whole span, and over the default window (12 weeks)
        # as if today were the network's last day: its data ends long before the real today.
        first = business_date(min(t.at for t in inputs.touches))
        last = business_date(max(t.at for t in inputs.touches))
        one, recent = [], []
        for staff in advisors[:: max(len(advisors) // SAMPLE, 1)][:SAMPLE]:
            started = time.perf_counter()
            staff_profile(store, staff, first, last)
            one.append(time.perf_counter() - started)
            started = time.perf_counter()
            staff_profile(store, staff, None, last)
            recent.append(time.perf_counter() - started)
        started = time.perf_counter()
        points = sum(points_statement(store, "staff", s, None, None).earned for s in advisors)
        points_s = time.perf_counter() - started
        if store.event_count() != events:
            raise SystemExit("the store changed during the run (another writer?): measure again")
    finally:
        store.close()
    return {
        "read_s": read_s,
        "board_s": board_s,
        "profiles_s": profiles_s,
        "one_s": statistics.median(one),
        "recent_s": statistics.median(recent),
        "points_s": points_s,
        "touches": len(inputs.touches),
        "activities": len(inputs.activities),
        "advisors": len(advisors),
        "points": points,
        "board_points": sum(f.points for s, f in board.figures.items() if s in set(advisors)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    store_arguments(parser)
    args = parser.parse_args()
    home = cache_dir() / "bench-profiles"
    home.mkdir(parents=True, exist_ok=True)
    rows: list[list[object]] = []
    notes: list[str] = []
    for name, loaded, m in each_store(args, home, measure, load_network):
        if m["points"] != m["board_points"]:
            print(
                f"{name}: the points statements ({m['points']}) and the board"
                f" ({m['board_points']}) disagree",
                file=sys.stderr,
            )
            raise SystemExit(1)
        n = m["advisors"]
        rows.append(
            [
                name,
                f"{m['touches']:,.0f} touches, {m['activities']:,.0f} activities, {n:,.0f} "
                "advisors",
                f"{m['read_s']:,.2f} s",
                f"{m['board_s']:,.2f} s",
                f"{m['profiles_s']:,.2f} s ({1000 * m['profiles_s'] / max(n, 1):,.2f} ms each)",
                f"{m['one_s']:,.2f} s",
                f"{m['recent_s']:,.2f} s",
                f"{m['points_s']:,.2f} s ({1000 * m['points_s'] / max(n, 1):,.1f} ms each)",
                f"one < {GOALS['one_s']:.0f} s, all < {GOALS['all_s']:.0f} s on m",
            ]
        )
        if not loaded.get("cached"):
            notes.append(
                f"{name}: loading the network took {loaded['load_seconds']} s, settling its "
                f"{loaded['settled']:,} deals {loaded['settle_seconds']} s."
            )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    append_section(
        f"Advisor profiles and points: every advisor of the {args.size} network (seed {args.seed})",
        [
            "store",
            "input",
            "bare read",
            "board (read + settlements + points + figures)",
            "every profile from the board",
            "one profile, whole span (API request, median)",
            "one profile, default 12 weeks (median)",
            "every points statement",
            "goal",
        ],
        rows,
        " ".join(
            [
                *notes,
                f"Peak RSS of the run: {peak:,.0f} MiB. The points of every advisor's statement "
                "equal the board's (checked). The machine is shared (2 cores, other engineers' "
                "tests running): figures are noisy.",
            ]
        ),
    )


if __name__ == "__main__":
    main()

"""Graph roll-ups: the collaboration graph and its measures over settled credit, beside the cost of
reading that credit from the store (the reference), on the demo network.

Run: ``make bench`` or ``python -m benchmarks.graph [--size demo|m]``.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time

from benchmarks.results_file import append_section
from contribnet.demo.generator import generate
from contribnet.graph import collaboration_graph, node_measures
from contribnet.services.ingest import ingest_stream
from contribnet.services.policies import ensure_default_policy
from contribnet.services.settlement import credit_rows, settle_period
from contribnet.store import open_store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="demo", choices=["tiny", "demo", "m"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/graph.db")
        ingest_stream(store, generate(args.size, 1))
        ensure_default_policy(store)
        # settle_period yields a stream of progress
        *_, settled = settle_period(store, None, None, requested_by="benchmark")
        started = time.perf_counter()
        rows = list(credit_rows(store, None, None))
        if not rows:
            raise SystemExit("no settled credit: the benchmark measured nothing")
        read_s = time.perf_counter() - started
        table: list[list[object]] = [
            [
                "read settled credit (reference)",
                f"{len(rows):,} rows",
                f"{read_s * 1000:,.0f} ms",
                "",
                "",
            ]
        ]
        for level in ("store", "staff", "brand", "city"):
            started = time.perf_counter()
            graph = collaboration_graph(rows, level)
            node_measures(graph)
            took = time.perf_counter() - started
            table.append(
                [
                    f"{level} graph + measures",
                    f"{graph.number_of_nodes():,} nodes, {graph.number_of_edges():,} edges",
                    f"{took * 1000:,.0f} ms",
                    f"{took / read_s:.1f}× the read",
                    "< 1 s (page stays fluid)",
                ]
            )
        store.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    append_section(
        f"Graph roll-ups on the {args.size} network (SQLite, settled under the default policy)",
        ["what", "size", "time", "vs reference", "goal"],
        table,
        f"Peak RSS of the whole run (load, settle, graphs): {peak:,.0f} MiB. Measures: own/assist "
        "credit, assist ratio, flows, brokerage (betweenness) and Louvain communities.",
    )


if __name__ == "__main__":
    main()

"""The scale table: every stage of the product on the tiny, demo, m and l networks, per store.

For each size and store, each stage in its own child process (``benchmarks/stages.py``: wall
time, CPU time and peak RSS of that child alone):

* **generate** -- ``contribnet generate`` writing the JSON Lines to /dev/null (it does not depend
  on the store, so it runs once per size);
* **import** -- ``contribnet import FILE`` into a fresh store (a new SQLite file; a wiped Neo4j);
* **settle** -- ``contribnet settle --workers 2`` of every deal, beside the engine alone
  (``compute_split`` on up to 10,000 of the same deals' journeys in memory, one core);
* **preview** and **journey read** -- 20 concurrent clients against ``contribnet serve --workers
  2`` asking ``GET /v1/deals/{id}/credit`` for random deals, and ``GET
  /v1/customers/{id}/journey`` for random customers: a closed loop (the server saturated) and
  paced at each offered rate (Poisson arrivals; the latency while the server has headroom);
* **cost per deal** -- the CPU (and wall) seconds of import + settle per deal, and its ratio to
  the demo network's: the issue's "flat" is within 2x from demo to l.

The files: ``.cache/networks/SIZE-SEED.jsonl`` when it exists (the same bytes as ``contribnet
generate --size SIZE --seed SEED``), else written once under ``.cache/bench-scale/``. Imported
stores and the figures of their import and generation are kept under ``.cache/bench-scale/``
and reused by later runs unless ``--fresh`` (the table says which figures are reused and when
they were measured). Neo4j: ``NEO4J_URI`` (``--neo4j-dir`` names its data folder, so that the
server's CPU is counted too), else a local server under ``.cache/bench-scale/neo4j``.

Run: ``make bench`` or ``python -m benchmarks.scale [--sizes tiny,demo,m,l]
[--store sqlite|neo4j|both] [--requests 2000] [--rates 100,200] [--fresh]``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.ingest import serve, tree_rss_mib
from benchmarks.results_file import append_section
from benchmarks.settle import (
    BENCH_KEY,
    WIPE,
    engine_alone,
    latency,
    neo4j_server,
    preview_paths,
    reset_ledger,
    settle_run,
)
from benchmarks.stages import Stage, contribnet, process_cpu_seconds, run_stage
from contribnet import neo4j_local
from contribnet.paths import cache_dir
from contribnet.store import open_store

SIZES = ("tiny", "demo", "m", "l")
CLIENTS = 20
WORKERS = 2
#: Goals of issue 19 ("What users get"), on the m network unless the row says otherwise.
GOALS = {
    "import": ("≥ 50,000 events/s", lambda r: r >= 50_000),
    "settle": ("≥ 2,000 deals/s", lambda r: r >= 2_000),
    "preview": ("p99 < 50 ms", lambda p99: p99 < 50),
    "journey": ("p99 < 10 ms", lambda p99: p99 < 10),
    "memory": ("peak RSS < 1 GiB", lambda mib: mib < 1024),
    "flat": ("within 2× of demo", lambda ratio: ratio <= 2),
}


@dataclass(frozen=True)
class Measured:
    """A stage's figures as the table shows them; ``at`` is when it was measured."""

    seconds: float
    cpu_seconds: float
    peak_rss_mib: float
    work: int
    at: str
    server_cpu_seconds: float = 0.0
    reused: bool = False


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def network_file(home: Path, size: str, seed: int) -> Path:
    """The JSON Lines file of the network, written once (untimed) if no cached copy exists."""
    shared = cache_dir() / "networks" / f"{size}-{seed}.jsonl"
    if shared.is_file():
        return shared
    own = home / f"{size}-{seed}.jsonl"
    if not own.is_file():
        partial = own.with_suffix(".partial")
        run_stage(
            contribnet("generate", "--size", size, "--seed", str(seed), "--out", str(partial))
        )
        partial.rename(own)
    return own


def _cached(marker: Path, fresh: bool) -> dict[str, Any] | None:
    return None if fresh or not marker.is_file() else json.loads(marker.read_text())


def generation(home: Path, size: str, seed: int, fresh: bool) -> Measured:
    """``contribnet generate`` of ``size`` into /dev/null: the generator and its JSON Lines
    serialisation, not the disk (reused from an earlier run unless ``fresh``)."""
    marker = home / f"generate-{size}-{seed}.json"
    if (cached := _cached(marker, fresh)) is not None:
        return Measured(**{**cached, "reused": True})
    with network_file(home, size, seed).open("rb") as lines:
        events = sum(1 for _ in lines)
    stage = run_stage(
        contribnet("generate", "--size", size, "--seed", str(seed), "--out", os.devnull)
    )
    measured = _measured(stage, events, 0.0)
    marker.write_text(json.dumps(asdict(measured)))
    return measured


def _server_cpu(neo4j_pid: int | None) -> float:
    return process_cpu_seconds(neo4j_pid) if neo4j_pid else 0.0


def imported(
    url: str, home: Path, kind: str, size: str, seed: int, fresh: bool, neo4j_pid: int | None
) -> Measured:
    """Import the network into a fresh store, unless this store holds that import already."""
    server = "sqlite" if kind == "sqlite" else os.environ.get("NEO4J_URI") or "local"
    marker = home / f"imported-{kind}-{size}-{seed}.json"
    cached = _cached(marker, fresh)
    if cached is not None and cached.pop("server") == server:
        store = open_store(url)
        try:
            if store.event_count() == cached["work"]:
                return Measured(**{**cached, "reused": True})
        finally:
            store.close()
    marker.unlink(missing_ok=True)
    path = network_file(home, size, seed)
    if kind == "sqlite":
        db = Path(url.removeprefix("sqlite:///"))
        for stale in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
            stale.unlink(missing_ok=True)
    else:
        store = open_store(url)
        try:
            with store._driver.session() as session:  # type: ignore[attr-defined]
                session.run(WIPE).consume()
        finally:
            store.close()
    print(f"{kind} {size}: importing {path} ...", file=sys.stderr, flush=True)
    server_cpu = _server_cpu(neo4j_pid)
    stage = run_stage(contribnet("import", "--store", url, str(path)))
    # "accepted N, duplicates D"
    accepted = int(stage.stdout.split("accepted", 1)[1].split(",", 1)[0])
    measured = _measured(stage, accepted, _server_cpu(neo4j_pid) - server_cpu)
    marker.write_text(json.dumps({**asdict(measured), "server": server}))
    return measured


def _measured(stage: Stage, work: int, server_cpu: float) -> Measured:
    return Measured(stage.seconds, stage.cpu_seconds, stage.peak_rss_mib, work, _now(), server_cpu)


def settled(url: str, neo4j_pid: int | None) -> tuple[Measured, float]:
    """Settle every deal of an emptied ledger; the stage, and the engine alone's deals/s."""
    reset_ledger(url)
    engine_n, engine_s = engine_alone(url)
    server_cpu = _server_cpu(neo4j_pid)
    outcome, stage = settle_run(url, WORKERS)
    return _measured(stage, outcome["created"], _server_cpu(neo4j_pid) - server_cpu), (
        engine_n / engine_s
    )


def journey_paths(url: str, samples: int = 5_000) -> list[str]:
    """The journeys of ``samples`` customers picked at random (pages at random offsets)."""
    rng = random.Random(11)
    store = open_store(url)
    try:
        total = store.list("customers", 0, 1).total
        ids: list[str] = []
        while len(ids) < min(samples, total):
            page = store.list("customers", rng.randrange(max(1, total - 1000)), 1000)
            ids += [c["id"] for c in page.items]
    finally:
        store.close()
    return [f"/v1/customers/{customer}/journey" for customer in ids]


def latencies(
    url: str, requests: int, limit_s: float, rates: list[float]
) -> dict[str, dict[str, dict[str, float]] | float]:
    """Preview and journey-read latency from ``CLIENTS`` clients, closed loop and paced, against
    one ``contribnet serve --workers 2``; with the server's peak RSS (MiB, all its processes)."""
    routes = {"preview": preview_paths(url), "journey": journey_paths(url)}
    server, port = serve(url, BENCH_KEY, WORKERS)
    try:
        figures: dict[str, dict[str, dict[str, float]] | float] = {}
        for route, paths in routes.items():
            latency(port, BENCH_KEY, paths, 500, 60, None, CLIENTS)  # warm-up, untimed
            figures[route] = {
                "closed" if rate is None else f"{rate:g}": latency(
                    port, BENCH_KEY, paths, requests, limit_s, rate, CLIENTS
                )
                for rate in [None, *rates]
            }
        figures["rss"] = tree_rss_mib(server.pid)
        return figures
    finally:
        server.terminate()
        server.wait(30)


def _goal(name: str, value: float, applies: bool) -> str:
    if not applies:
        return ""
    text, met = GOALS[name]
    return f"{text} — {'met' if met(value) else 'NOT met'}"


def _time(m: Measured) -> str:
    server = f" + Neo4j {m.server_cpu_seconds:,.1f} s" if m.server_cpu_seconds else ""
    reused = f" (reused, measured {m.at})" if m.reused else ""
    return f"{m.seconds:,.1f} s (CPU {m.cpu_seconds:,.1f} s{server}){reused}"


def cost_per_deal(imp: Measured, settle: Measured) -> tuple[float, float]:
    """CPU and wall milliseconds of import + settle per settled deal (with Neo4j's CPU)."""
    cpu = imp.cpu_seconds + imp.server_cpu_seconds + settle.cpu_seconds
    cpu += settle.server_cpu_seconds
    deals = max(1, settle.work)
    return 1000 * cpu / deals, 1000 * (imp.seconds + settle.seconds) / deals


def run_store(
    kind: str, neo4j_url: str | None, home: Path, args: argparse.Namespace, pid: int | None
) -> None:
    """Every stage of every size on one store (SQLite: a file per size, kept for later runs;
    Neo4j: the one server, holding the last size imported); append its table."""
    name = "Neo4j" if kind == "neo4j" else "SQLite"
    rates = [float(r) for r in args.rates.split(",") if r.strip()]
    rows: list[list[object]] = []
    costs: dict[str, tuple[float, float]] = {}
    loads: list[float] = []
    for size in args.sizes:
        on_m = size == "m"
        url = neo4j_url or f"sqlite:///{home / f'{size}-{args.seed}.db'}"
        gen = generation(home, size, args.seed, args.fresh)
        imp = imported(url, home, kind, size, args.seed, args.fresh, pid)
        loads.append(os.getloadavg()[0])
        print(f"{name} {size}: settling ...", file=sys.stderr, flush=True)
        settle, engine_rate = settled(url, pid)
        loads.append(os.getloadavg()[0])
        print(f"{name} {size}: previews and journey reads ...", file=sys.stderr, flush=True)
        lat = latencies(url, args.requests, args.seconds, rates)
        loads.append(os.getloadavg()[0])
        costs[size] = cost_per_deal(imp, settle)
        settle_rate = settle.work / settle.seconds
        import_rate = imp.work / imp.seconds
        rows += [
            [
                size,
                "generate",
                f"{gen.work:,} events",
                _time(gen),
                f"{gen.work / gen.seconds:,.0f} events/s",
                f"{gen.peak_rss_mib:,.0f} MiB",
                "",
            ],
            [
                size,
                "import",
                f"{imp.work:,} events",
                _time(imp),
                f"{import_rate:,.0f} events/s",
                f"{imp.peak_rss_mib:,.0f} MiB",
                _goal("import", import_rate, on_m)
                or _goal("memory", imp.peak_rss_mib, size == "l"),
            ],
            [
                size,
                f"settle, {WORKERS} processes",
                f"{settle.work:,} deals",
                _time(settle),
                f"{settle_rate:,.0f} deals/s; engine alone {engine_rate:,.0f}/s "
                f"({settle_rate / engine_rate:.0%})",
                f"{settle.peak_rss_mib:,.0f} MiB",
                _goal("settle", settle_rate, on_m and kind == "sqlite")
                or _goal("memory", settle.peak_rss_mib, size == "l"),
            ],
        ]
        for route, label in (("preview", "preview"), ("journey", "journey read")):
            figures = lat[route]
            assert isinstance(figures, dict)
            for mode, f in figures.items():
                offered = "closed loop" if mode == "closed" else f"paced, {mode} req/s offered"
                rows.append(
                    [
                        size,
                        f"{label}, {CLIENTS} clients, {offered}",
                        f"{f['requests']:,.0f} requests, {f['per_s']:,.0f}/s",
                        "",
                        f"p50 {f['p50_ms']:.1f} ms, p99 {f['p99_ms']:.1f} ms",
                        f"{lat['rss']:,.0f} MiB (server)"
                        if route == "preview" and mode == "closed"
                        else "",
                        _goal(route, f["p99_ms"], on_m and mode != "closed"),
                    ]
                )
    for size, (cpu_ms, wall_ms) in costs.items():
        ratio = cpu_ms / costs["demo"][0] if "demo" in costs else None
        rows.append(
            [
                size,
                "cost per deal, import + settle",
                "",
                "",
                f"CPU {cpu_ms:.2f} ms, wall {wall_ms:.2f} ms"
                + (f"; CPU {ratio:.2f}× demo's" if ratio is not None else ""),
                "",
                _goal("flat", ratio, size in ("m", "l")) if ratio is not None else "",
            ]
        )
    append_section(
        f"Scale table on {name}: " + ", ".join(args.sizes),
        ["size", "stage", "work", "time (wall, CPU)", "figure", "peak RSS", "goal"],
        rows,
        f"Seed {args.seed}. Each stage in its own child process; time and CPU are that child's "
        "with its own workers' (`os.wait4`), peak RSS that of all its processes together "
        "(import's and settle's workers: summed, sampled every 0.2 s). Generate writes to "
        "/dev/null and does not depend on the store. Import = "
        "`contribnet import` of the JSON Lines file into a fresh store. Settle = `contribnet "
        f"settle --workers {WORKERS}` of every deal after the ledger is emptied; the engine "
        "alone is `compute_split` on up to 10,000 of the same deals' journeys in memory, one "
        f"core. Latency: {CLIENTS} clients (plain asyncio HTTP/1.1, kept-alive, on the same two "
        f"cores) against `contribnet serve --workers {WORKERS}`, after 500 untimed requests per "
        "route; random closed deals' previews and random customers' journeys; in a closed loop "
        f"latency is {CLIENTS} / throughput by construction, so the goals are read on the paced "
        "rows. Cost per deal counts import and settle CPU"
        + (" including the Neo4j server's (/proc/PID/stat)" if pid else "")
        + f". Load average (1 min) during the run: {min(loads):.1f}–{max(loads):.1f}.",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(SIZES), help="default tiny,demo,m,l")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--store", choices=("sqlite", "neo4j", "both"), default="both")
    parser.add_argument("--requests", type=int, default=2_000, help="requests per latency mode")
    parser.add_argument("--seconds", type=float, default=60, help="time limit per latency mode")
    parser.add_argument(
        "--rates", default="100,200", help="offered rates (requests/s) besides the closed loop"
    )
    parser.add_argument("--fresh", action="store_true", help="measure again what is cached")
    parser.add_argument(
        "--neo4j-dir", type=Path, help="the data folder of NEO4J_URI's local server (its CPU)"
    )
    args = parser.parse_args()
    args.sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    if unknown := set(args.sizes) - set(SIZES):
        parser.error(f"--sizes: unknown {', '.join(sorted(unknown))}")
    home = cache_dir() / "bench-scale"
    home.mkdir(parents=True, exist_ok=True)
    for kind in ("sqlite", "neo4j") if args.store == "both" else (args.store,):
        if kind == "sqlite":
            run_store(kind, None, home, args, None)
            continue
        url, started_here = neo4j_server(home)
        data_dir = home / "neo4j" if started_here else args.neo4j_dir
        local = neo4j_local.status(data_dir) if data_dir else None
        try:
            run_store(kind, url, home, args, local.pid if local else None)
        finally:
            if started_here:
                neo4j_local.stop(home / "neo4j")


if __name__ == "__main__":
    main()

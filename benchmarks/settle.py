"""Settlement throughput and credit-preview latency on each store, each beside a reference.

* **Settle** -- every deal of the ``m`` demo network (about 100,000) settled end to end, from Neo4j
  and from SQLite, by ``contribnet settle --workers N`` in a child process: list the unsettled
  deals, read their journeys a chunk at a time (Neo4j: one query; SQLite: one per kind of item),
  compute each split, write the chunk's settlements (and ``CREDITED``) in one transaction.
  References on the same store in the same run: the **bare read** (every deal's journey read in
  the same chunks, nothing computed or written) and the **engine alone** (``compute_split`` on
  journeys already in memory), each on one core.
* **Preview** -- a real ``contribnet serve --workers 2`` (uvicorn) on loopback over the same
  store; 50 concurrent clients ask ``GET /v1/deals/{id}/credit`` for random deals. *Closed loop*:
  each client sends its next request as soon as the last answer arrives (the server saturated);
  *paced*: each client pauses at random (Poisson arrivals) so that together they offer a set rate
  (50, 100, 200 and 300 requests/s by default).
  Bounded by a request count and a time limit; latency is measured by the clients.

The network is loaded once (through ``ingest_stream``, the import path) into a Neo4j and a SQLite
file kept under ``.cache/bench-settle/`` and reused by later runs -- loading ``m`` takes minutes,
and its time is reported when it happens. The ledger (policies, settlements, adjustments,
``CREDITED``) is emptied before each run. ``NEO4J_URI`` points the benchmark at another server
instead (which it wipes and loads when it does not hold the network).

Run: ``make bench`` or ``python -m benchmarks.settle [--store neo4j|sqlite|both] [--size m]
[--workers 2] [--requests 4000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

from benchmarks.ingest import serve, tree_rss_mib
from benchmarks.results_file import append_section
from benchmarks.stages import Stage, contribnet, run_stage
from contribnet import neo4j_local
from contribnet.credit import compute_split
from contribnet.demo.generator import generate_with_summary
from contribnet.domain.events import Event
from contribnet.paths import cache_dir
from contribnet.services.ingest import ingest_stream
from contribnet.services.policies import ensure_default_policy
from contribnet.store import Store, open_store

_Measured = TypeVar("_Measured")

CHUNK = 1000
ENGINE_SAMPLE = 10_000
CLIENTS = 50
BENCH_KEY = "bench-admin-key-0123456789"  # an admin key needs 24+ characters
GOALS = {"settle": 2_000.0, "p99_ms": 50.0}

#: Empties the ledger in bounded transactions (benchmark tooling, not part of the store port);
#: each statement reads by label, not every node, so that it ends well within the server's
#: transaction timeout on a loaded machine.
RESET = (
    *(
        f"MATCH (n:{label}) CALL (n) {{ DETACH DELETE n }} IN TRANSACTIONS OF 1000 ROWS"
        for label in ("Settlement", "Adjustment", "Policy")
    ),
    "MATCH ()-[c:CREDITED]->() CALL (c) { DELETE c } IN TRANSACTIONS OF 1000 ROWS",
    "MATCH (d:Deal) WHERE d.settlement IS NOT NULL "
    "CALL (d) { REMOVE d.settlement } IN TRANSACTIONS OF 1000 ROWS",
)
WIPE = "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"


def _url(uri: str, user: str, password: str) -> str:
    parts = urlsplit(uri)
    return (
        f"{parts.scheme}://{quote(user)}:{quote(password, safe='')}@{parts.hostname}:{parts.port}"
    )


def neo4j_server(home: Path) -> tuple[str, bool]:
    """The store URL of NEO4J_URI's server, or of the cached local one (started if need be), and
    whether this run started it."""
    if os.environ.get("NEO4J_URI"):
        user, password = os.environ.get("NEO4J_USER", "neo4j"), os.environ.get("NEO4J_PASSWORD", "")
        return _url(os.environ["NEO4J_URI"], user, password), False
    running = neo4j_local.status(home / "neo4j")
    if running is not None:
        return _url(running.uri, running.user, running.password), False
    # Each run rewrites ~100k settlements: keep one transaction log file, not two days of them.
    server = neo4j_local.start(
        home / "neo4j",
        heap="2g",
        pagecache="4g",
        conf={"db.tx_log.rotation.retention_policy": "1 files"},
    )
    return _url(server.uri, server.user, server.password), True


def ensure_network(
    url: str,
    home: Path,
    size: str,
    seed: int,
    *,
    wrap: Callable[[Iterator[Event]], Iterable[Event]] | None = None,
    after_load: Callable[[Store], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Load the network unless the store holds it already; what is loaded, and how long it took.

    ``wrap`` adds to the generated stream (e.g. activities); ``after_load`` runs once the network
    is loaded (e.g. settles it) and gives what to record beside the load. A marker file beside
    the cached server records what was loaded into which server (``local``: the one under
    ``home``, whose port changes from run to run; else the NEO4J_URI)."""
    sqlite = url.startswith("sqlite")
    server = "sqlite" if sqlite else os.environ.get("NEO4J_URI") or "local"
    marker = home / f"loaded-{'sqlite-' if sqlite else ''}{size}-{seed}.json"
    if sqlite and not marker.exists():
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    store = open_store(url)
    try:
        if marker.exists():
            loaded: dict[str, Any] = json.loads(marker.read_text())
            if loaded.get("server") == server and store.event_count() == loaded["events"]:
                return {**loaded, "cached": True}
        if not sqlite:
            driver = store._driver  # type: ignore[attr-defined]
            with driver.session() as session:
                session.run(WIPE).consume()
        events, summary = generate_with_summary(size, seed)
        print(
            f"loading the {size} network into {server} (once; later runs reuse it) ...", flush=True
        )
        started = time.perf_counter()
        stream = wrap(events) if wrap is not None else events
        result = ingest_stream(store, stream, progress=sys.stderr.isatty())
        seconds = time.perf_counter() - started
        loaded = {
            "server": server,
            "size": size,
            "seed": seed,
            "events": result.accepted,
            "deals": summary.deals,
            "load_seconds": round(seconds, 1),
            **(after_load(store) if after_load is not None else {}),
        }
        marker.write_text(json.dumps(loaded))
        return {**loaded, "cached": False}
    finally:
        store.close()


def store_arguments(parser: argparse.ArgumentParser) -> None:
    """``--size``, ``--seed`` and ``--store`` of a benchmark that loads a generated network."""
    parser.add_argument("--size", default="m", choices=["tiny", "demo", "m"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--store", choices=("neo4j", "sqlite", "both"), default="both", help="default both"
    )


def each_store(
    args: argparse.Namespace,
    home: Path,
    measure: Callable[[str], _Measured],
    load: Callable[[str, Path, str, int], dict[str, Any]] = ensure_network,
) -> Iterator[tuple[str, dict[str, Any], _Measured]]:
    """For each store ``args.store`` names: the network loaded (cached under ``home``; Neo4j:
    NEO4J_URI's server or a local one, stopped after if this run started it) and measured;
    ``(store name, what was loaded, the measurement)``."""
    for kind in ("sqlite", "neo4j") if args.store == "both" else (args.store,):
        started_here = False
        if kind == "neo4j":
            url, started_here = neo4j_server(home)
        else:
            url = f"sqlite:///{home / f'{args.size}-{args.seed}.db'}"
        try:
            loaded = load(url, home, args.size, args.seed)
            measured = measure(url)
        finally:
            if started_here:
                neo4j_local.stop(home / "neo4j")
        yield ("Neo4j" if kind == "neo4j" else "SQLite"), loaded, measured


#: The SQLite ledger's tables, emptied the same way.
SQLITE_LEDGER = (
    "settlement_staff",
    "current_settlements",
    "settlements",
    "adjustments",
    "policies",
)


def reset_ledger(url: str) -> None:
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            for table in SQLITE_LEDGER:
                db.execute(f"DELETE FROM {table}")
        return
    store = open_store(url)
    try:
        with store._driver.session() as session:  # type: ignore[attr-defined]
            for statement in RESET:
                session.run(statement).consume()
    finally:
        store.close()


def bare_read(url: str) -> tuple[int, float]:
    """Deals and seconds to read every deal's journey, chunk by chunk, on one core."""
    store = open_store(url)
    try:
        refs = store.ledger.closed_deals(None, None, limit=10**7)
        ids = [r.id for r in refs]
        started = time.perf_counter()
        read = 0
        for i in range(0, len(ids), CHUNK):
            read += len(store.deal_journeys(ids[i : i + CHUNK]))
        return read, time.perf_counter() - started
    finally:
        store.close()


def engine_alone(url: str) -> tuple[int, float]:
    """Deals and seconds for ``compute_split`` alone on journeys in memory, one core."""
    store = open_store(url)
    try:
        ensure_default_policy(store)
        policy = store.ledger.policies()[0].policy
        ids = [r.id for r in store.ledger.closed_deals(None, None, limit=ENGINE_SAMPLE)]
        journeys = []
        for i in range(0, len(ids), CHUNK):
            journeys += store.deal_journeys(ids[i : i + CHUNK]).values()
    finally:
        store.close()
    started = time.perf_counter()
    for journey in journeys:
        compute_split(journey, policy)
    return len(journeys), time.perf_counter() - started


def settle_run(url: str, workers: int) -> tuple[dict[str, Any], Stage]:
    """``contribnet settle`` over everything in a child process: its outcome, and the stage's
    time, CPU and peak RSS (the largest of its processes)."""
    stage = run_stage(
        contribnet(
            "settle", "--store", url, "--json", "--workers", str(workers), "--chunk", str(CHUNK)
        ),
        ok=(0, 1),
    )
    return json.loads(stage.stdout), stage


async def _get(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str, key: str
) -> int | None:
    """One HTTP/1.1 request on a kept-alive connection; the status, or None if the server had
    closed the connection. A few lines of asyncio rather than an HTTP library, so that the
    clients, on the same two cores, take little from the server they measure."""
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {key}\r\n\r\n".encode()
    )
    first = await reader.readline()
    if not first:
        return None
    status = int(first.split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


async def _clients(
    port: int,
    key: str,
    paths: list[str],
    requests: int,
    limit_s: float,
    rate: float | None,
    clients: int,
) -> list[float]:
    """Latencies of ``clients`` concurrent clients, each asking for random ``paths``: back to back
    (``rate`` None, a closed loop) or each pausing at random (Poisson arrivals) so that together
    they offer ``rate`` requests/s."""
    latencies: list[float] = []
    deadline = time.perf_counter() + limit_s
    budget = [requests]
    rng = random.Random(7)

    async def one_client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while budget[0] > 0 and time.perf_counter() < deadline:
                budget[0] -= 1
                if rate is not None:
                    await asyncio.sleep(rng.expovariate(rate / clients))
                path = rng.choice(paths)
                started = time.perf_counter()
                status = await _get(reader, writer, path, key)
                if status is None:  # idle past the server's keep-alive: connect again (timed)
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    status = await _get(reader, writer, path, key)
                latencies.append(time.perf_counter() - started)
                if status != 200:
                    raise RuntimeError(f"{path} answered {status}")
        finally:
            writer.close()

    await asyncio.gather(*(one_client() for _ in range(clients)))
    return latencies


def latency(
    port: int,
    key: str,
    paths: list[str],
    requests: int,
    limit_s: float,
    rate: float | None,
    clients: int = CLIENTS,
) -> dict[str, float]:
    """Requests answered, their rate, and the p50/p99 latency (ms) clients saw in one mode."""
    started = time.perf_counter()
    latencies = asyncio.run(_clients(port, key, paths, requests, limit_s, rate, clients))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "per_s": len(latencies) / elapsed,
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
    }


def preview_paths(url: str) -> list[str]:
    """The credit preview of every closed deal in the store."""
    store = open_store(url)
    try:
        deals = store.ledger.closed_deals(None, None, limit=10**7)
    finally:
        store.close()
    return [f"/v1/deals/{d.id}/credit" for d in deals]


def preview_latency(
    url: str, requests: int, limit_s: float, server_workers: int, rates: list[float]
) -> dict[str, Any]:
    """p50/p99 of previews in a closed loop and at each offered rate, from one server."""
    paths = preview_paths(url)
    key = BENCH_KEY
    server, port = serve(url, key, server_workers)
    try:
        latency(port, key, paths, 1000, 60, rate=None)  # warm-up, untimed
        figures: dict[str, Any] = {}
        for rate in [None, *rates]:
            mode = "closed" if rate is None else f"{rate:g}"
            figures[mode] = latency(port, key, paths, requests, limit_s, rate)
        figures["rss"] = tree_rss_mib(server.pid)
        return figures
    finally:
        server.terminate()
        server.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="m", help="demo network size (default m: ~100k deals)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2, help="settle processes (default 2)")
    parser.add_argument("--requests", type=int, default=4_000, help="previews per mode")
    parser.add_argument(
        "--server-workers", type=int, default=2, help="`contribnet serve --workers` (default 2)"
    )
    parser.add_argument(
        "--rates",
        default="50,100,200,300",
        help="offered preview rates (requests/s) to measure besides the closed loop",
    )
    parser.add_argument("--seconds", type=float, default=60, help="time limit per preview mode")
    parser.add_argument("--only", choices=("settle", "preview"), help="run one part (no results)")
    parser.add_argument(
        "--store", choices=("neo4j", "sqlite", "both"), default="both", help="default both"
    )
    args = parser.parse_args()

    home = cache_dir() / "bench-settle"
    home.mkdir(parents=True, exist_ok=True)
    for kind in ("neo4j", "sqlite") if args.store == "both" else (args.store,):
        if kind == "neo4j":
            url, started_here = neo4j_server(home)
        else:
            url, started_here = f"sqlite:///{home / f'{args.size}-{args.seed}.db'}", False
        try:
            run_store(kind, url, home, args)
        finally:
            if started_here:
                neo4j_local.stop(home / "neo4j")


def run_store(kind: str, url: str, home: Path, args: argparse.Namespace) -> None:
    """Settle everything and measure previews on one store; append its section."""
    name = "Neo4j" if kind == "neo4j" else "SQLite"
    loaded = ensure_network(url, home, args.size, args.seed)
    if args.only != "preview":
        reset_ledger(url)
        read_n, read_s = bare_read(url)
        engine_n, engine_s = engine_alone(url)
        outcome, settled_stage = settle_run(url, args.workers)
        settle_s, settle_rss = settled_stage.seconds, settled_stage.peak_rss_mib
        print(
            f"{name}: settled {outcome['created']:,} in {settle_s:.1f} s; read "
            f"{read_n / read_s:,.0f}/s, engine {engine_n / engine_s:,.0f}/s",
            flush=True,
        )
    if args.only != "settle":
        rates = [float(r) for r in args.rates.split(",") if r.strip()]
        previews = preview_latency(url, args.requests, args.seconds, args.server_workers, rates)
        print(json.dumps(previews), flush=True)
    if args.only:
        return

    settled = outcome["created"]
    rate = settled / settle_s
    engine_rate = engine_n / engine_s
    load = (
        f"the network was already loaded (loading it took {loaded.get('load_seconds', '?')} s "
        "when it was)"
        if loaded["cached"]
        else f"loading it through ingest_stream took {loaded['load_seconds']} s in this run"
    )
    rows: list[list[object]] = [
        [
            f"settle end to end ({name})",
            f"{args.workers} processes",
            f"{settled:,} deals",
            f"{rate:,.0f} deals/s ({rate / engine_rate:.0%} of the engine alone on one core)",
            f"{settle_rss:,.0f} MiB",
            f"≥ {GOALS['settle']:,.0f} deals/s"
            + (" and ≥ 50% of the engine alone" if kind == "sqlite" else ""),
        ],
        [
            "reference: bare read of the journeys",
            "1 process",
            f"{read_n:,} deals",
            f"{read_n / read_s:,.0f} deals/s",
            "",
            "",
        ],
        [
            "reference: engine alone (compute_split)",
            "1 process",
            f"{engine_n:,} deals",
            f"{engine_rate:,.0f} deals/s",
            "",
            "",
        ],
    ]
    modes = [("closed", "closed loop")] + [
        (mode, f"paced, {mode} req/s offered") for mode in previews if mode not in ("closed", "rss")
    ]
    for mode, label in modes:
        p = previews[mode]
        rows.append(
            [
                f"preview, {CLIENTS} clients, {label}",
                f"uvicorn, {args.server_workers} process{'es' if args.server_workers > 1 else ''}",
                f"{p['requests']:,} requests, {p['per_s']:,.0f}/s",
                f"p50 {p['p50_ms']:.1f} ms, p99 {p['p99_ms']:.1f} ms",
                f"{previews['rss']:,.0f} MiB" if mode == "closed" else "",
                f"p99 < {GOALS['p99_ms']:.0f} ms",
            ]
        )
    append_section(
        f"Settlement: {settled:,} deals of the {args.size} network from {name}, "
        "and preview latency",
        ["what", "how", "work", "figure", "peak RSS", "goal"],
        rows,
        f"Network: {loaded['events']:,} events, {loaded['deals']:,} deals (seed {loaded['seed']}); "
        f"{load}. Settle = `contribnet settle --workers {args.workers}` in a child process (list "
        f"unsettled deals, read journeys {CHUNK} at a time (Neo4j: one query; SQLite: a query per "
        "kind of item), compute, write each chunk's settlements in one transaction); its peak RSS "
        "is the largest of its processes. The references run on one core in this process on the "
        "same store, reading the same chunks. Preview latency is measured by the clients (plain "
        "asyncio HTTP/1.1 on kept-alive connections, on the same two cores) after 1,000 untimed "
        "requests; with 50 clients in a closed loop the latency is 50 / throughput by "
        "construction. The server's peak RSS (summed over its processes) is on the closed-loop "
        "row.",
    )


if __name__ == "__main__":
    main()

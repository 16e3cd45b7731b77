"""Soak: 50 concurrent clients ingesting and reading against a real server, then every event
counted; and what the access log and metrics cost ingest, measured on and off in the same run.

For each store (SQLite in a temporary folder; Neo4j, the local one kept under
``.cache/bench-soak/`` — started if need be — or ``NEO4J_URI``'s):

* **Soak** -- a real ``contribnet serve --workers 2`` on loopback (its log, access lines
  included, written to a file) and 50 clients on kept-alive connections, each doing, back to
  back for ``--seconds`` (default 300) and at most ``--requests`` requests: ``POST /v1/events``
  batches of 20 touches for a pool of customers (every third batch also a new customer, a few
  touches and the deal they closed), exact resends of batches already acknowledged (which must
  come back all ``duplicates``), ``GET /v1/customers/{id}/journey``, ``GET /v1/deals?…`` (by
  store, or by period), ``GET /v1/stores`` and ``GET /v1/deals/{id}/credit`` on deals this run
  created. Every answer other than the expected 200 (and the expected accepted/duplicates
  counts) is an error, by status; latency per route is measured by the clients.
* **Counted after** -- every event the clients had acknowledged is looked up in the store,
  opened directly: *lost* = acknowledged but not stored, *doubled* = stored more than once (in
  the log, and for touches and deals in the projection too).
* **Observability cost** -- the same server restarted four times in turn with the access log
  and metrics on, off, off, on (``CONTRIBNET_OBSERVABILITY=off``, ABBA so that drift in the
  machine's load cancels), 50 clients posting batches of 20 touches for ``--cost-seconds`` each:
  small batches, so the per-request cost of a log line and the metrics shows, not hides.

Every id carries the run's prefix, so a reused Neo4j can hold earlier runs. Only loopback
addresses are used. Run: ``make bench`` or ``python -m benchmarks.soak [--seconds 300]
[--skip-neo4j]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from benchmarks.results_file import append_section
from benchmarks.settle import neo4j_server
from contribnet import neo4j_local
from contribnet.demo.generator import generate_with_summary
from contribnet.paths import cache_dir
from contribnet.store import open_store

CLIENTS = 50
TOUCHES = 20  # touches per ingest batch
POOL = 2_000  # customers seeded before the clients start
TIMEOUT_S = 60.0  # one request's limit; past it, an error ("timeout")
GOALS = {"errors": 0, "lost": 0, "doubled": 0, "cost": 0.05}
#: What a client does next, and how often (weights).
MIX = {
    "ingest": 40,
    "resend": 5,
    "journey": 20,
    "deals": 12,
    "stores": 5,
    "credit": 18,
}
ROUTES = {
    "ingest": "POST /v1/events",
    "resend": "POST /v1/events (exact resend)",
    "journey": "GET /v1/customers/{id}/journey",
    "deals": "GET /v1/deals?store=… or ?from=…&to=…",
    "stores": "GET /v1/stores",
    "credit": "GET /v1/deals/{id}/credit",
}
STAGES = ("lead", "reception", "consultation", "test_drive", "quote", "follow_up")


# --- the world and the events ------------------------------------------------------------------


@dataclass
class World:
    """The brands, stores and staff of the ``tiny`` demo network, and this run's customers."""

    run: str
    reference: list[dict[str, Any]]  # brands, stores, staff spells (no run prefix)
    staff_at: dict[str, list[str]]  # store -> staff working there now
    customers: list[dict[str, Any]]

    @property
    def stores(self) -> list[str]:
        return sorted(self.staff_at)


def make_world(run: str) -> World:
    events, _ = generate_with_summary("tiny", 1)
    reference = [e for e in events if e["type"] in ("brand", "store", "staff")]
    staff_at: dict[str, list[str]] = {}
    for e in reference:
        if e["type"] == "staff" and e.get("to") is None:
            staff_at.setdefault(e["store"], []).append(e["id"])
    staff_at = {s: sorted(set(ids)) for s, ids in staff_at.items() if ids}
    customers = [{"type": "customer", "id": f"{run}-c-{i}"} for i in range(POOL)]
    return World(run, reference, staff_at, customers)


def _at(rng: random.Random, month_lo: int = 1, month_hi: int = 11) -> str:
    return (
        f"2025-{rng.randint(month_lo, month_hi):02d}-{rng.randint(1, 28):02d}T"
        f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z"
    )


@dataclass
class Tally:
    """What the clients saw: requests, errors by kind, latencies by route, acknowledged events."""

    requests: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    latency: dict[str, list[float]] = field(default_factory=dict)
    acknowledged: dict[str, str] = field(default_factory=dict)  # event key -> type
    touches: int = 0  # touches in acknowledged new batches (for throughput)
    bodies: list[tuple[bytes, int]] = field(default_factory=list)  # acknowledged, for resends
    deals: list[str] = field(default_factory=list)
    customers: list[str] = field(default_factory=list)

    def error(self, kind: str, detail: str) -> None:
        self.errors[kind] += 1
        if len(self.examples) < 10:
            self.examples.append(f"{kind}: {detail[:300]}")


class Client:
    """One client: a kept-alive HTTP/1.1 connection in a few lines of asyncio (as in
    ``benchmarks.settle``), so that 50 of them take little of the cores the server needs."""

    def __init__(self, port: int, key: str) -> None:
        self.port = port
        self.key = key
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        """The status and body; one new connection (timed) if the server had closed ours."""
        for attempt in (1, 2):
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
            answer = await asyncio.wait_for(self._exchange(method, path, body), TIMEOUT_S)
            if answer is not None:
                return answer
            await self.close()
            if attempt == 2:
                raise ConnectionError("the server closed the connection twice")
        raise AssertionError("unreachable")

    async def _exchange(self, method: str, path: str, body: bytes) -> tuple[int, bytes] | None:
        assert self.reader is not None and self.writer is not None
        head = f"{method} {path} HTTP/1.1\r\nHost: soak\r\nAuthorization: Bearer {self.key}\r\n"
        if body:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + body)
        first = await self.reader.readline()
        if not first:
            return None
        status = int(first.split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)


# --- the clients ---------------------------------------------------------------------------


async def run_clients(
    port: int,
    key: str,
    world: World,
    tally: Tally,
    seconds: float,
    requests: int,
    mix: dict[str, int],
    prefix: str,
    seed: int,
) -> float:
    """``CLIENTS`` clients doing ``mix`` back to back until ``seconds`` pass or ``requests``
    are sent; the seconds they took."""
    deadline = time.perf_counter() + seconds
    budget = [requests]
    actions, weights = list(mix), list(mix.values())
    stores = world.stores

    async def one_client(n: int) -> None:
        rng = random.Random(seed * 1000 + n)
        client = Client(port, key)
        serial = 0
        try:
            while budget[0] > 0 and time.perf_counter() < deadline:
                budget[0] -= 1
                action = rng.choices(actions, weights)[0]
                if action == "resend" and not tally.bodies:
                    action = "ingest"
                if action == "credit" and not tally.deals:
                    action = "journey"
                expect: tuple[int, int] | None = None
                new: list[dict[str, Any]] = []
                if action == "ingest":
                    serial += 1
                    new = _batch(rng, world, stores, f"{prefix}-{n}-{serial}", serial % 3 == 0)
                    body = json.dumps({"events": new}).encode()
                    method, path, expect = "POST", "/v1/events", (len(new), 0)
                elif action == "resend":
                    body, count = rng.choice(tally.bodies)
                    method, path, expect = "POST", "/v1/events", (0, count)
                else:
                    method, body = "GET", b""
                    path = _read_path(action, rng, world, tally, stores)
                started = time.perf_counter()
                try:
                    status, answer = await client.request(method, path, body)
                except (OSError, asyncio.IncompleteReadError, TimeoutError) as exc:
                    tally.requests[action] += 1
                    tally.error(f"{ROUTES[action]}: {type(exc).__name__}", str(exc))
                    await client.close()
                    continue
                tally.latency.setdefault(action, []).append(time.perf_counter() - started)
                tally.requests[action] += 1
                if status != 200:
                    tally.error(f"{ROUTES[action]}: {status}", answer.decode(errors="replace"))
                    continue
                if expect is not None:
                    got = json.loads(answer)
                    if (got.get("accepted"), got.get("duplicates")) != expect:
                        tally.error(
                            f"{ROUTES[action]}: wrong counts",
                            f"expected accepted/duplicates {expect}, got {got}",
                        )
                        continue
                if new:
                    for e in new:
                        tally.acknowledged[e["id"]] = e["type"]
                        if e["type"] == "deal":
                            tally.deals.append(e["id"])
                        elif e["type"] == "customer":
                            tally.customers.append(e["id"])
                    tally.touches += sum(1 for e in new if e["type"] == "touch")
                    if len(tally.bodies) < 2_000:
                        tally.bodies.append((body, len(new)))
        finally:
            await client.close()

    started = time.perf_counter()
    await asyncio.gather(*(one_client(n) for n in range(CLIENTS)))
    return time.perf_counter() - started


def _batch(
    rng: random.Random, world: World, stores: list[str], ids: str, with_deal: bool
) -> list[dict[str, Any]]:
    """``TOUCHES`` touches of pool customers, each at its home store (few contributors per
    journey); with a deal, a new customer, 3-6 touches of theirs and the deal they close."""
    events: list[dict[str, Any]] = []
    for i in range(TOUCHES):
        c = rng.randrange(POOL)
        store = stores[c % len(stores)] if rng.random() < 0.9 else rng.choice(stores)
        events.append(
            {
                "type": "touch",
                "id": f"{ids}-t{i}",
                "at": _at(rng),
                "customer": world.customers[c]["id"],
                "staff": rng.choice(world.staff_at[store]),
                "store": store,
                "stage": rng.choice(STAGES),
            }
        )
    if with_deal:
        customer, store = f"{ids}-c", rng.choice(stores)
        events.append({"type": "customer", "id": customer})
        staff = world.staff_at[store]
        for i in range(rng.randint(3, 6)):
            events.append(
                {
                    "type": "touch",
                    "id": f"{ids}-dt{i}",
                    "at": _at(rng, 10, 11),
                    "customer": customer,
                    "staff": rng.choice(staff),
                    "store": store,
                    "stage": STAGES[min(i, len(STAGES) - 1)],
                }
            )
        events.append(
            {
                "type": "deal",
                "id": f"{ids}-d",
                "customer": customer,
                "store": store,
                "staff": rng.choice(staff),
                "closed_at": _at(rng, 12, 12),
                "amount": rng.randint(150_000, 400_000) * 100,
                "reward_pool": rng.randint(1_000, 5_000) * 100,
            }
        )
    return events


def _read_path(
    action: str, rng: random.Random, world: World, tally: Tally, stores: list[str]
) -> str:
    if action == "journey":
        if tally.customers and rng.random() < 0.3:
            return f"/v1/customers/{rng.choice(tally.customers)}/journey"
        return f"/v1/customers/{rng.choice(world.customers)['id']}/journey"
    if action == "deals":
        if rng.random() < 0.5:
            return f"/v1/deals?store={rng.choice(stores)}&limit=20"
        month = rng.randint(1, 12)
        return f"/v1/deals?from=2025-{month:02d}-01&to=2025-{month:02d}-28&limit=20"
    if action == "stores":
        return "/v1/stores"
    return f"/v1/deals/{rng.choice(tally.deals)}/credit"


# --- the server ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(store_url: str, key: str, workers: int, observability: bool, log: Path) -> Iterator[int]:
    """A ``contribnet serve --workers N`` on a free loopback port, its stderr (the log, access
    lines included) appended to ``log``; its port once it answers."""
    port = _free_port()
    env = {
        **os.environ,
        "CONTRIBNET_ADMIN_KEY": key,
        "CONTRIBNET_OBSERVABILITY": "on" if observability else "off",
    }
    command = [sys.executable, "-m", "contribnet.cli", "serve", "--port", str(port)]
    command += ["--store", store_url, "--workers", str(workers)]
    with log.open("ab") as err:
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, env=env)
    try:
        for _ in range(600):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"contribnet serve on port {port} did not answer within a minute")
        yield port
    finally:
        server.terminate()
        server.wait(30)


def seed_world(port: int, key: str, world: World) -> None:
    """The reference entities and the run's customers, in one batch each."""
    for events in (world.reference, world.customers):
        response = httpx.post(
            f"http://127.0.0.1:{port}/v1/events",
            json={"events": events},
            headers={"Authorization": f"Bearer {key}"},
            timeout=120,
        )
        response.raise_for_status()


# --- counting after ------------------------------------------------------------------------


def stored_keys(url: str, prefix: str) -> tuple[Counter[str], Counter[str]]:
    """Keys with ``prefix`` in the store's event log, and ids of its projected touches and deals
    (each counted as often as stored)."""
    store = open_store(url)
    try:
        if url.startswith("sqlite"):
            db = store._db  # type: ignore[attr-defined]
            hi = prefix + "\U0010ffff"
            log = Counter(
                r[0]
                for r in db.execute(
                    "SELECT key FROM events WHERE key >= ? AND key < ?", (prefix, hi)
                )
            )
            projected: Counter[str] = Counter()
            for table in ("touches", "deals", "customers"):
                projected.update(
                    r[0]
                    for r in db.execute(
                        f"SELECT id FROM {table} WHERE id >= ? AND id < ?",  # noqa: S608
                        (prefix, hi),
                    )
                )
            return log, projected
        driver = store._driver  # type: ignore[attr-defined]
        database = store._database  # type: ignore[attr-defined]
        records, _, _ = driver.execute_query(
            "MATCH (e:Event) WHERE e.key STARTS WITH $p RETURN e.key AS key",
            p=prefix,
            database_=database,
        )
        log = Counter(r["key"] for r in records)
        records, _, _ = driver.execute_query(
            "MATCH ()-[t:TOUCHED]->() WHERE t.id STARTS WITH $p RETURN t.id AS id",
            p=prefix,
            database_=database,
        )
        touched = Counter(r["id"] for r in records)
        log.update(touched)  # a touch's log entry is its TOUCHED relationship
        projected = Counter(touched)
        for label in ("Deal", "Customer"):
            records, _, _ = driver.execute_query(
                f"MATCH (n:{label}) WHERE n.id STARTS WITH $p RETURN n.id AS id",
                p=prefix,
                database_=database,
            )
            projected.update(r["id"] for r in records)
        return log, projected
    finally:
        store.close()


def count_after(url: str, prefix: str, acknowledged: dict[str, str]) -> dict[str, int]:
    log, projected = stored_keys(url, prefix)
    sent = set(acknowledged)
    return {
        "acknowledged": len(sent),
        "lost": len(sent - set(log)) + len(sent - set(projected)),
        "doubled": sum(1 for n in log.values() if n > 1)
        + sum(1 for n in projected.values() if n > 1),
        "unexpected": len(set(log) - sent),  # stored, never acknowledged (a failed batch)
    }


# --- one store -----------------------------------------------------------------------------


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else 0.0


def log_problems(log: Path) -> int:
    """Lines of the servers' log at error level or with a traceback."""
    text = log.read_text(errors="replace") if log.exists() else ""
    return sum(1 for line in text.splitlines() if " ERROR " in line or "Traceback" in line)


def soak_store(
    name: str, url: str, tmp: Path, args: argparse.Namespace, run: str
) -> dict[str, Any]:
    key = "soak-admin-" + os.urandom(16).hex()  # the admin key needs 24+ characters
    world = make_world(run)
    log = tmp / f"{name.split()[0].lower()}-serve.log"
    tally = Tally()
    with served(url, key, args.workers, True, log) as port:
        seed_world(port, key, world)
        tally.acknowledged.update({c["id"]: "customer" for c in world.customers})
        print(f"{name}: soak, {CLIENTS} clients for {args.seconds:g} s ...", flush=True)
        elapsed = asyncio.run(
            run_clients(port, key, world, tally, args.seconds, args.requests, MIX, run, 1)
        )
    # The cost of the access log and the metrics: ingest alone, on and off in turn (ABBA...),
    # both servers up all along, so that a change in the machine's load hits both alike.
    rates: dict[bool, list[float]] = {True: [], False: []}
    with (
        served(url, key, args.workers, True, log) as on_port,
        served(url, key, args.workers, False, log) as off_port,
    ):
        order = [(True, False, False, True)[i % 4] for i in range(args.cost_rounds)]
        print(
            f"{name}: ingest, observability on/off in turn, {len(order)} rounds of "
            f"{args.cost_seconds:g} s ...",
            flush=True,
        )
        for i, observability in enumerate(order):
            cost = Tally()
            seconds = asyncio.run(
                run_clients(
                    on_port if observability else off_port,
                    key,
                    world,
                    cost,
                    args.cost_seconds,
                    args.requests,
                    {"ingest": 1},
                    f"{run}-cost{i}",
                    2 + i,
                )
            )
            rates[observability].append(cost.touches / seconds)
            tally.acknowledged.update(cost.acknowledged)
            tally.errors.update(cost.errors)
            tally.examples += cost.examples[:3]
            tally.requests["cost ingest"] += sum(cost.requests.values())
    counted = count_after(url, run, tally.acknowledged)
    on, off = statistics.median(rates[True]), statistics.median(rates[False])
    result = {
        "store": name,
        "seconds": elapsed,
        "requests": dict(tally.requests),
        "errors": dict(tally.errors),
        "examples": tally.examples,
        "routes": {
            ROUTES[a]: {
                "n": len(v),
                "p50_ms": _pct(v, 0.5),
                "p99_ms": _pct(v, 0.99),
            }
            for a, v in tally.latency.items()
        },
        "deals": len(tally.deals),
        "touches_per_s": tally.touches / elapsed,
        "counted": counted,
        "ingest_on": on,
        "ingest_off": off,
        "rounds": {"on": rates[True], "off": rates[False]},
        "cost": 1 - on / off if off else float("nan"),
        "log_problems": log_problems(log),
    }
    print(json.dumps(result, indent=1), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=300, help="soak time per store")
    parser.add_argument(
        "--requests", type=int, default=2_000_000, help="at most this many requests per phase"
    )
    parser.add_argument(
        "--cost-seconds", type=float, default=10, help="each on/off ingest round (default 10)"
    )
    parser.add_argument(
        "--cost-rounds", type=int, default=12, help="on/off ingest rounds, ABBA… (default 12)"
    )
    parser.add_argument("--workers", type=int, default=2, help="`contribnet serve --workers`")
    parser.add_argument("--skip-neo4j", action="store_true")
    parser.add_argument("--no-results", action="store_true", help="print, do not append")
    args = parser.parse_args()
    run = f"soak{int(time.time()):x}"
    loadavg = os.getloadavg()[0]
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        results.append(soak_store("SQLite", f"sqlite:///{tmp}/soak.db", Path(tmp), args, run))
        if not args.skip_neo4j:
            home = cache_dir() / "bench-soak"
            home.mkdir(parents=True, exist_ok=True)
            url, started_here = neo4j_server(home)
            try:
                results.append(soak_store("Neo4j 5.26", url, Path(tmp), args, run))
            finally:
                if started_here:
                    neo4j_local.stop(home / "neo4j")
    loadavg = max(loadavg, os.getloadavg()[0])
    if args.no_results:
        return
    append_section(
        f"Soak: {CLIENTS} clients for {args.seconds:g} s per store, events counted after, "
        "and the cost of logs and metrics",
        ["store", "what", "figure", "goal"],
        [row for r in results for row in _rows(r)],
        _notes(args, loadavg),
    )


def _rows(r: dict[str, Any]) -> list[list[object]]:
    store = r["store"]
    total = sum(r["requests"].values())
    errors = sum(r["errors"].values())
    c = r["counted"]
    by_kind = ", ".join(f"{k} × {n}" for k, n in sorted(r["errors"].items()))
    rows: list[list[object]] = [
        [
            store,
            "requests, errors",
            f"{total:,} requests ({r['requests'].get('ingest', 0):,} new batches, "
            f"{r['touches_per_s']:,.0f} touches/s in the mix, {r['deals']:,} deals), "
            f"{errors} errors{': ' + by_kind if by_kind else ''}; "
            f"{r['log_problems']} error lines in the server log",
            "0 errors",
        ],
        [
            store,
            "events counted after",
            f"{c['acknowledged']:,} acknowledged: {c['lost']} lost, {c['doubled']} doubled, "
            f"{c['unexpected']} stored unacknowledged",
            "0 lost, 0 doubled",
        ],
    ]
    for route, p in r["routes"].items():
        rows.append(
            [
                store,
                route,
                f"{p['n']:,} requests: p50 {p['p50_ms']:.1f} ms, p99 {p['p99_ms']:.1f} ms",
                "",
            ]
        )
    on = ", ".join(f"{x:,.0f}" for x in r["rounds"]["on"])
    off = ", ".join(f"{x:,.0f}" for x in r["rounds"]["off"])
    rows.append(
        [
            store,
            "ingest with access log + metrics on / off",
            f"{r['ingest_on']:,.0f} / {r['ingest_off']:,.0f} touches/s, medians (rounds on "
            f"{on}; off {off}): cost {r['cost']:.1%}",
            "cost < 5%",
        ]
    )
    return rows


def _notes(args: argparse.Namespace, loadavg: float) -> str:
    return (
        f"Each store: `contribnet serve --workers {args.workers}` on loopback, its log (an access "
        f"line per request) to a file; {CLIENTS} clients (plain asyncio HTTP/1.1 on kept-alive "
        "connections, in one process on the same cores) back to back for "
        f"{args.seconds:g} s: new batches of {TOUCHES} touches (every third with a new customer, "
        "3-6 touches and their deal), exact resends, journeys, deal lists by store or period, "
        "stores and credit previews of this run's deals, in the proportions "
        + ", ".join(f"{k} {v}" for k, v in MIX.items())
        + ". Latency is the clients' (a closed loop: it includes queueing behind the other 49). "
        "Counted after: every acknowledged event's key looked up in the store's log and "
        "projection, opened directly. Cost: two servers on the same store, one with "
        "`CONTRIBNET_OBSERVABILITY=off`, both up throughout; "
        f"{args.cost_rounds} rounds in turn (on, off, off, on, …) of {args.cost_seconds:g} s of "
        f"{CLIENTS} clients posting batches of {TOUCHES} touches; cost = 1 − median(on) / "
        "median(off). Load average (1 min) up to "
        f"{loadavg:.1f} during the run on this shared machine."
    )


if __name__ == "__main__":
    main()

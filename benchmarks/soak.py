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
* **Observability cost** -- two servers on the same store, one with the access log and metrics
  on and one with them off (``CONTRIBNET_OBSERVABILITY=off``), loaded at the same time: in each
  of ``--cost-rounds`` rounds of ``--cost-seconds``, 25 clients post batches of 20 touches to
  one and 25 to the other (the groups swap servers every round), so that the rest of the
  machine's load hits both alike; cost = median over pairs of rounds of 1 − on/off touches/s
  (geometric mean of the pair's two rounds), with each
  server's CPU time per touch beside it. Small batches, so the per-request cost of a log line
  and the metrics shows, not hides. (Rounds that alternate one server and then the other, as
  before, measured the machine's load drift: 8.3% and −4.3% in the same run.)

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
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Coroutine, Iterator
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
#: A connection idle this long is not reused: uvicorn closes kept-alive connections idle for
#: 5 s, and a request sent as it does so meets a reset (an error of the client, not the server).
KEEP_ALIVE_S = 4.0
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
        self.used = 0.0  # when the connection last answered (time.monotonic)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        """The status and body; one new connection (timed) if the server had closed ours."""
        if self.writer is not None and time.monotonic() - self.used > KEEP_ALIVE_S:
            await self.close()  # the server may be closing it: a request then meets a reset
        for attempt in (1, 2):
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
            answer = await asyncio.wait_for(self._exchange(method, path, body), TIMEOUT_S)
            if answer is not None:
                self.used = time.monotonic()
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
    clients: range = range(CLIENTS),
) -> float:
    """``clients`` (numbered; ``CLIENTS`` by default) doing ``mix`` back to back until
    ``seconds`` pass or ``requests`` are sent; the seconds they took."""
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
    await asyncio.gather(*(one_client(n) for n in clients))
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


@dataclass(frozen=True)
class Server:
    port: int
    pid: int

    def cpu_seconds(self) -> float:
        """CPU time (user + system) of the server and every process under it (its workers)."""
        return cpu_seconds(self.pid)


def cpu_seconds(root: int) -> float:
    """User + system CPU seconds of process ``root`` and its live descendants, from /proc."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        times[pid] = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += times.get(pid, 0.0)
        todo += [child for child, parent in parents.items() if parent == pid]
    return total


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(
    store_url: str, key: str, workers: int, observability: bool, log: Path
) -> Iterator[Server]:
    """A ``contribnet serve --workers N`` on a free loopback port, its stderr (the log, access
    lines included) appended to ``log``; its port and pid once it answers."""
    port = _free_port()
    env = {
        **os.environ,
        "CONTRIBNET_ADMIN_KEY": key,
        "CONTRIBNET_OBSERVABILITY": "on" if observability else "off",
    }
    command = [sys.executable, "-m", "contribnet.cli", "serve", "--port", str(port)]
    command += ["--store", store_url, "--workers", str(workers)]
    with log.open("ab") as err:
        server = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=err, env=env, start_new_session=True
        )
    try:
        for _ in range(600):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"contribnet serve on port {port} did not answer within a minute")
        yield Server(port, server.pid)
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:  # a worker stuck on the store: the whole group goes
            os.killpg(server.pid, signal.SIGKILL)
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


_NEO4J_CODE = re.compile(r"Neo\.\w+\.\w+\.\w+")
_NUMBERS = re.compile(r"(?<!\w)\d[\d.,]*")


def log_warnings(log: Path) -> Counter[str]:
    """The servers' warnings by kind: ``logger: message`` with numbers masked, and the Neo4j
    status code the line names (a deadlock the driver retried, a timed-out transaction ...)."""
    kinds: Counter[str] = Counter()
    text = log.read_text(errors="replace") if log.exists() else ""
    for line in text.splitlines():
        parts = line.split(" ", 4)  # date, time, level, logger, message
        if len(parts) < 5 or parts[2] != "WARNING":
            continue
        code = _NEO4J_CODE.search(line)
        message = _NUMBERS.sub("N", parts[4])[:60].rstrip()
        kinds[f"{parts[3]}: {message}" + (f" [{code.group()}]" if code else "")] += 1
    return kinds


def store_log(name: str, benchmark: str = "soak") -> Path:
    """Where a store's server log is kept (overwritten by each run), for a look afterwards."""
    folder = cache_dir() / "bench-soak" / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / f"{benchmark}-{name.split()[0].lower()}-serve.log"
    log.write_bytes(b"")
    return log


def soak_store(
    name: str, url: str, tmp: Path, args: argparse.Namespace, run: str
) -> dict[str, Any]:
    key = "soak-admin-" + os.urandom(16).hex()  # the admin key needs 24+ characters
    world = make_world(run)
    log = store_log(name)
    tally = Tally()
    with served(url, key, args.workers, True, log) as server:
        seed_world(server.port, key, world)
        tally.acknowledged.update({c["id"]: "customer" for c in world.customers})
        print(f"{name}: soak, {CLIENTS} clients for {args.seconds:g} s ...", flush=True)
        elapsed = asyncio.run(
            run_clients(server.port, key, world, tally, args.seconds, args.requests, MIX, run, 1)
        )
    cost = measure_cost(name, url, key, world, tally, args, run, log)
    counted = count_after(url, run, tally.acknowledged)
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
        **cost,
        "log_problems": log_problems(log),
        "log_warnings": dict(log_warnings(log)),
        "log": str(log),
    }
    print(json.dumps(result, indent=1), flush=True)
    return result


def measure_cost(
    name: str,
    url: str,
    key: str,
    world: World,
    tally: Tally,
    args: argparse.Namespace,
    run: str,
    log: Path,
) -> dict[str, Any]:
    """What the access log and the metrics cost ingest: two servers on the same store, one with
    them on and one with them off, loaded *at the same time* -- in each round half the clients
    post batches to one and half to the other, the halves swapping servers from round to round
    -- so that whatever else the machine does in a round hits both alike. A round's cost is
    1 - on/off touches/s; the figure is the median round. The servers' own CPU time per touch
    in the same rounds is a second view of the same cost."""
    if args.cost_rounds < 1:
        return {"cost": None}
    costs: list[float] = []
    rates: dict[bool, list[float]] = {True: [], False: []}
    cpu: dict[bool, list[float]] = {True: [], False: []}  # server CPU ms per 1,000 touches
    half = CLIENTS // 2
    with (
        served(url, key, args.workers, True, log) as on,
        served(url, key, args.workers, False, log) as off,
    ):
        print(
            f"{name}: ingest to two servers at once, observability on and off, "
            f"{args.cost_rounds} rounds of {args.cost_seconds:g} s ...",
            flush=True,
        )
        # An untimed round first: JIT, caches and connection pools warm alike.
        for i in range(-1, args.cost_rounds):
            groups = {True: range(half), False: range(half, CLIENTS)}
            if i % 2:
                groups = {True: groups[False], False: groups[True]}
            rounds = {True: Tally(), False: Tally()}
            cpu_before = {True: on.cpu_seconds(), False: off.cpu_seconds()}

            loads = [
                run_clients(
                    (on if observability else off).port,
                    key,
                    world,
                    rounds[observability],
                    args.cost_seconds,
                    args.requests,
                    {"ingest": 1},
                    f"{run}-cost{i + 1}-{'on' if observability else 'off'}",
                    100 + i,
                    groups[observability],
                )
                for observability in (True, False)
            ]
            seconds = dict(zip((True, False), asyncio.run(_together(loads)), strict=True))
            cpu_used = {True: on.cpu_seconds(), False: off.cpu_seconds()}
            for round_ in rounds.values():
                tally.acknowledged.update(round_.acknowledged)
                tally.errors.update(round_.errors)
                tally.examples += round_.examples[:3]
                tally.requests["cost ingest"] += sum(round_.requests.values())
            if i < 0:
                continue
            for observability, round_ in rounds.items():
                rates[observability].append(round_.touches / seconds[observability])
                used = cpu_used[observability] - cpu_before[observability]
                cpu[observability].append(1e6 * used / max(round_.touches, 1))
            costs.append(1 - rates[True][-1] / rates[False][-1])
    # The two client groups are not quite alike (a round's cost swings with the group sent to
    # each server): each pair of rounds, one per assignment, cancels that bias exactly.
    ratios = [on_ / off_ for on_, off_ in zip(rates[True], rates[False], strict=True)]
    pairs = [1 - (a * b) ** 0.5 for a, b in zip(ratios[::2], ratios[1::2], strict=False)]
    cpu_on, cpu_off = statistics.median(cpu[True]), statistics.median(cpu[False])
    micro = _observe_micro_in_child()
    request_us = cpu_off * TOUCHES  # server CPU of one 20-touch request, observability off
    return {
        "observe_us": micro,
        "request_us": request_us,
        "micro_cost": micro / request_us,
        "ingest_on": statistics.median(rates[True]),
        "ingest_off": statistics.median(rates[False]),
        "rounds": {"on": rates[True], "off": rates[False]},
        "round_costs": costs,
        "pair_costs": pairs,
        "cost": statistics.median(pairs or costs),
        "cpu_per_1000_touches_ms": {"on": cpu_on, "off": cpu_off},
        "cpu_cost": cpu_on / cpu_off - 1,
    }


def observe_micro(calls: int = 20_000) -> float:
    """Microseconds of CPU per request that the access log line and the request and event
    metrics cost, in this process, as ``serve --workers N`` runs them (prometheus-client's
    multiprocess mode when ``PROMETHEUS_MULTIPROC_DIR`` is set; the log to a file): the
    middleware's ``_observe`` and ``metrics.count_ingest`` of a 20-touch batch, timed in a loop
    -- steady where the servers' throughput, on a shared machine, is not."""

    from contribnet import metrics
    from contribnet.api.observability import RequestContext, configure_logging, flush_logs
    from contribnet.settings import Settings

    with tempfile.NamedTemporaryFile("w", suffix=".log") as out:
        route = type("Route", (), {"path": "/v1/events"})()
        state = type("State", (), {"settings": Settings(admin_key="x" * 32)})()
        scope = {
            "type": "http",
            "method": "POST",
            "path": "/v1/events",
            "route": route,
            "app": type("App", (), {"state": state})(),
        }
        headers = [(b"authorization", b"Bearer " + b"k" * 40), (b"content-type", b"text/json")]
        types = ["touch"] * TOUCHES
        timings = []
        for _ in range(5):
            configure_logging("text", stream=out)
            started = time.process_time()
            for _ in range(calls):
                RequestContext._observe(scope, headers, "0" * 32, 200, time.perf_counter())
                metrics.count_ingest(metrics.tally(types), TOUCHES, 0)
            flush_logs()  # the lines are written by a thread: its CPU counts too
            timings.append((time.process_time() - started) / calls * 1e6)
    return statistics.median(timings)


def _observe_micro_in_child() -> float:
    """:func:`observe_micro` in a fresh process with a multiprocess metrics folder."""
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": folder}
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.soak", "--observe-micro"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
    return float(done.stdout.strip().splitlines()[-1])


async def _together(loads: list[Coroutine[Any, Any, float]]) -> list[float]:
    """Run the loads at the same time; the seconds each took."""
    return list(await asyncio.gather(*loads))


STORES = ("sqlite", "neo4j")


def route_rows(store: str, routes: dict[str, dict[str, Any]]) -> list[list[object]]:
    """A results row per route: its requests and the clients' p50 and p99."""
    return [
        [
            store,
            route,
            f"{p['n']:,} requests: p50 {p['p50_ms']:.1f} ms, p99 {p['p99_ms']:.1f} ms",
            "",
        ]
        for route, p in routes.items()
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=300, help="soak time per store")
    parser.add_argument(
        "--requests", type=int, default=2_000_000, help="at most this many requests per phase"
    )
    parser.add_argument("--cost-seconds", type=float, default=8, help="each cost round (default 8)")
    parser.add_argument(
        "--cost-rounds",
        type=int,
        default=16,
        help="rounds with both servers loaded at once (default 16; 0 skips the measurement)",
    )
    parser.add_argument("--workers", type=int, default=2, help="`contribnet serve --workers`")
    parser.add_argument(
        "--stores", default=",".join(STORES), help="which stores, comma-separated (sqlite,neo4j)"
    )
    parser.add_argument("--skip-neo4j", action="store_true", help="the same as --stores sqlite")
    parser.add_argument("--no-results", action="store_true", help="print, do not append")
    parser.add_argument("--observe-micro", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.observe_micro:
        print(observe_micro())
        return
    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    if args.skip_neo4j:
        stores = [s for s in stores if s != "neo4j"]
    if not stores or set(stores) - set(STORES):
        parser.error(f"--stores: a comma-separated choice of {', '.join(STORES)}")
    run = f"soak{int(time.time()):x}"
    loadavg = os.getloadavg()[0]
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        if "sqlite" in stores:
            results.append(soak_store("SQLite", f"sqlite:///{tmp}/soak.db", Path(tmp), args, run))
        if "neo4j" in stores:
            with soak_neo4j() as url:
                results.append(soak_store("Neo4j 5.26", url, Path(tmp), args, run))
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


@contextmanager
def soak_neo4j() -> Iterator[str]:
    """The URL of NEO4J_URI's server, or of the local one kept under ``.cache/bench-soak/``
    (started if need be, and then stopped afterwards)."""
    home = cache_dir() / "bench-soak"
    home.mkdir(parents=True, exist_ok=True)
    url, started_here = neo4j_server(home)
    try:
        yield url
    finally:
        if started_here:
            neo4j_local.stop(home / "neo4j")


def _rows(r: dict[str, Any]) -> list[list[object]]:
    store = r["store"]
    total = sum(r["requests"].values())
    errors = sum(r["errors"].values())
    c = r["counted"]
    by_kind = ", ".join(f"{k} × {n}" for k, n in sorted(r["errors"].items()))
    warnings = sum(r["log_warnings"].values())
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
        [
            store,
            "server log warnings",
            (
                "; ".join(f"{k} × {n}" for k, n in sorted(r["log_warnings"].items()))
                if warnings
                else "none"
            ),
            "",
        ],
    ]
    rows += route_rows(store, r["routes"])
    if r.get("cost") is not None:
        costs = ", ".join(f"{x:+.1%}" for x in r["round_costs"])
        cpu = r["cpu_per_1000_touches_ms"]
        rows.append(
            [
                store,
                "ingest with access log + metrics on / off",
                f"cost {r['cost']:.1%}: median of {len(r['pair_costs'])} pairs of rounds with "
                f"both servers loaded at once (rounds {costs}); {r['ingest_on']:,.0f} / "
                f"{r['ingest_off']:,.0f} touches/s median on / off; API server CPU "
                f"{cpu['on']:.0f} / {cpu['off']:.0f} ms per 1,000 touches on / off "
                f"({r['cpu_cost']:+.1%}); in-process, the log line and metrics of one request "
                f"take {r['observe_us']:.0f} µs of the {r['request_us'] / 1000:.1f} ms of server "
                f"CPU a 20-touch request takes: {r['micro_cost']:.1%}",
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
        "projection, opened directly. Server log warnings: every WARNING line of the servers' "
        "log by kind (numbers masked; the Neo4j status code named), e.g. a deadlock the store "
        "retried inside the server. Cost: two servers on the same store, one with "
        "`CONTRIBNET_OBSERVABILITY=off`, loaded at the same time: after an untimed warm-up "
        f"round, {args.cost_rounds} rounds of {args.cost_seconds:g} s in which "
        f"{CLIENTS // 2} clients post batches of {TOUCHES} touches to one server and "
        f"{CLIENTS - CLIENTS // 2} to the other (the two groups swap servers every round), so "
        "that the machine's other load hits both alike; cost = median over pairs of rounds (one "
        "round per assignment of the groups, which cancels a difference between the groups) of "
        "1 − √(on/off × on/off) touches/s; beside it, each server's CPU time (its processes, "
        "from /proc) per 1,000 "
        "touches in the same rounds; and, steadier on a shared machine, the CPU time the "
        "observability code itself takes per request (the middleware's access line and request "
        "metrics, and the event counters, timed in-process in a loop with prometheus-client in "
        "multiprocess mode and the log to a file) against the server CPU per request with it "
        "off. Load average "
        f"(1 min) up to {loadavg:.1f} during the run on this shared machine."
    )


if __name__ == "__main__":
    main()

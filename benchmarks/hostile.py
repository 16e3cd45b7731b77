"""Hostile load: 50 clients mixing ingest (with duplicates and conflicts), previews, settlements
and adjustments against a real server on each store, then every event and every ledger rule
checked (issue #13).

For each store (SQLite in a temporary folder; Neo4j, the local one kept under
``.cache/bench-soak/`` -- started if need be -- or ``NEO4J_URI``'s), a real ``contribnet serve
--workers 2`` on loopback and 50 clients, each with two kept-alive connections (for the races),
doing back to back for ``--seconds`` (default 300):

* ``ingest`` -- a new batch of 20 touches (every third also a new customer, a few touches and
  the deal they closed): 200 with every event accepted;
* ``resend`` -- an exact resend of an acknowledged batch: 200, all duplicates;
* ``conflict`` -- an acknowledged batch resent with one touch changed: 409 naming it;
* ``race identical`` -- one new batch on both connections at once: two 200s, between them
  every event accepted once and counted once as a duplicate;
* ``race conflicting`` -- one new batch and a variant (same ids, one touch changed) at once:
  exactly one 200 and one 409, never a 400;
* ``preview`` -- ``GET /v1/deals/{id}/credit`` of a deal of this run;
* ``settle`` -- ``POST /v1/deals/{id}/settlements`` on both connections at once (half the
  deals: these are later adjusted): 201 or 200 (the same settlement), at most one 201 a deal;
* ``supersede`` -- the other half of the deals: settled again under the other paying model
  with a reason: 201, or 200 (unchanged), or 409 when another request superseded it meanwhile;
* ``adjust`` -- two adjustments at once on one of the last 30 settled deals (so that many
  clients hit the same deals), each moving 20-60% of a credited staff member's settled fen to
  another: 201, or 422 when the giver no longer holds that much.

Statuses a client must expect (the 409s and 422s above) are counted as *refusals*, apart from
*errors* (anything else: 400, 5xx, a timeout, wrong counts). Counted after, with the store opened
directly: events acknowledged but not stored (*lost*) or stored twice (*doubled*); and the
ledger's invariants -- every settlement's fen sum to its pool, every deal's settlements form one
chain (seq 1..n, each superseding the one before), no deal got two 201s from plain settles, every
adjustment acknowledged is recorded once, and no staff member's balance on a deal (settled fen
plus adjustments in, minus out) is below zero.

Run: ``make bench`` or ``python -m benchmarks.hostile [--seconds 300] [--stores sqlite,neo4j]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.results_file import append_section
from benchmarks.soak import (
    CLIENTS,
    STORES,
    TIMEOUT_S,
    Client,
    World,
    _batch,
    _pct,
    count_after,
    log_problems,
    log_warnings,
    make_world,
    route_rows,
    seed_world,
    served,
    soak_neo4j,
    store_log,
)
from contribnet.domain.ledger import held_on_deal
from contribnet.store import open_store

#: What a client does next, and how often (weights).
MIX = {
    "ingest": 22,
    "resend": 5,
    "conflict": 5,
    "race identical": 4,
    "race conflicting": 4,
    "preview": 16,
    "settle": 14,
    "supersede": 6,
    "adjust": 24,
}
ROUTES = {
    "ingest": "POST /v1/events",
    "resend": "POST /v1/events (exact resend)",
    "conflict": "POST /v1/events (changed resend)",
    "race identical": "POST /v1/events (same new batch × 2 at once)",
    "race conflicting": "POST /v1/events (conflicting new batches × 2 at once)",
    "preview": "GET /v1/deals/{id}/credit",
    "settle": "POST /v1/deals/{id}/settlements (× 2 at once)",
    "supersede": "POST /v1/deals/{id}/settlements (other model, reason)",
    "adjust": "POST /v1/deals/{id}/adjustments (× 2 at once)",
}
#: The statuses a client must expect besides success, and why (counted apart from errors).
REFUSALS = {
    "conflict": {409: "same id, other content"},
    "race conflicting": {409: "same id, other content"},
    "supersede": {409: "superseded by another request meanwhile"},
    "adjust": {422: "the giver holds less than the amount"},
}
PAYING_MODELS = ("stage_weighted", "shapley")
HOT_DEALS = 30  # adjustments go to the last this many settled deals


@dataclass
class Hostile:
    """What the clients saw and did."""

    requests: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    refusals: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    latency: dict[str, list[float]] = field(default_factory=dict)
    acknowledged: dict[str, str] = field(default_factory=dict)
    bodies: list[bytes] = field(default_factory=list)  # acknowledged batches
    deals: list[str] = field(default_factory=list)  # created by this run, in order
    settled: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # staff fen
    hot: list[str] = field(default_factory=list)  # settled deals to adjust, newest last
    created_by_settle: Counter[str] = field(default_factory=Counter)  # 201s of plain settles
    adjusted: Counter[str] = field(default_factory=Counter)  # 201s of adjustments, by deal
    superseded: set[str] = field(default_factory=set)

    def error(self, kind: str, detail: str) -> None:
        self.errors[kind] += 1
        if len(self.examples) < 12:
            self.examples.append(f"{kind}: {detail[:300]}")


def _adjusted_deal(deal: str) -> bool:
    """Half the deals are settled and adjusted, the other half superseded (never adjusted:
    adjustments stay with a deal when it is re-settled, so its balances would then follow
    another split)."""
    return int(deal.rsplit("-", 3)[-3]) % 2 == 0  # the client number in "{run}-{n}-{serial}-d"


async def run_clients(
    port: int, key: str, world: World, h: Hostile, seconds: float, requests: int, run: str
) -> float:
    deadline = time.perf_counter() + seconds
    budget = [requests]
    actions, weights = list(MIX), list(MIX.values())
    stores = world.stores

    async def timed(client: Client, action: str, method: str, path: str, body: bytes) -> Any:
        started = time.perf_counter()
        h.requests[action] += 1
        try:
            status, answer = await client.request(method, path, body)
        except (OSError, asyncio.IncompleteReadError, TimeoutError) as exc:
            h.error(f"{ROUTES[action]}: {type(exc).__name__}", str(exc))
            await client.close()
            return None
        h.latency.setdefault(action, []).append(time.perf_counter() - started)
        return status, answer

    def judge(action: str, status: int, answer: bytes, ok: tuple[int, ...] = (200,)) -> bool:
        """Whether the answer is a success; a refusal is counted, anything else an error."""
        if status in ok:
            return True
        why = REFUSALS.get(action, {}).get(status)
        if why is not None:
            h.refusals[f"{ROUTES[action]}: {status} ({why})"] += 1
        else:
            h.error(f"{ROUTES[action]}: {status}", answer.decode(errors="replace"))
        return False

    def acknowledge(events: list[dict[str, Any]], body: bytes) -> None:
        for e in events:
            h.acknowledged[e["id"]] = e["type"]
            if e["type"] == "deal":
                h.deals.append(e["id"])
        if len(h.bodies) < 2_000:
            h.bodies.append(body)

    def counts(answer: bytes) -> tuple[int, int]:
        got = json.loads(answer)
        return got.get("accepted", -1), got.get("duplicates", -1)

    async def one_client(n: int) -> None:
        rng = random.Random(7_000 + n)
        a, b = Client(port, key), Client(port, key)
        serial = 0
        try:
            while budget[0] > 0 and time.perf_counter() < deadline:
                budget[0] -= 1
                action = rng.choices(actions, weights)[0]
                if action in ("resend", "conflict") and not h.bodies:
                    action = "ingest"
                if action in ("preview", "settle", "supersede") and not h.deals:
                    action = "ingest"
                if action == "adjust" and not h.hot:
                    action = "settle" if h.deals else "ingest"
                if action in ("ingest", "race identical", "race conflicting"):
                    serial += 1
                    events = _batch(rng, world, stores, f"{run}-{n}-{serial}", serial % 3 == 0)
                    body = json.dumps({"events": events}).encode()
                    if action == "ingest":
                        answer = await timed(a, action, "POST", "/v1/events", body)
                        if answer and judge(action, *answer):
                            if counts(answer[1]) != (len(events), 0):
                                h.error(f"{ROUTES[action]}: wrong counts", answer[1].decode())
                            else:
                                acknowledge(events, body)
                        continue
                    other = events
                    if action == "race conflicting":
                        other = [dict(e) for e in events]
                        other[0]["channel"] = "variant"
                    other_body = json.dumps({"events": other}).encode()
                    answers = await asyncio.gather(
                        timed(a, action, "POST", "/v1/events", body),
                        timed(b, action, "POST", "/v1/events", other_body),
                    )
                    if not all(answers):
                        continue
                    statuses = sorted(s for s, _ in answers)  # type: ignore[misc]
                    if action == "race identical":
                        if all(judge(action, *x) for x in answers):  # type: ignore[misc]
                            got = [counts(x[1]) for x in answers]  # type: ignore[index]
                            if sum(x for x, _ in got) != len(events) or any(
                                x + y != len(events) for x, y in got
                            ):
                                h.error(f"{ROUTES[action]}: wrong counts", str(got))
                            else:
                                acknowledge(events, body)
                        continue
                    if statuses != [200, 409]:
                        for status, answer_ in answers:  # type: ignore[misc]
                            if status not in (200, 409):
                                judge(action, status, answer_)
                        h.error(f"{ROUTES[action]}: statuses {statuses}", "want one 200, one 409")
                        continue
                    for (status, answer_), sent, sent_body in zip(
                        answers,  # type: ignore[arg-type]
                        (events, other),
                        (body, other_body),
                        strict=True,
                    ):
                        if judge(action, status, answer_):
                            acknowledge(sent, sent_body)
                elif action == "resend":
                    body = rng.choice(h.bodies)
                    answer = await timed(a, action, "POST", "/v1/events", body)
                    if answer and judge(action, *answer):
                        sent = len(json.loads(body)["events"])
                        if counts(answer[1]) != (0, sent):
                            h.error(f"{ROUTES[action]}: wrong counts", answer[1].decode())
                elif action == "conflict":
                    events = json.loads(rng.choice(h.bodies))["events"]
                    events[0]["channel"] = "changed"
                    body = json.dumps({"events": events}).encode()
                    answer = await timed(a, action, "POST", "/v1/events", body)
                    if answer and judge(action, *answer):
                        h.error(f"{ROUTES[action]}: 200", "a changed resend was accepted")
                elif action == "preview":
                    path = f"/v1/deals/{rng.choice(h.deals)}/credit"
                    answer = await timed(a, action, "GET", path, b"")
                    if answer:
                        judge(action, *answer)
                elif action == "settle":
                    candidates = [d for d in h.deals[-200:] if _adjusted_deal(d)]
                    if not candidates:
                        continue
                    deal = rng.choice(candidates)
                    path = f"/v1/deals/{deal}/settlements"
                    answers = await asyncio.gather(
                        timed(a, action, "POST", path, b"{}"),
                        timed(b, action, "POST", path, b"{}"),
                    )
                    for answer in answers:
                        if answer and judge(action, *answer, ok=(200, 201)):
                            if answer[0] == 201:
                                h.created_by_settle[deal] += 1
                            if deal not in h.settled:
                                record = json.loads(answer[1])
                                h.settled[deal] = [
                                    (x["id"], x["amount"])
                                    for x in record["allocations"]
                                    if x["kind"] == "staff"
                                ]
                                h.hot = (h.hot + [deal])[-HOT_DEALS:]
                elif action == "supersede":
                    candidates = [d for d in h.deals[-200:] if not _adjusted_deal(d)]
                    if not candidates:
                        continue
                    deal = rng.choice(candidates)
                    request = {"model": rng.choice(PAYING_MODELS), "reason": "hostile: model"}
                    path = f"/v1/deals/{deal}/settlements"
                    answer = await timed(a, action, "POST", path, json.dumps(request).encode())
                    if answer and judge(action, *answer, ok=(200, 201)):
                        h.superseded.add(deal)
                elif action == "adjust":
                    deal = rng.choice(h.hot)
                    staff = h.settled[deal]
                    if len(staff) < 2:
                        continue
                    moves = []
                    for i in range(2):
                        (giver, fen), (taker, _) = rng.sample(staff, 2)
                        amount = max(1, int(fen * rng.uniform(0.2, 0.6)))
                        request = {
                            "from_staff": giver,
                            "to_staff": taker,
                            "amount": amount,
                            "reason": f"hostile {n}-{i}",
                        }
                        moves.append(json.dumps(request).encode())
                    path = f"/v1/deals/{deal}/adjustments"
                    answers = await asyncio.gather(
                        timed(a, action, "POST", path, moves[0]),
                        timed(b, action, "POST", path, moves[1]),
                    )
                    for answer in answers:
                        if answer and judge(action, *answer, ok=(201,)):
                            h.adjusted[deal] += 1
        finally:
            await a.close()
            await b.close()

    started = time.perf_counter()
    await asyncio.gather(*(one_client(n) for n in range(CLIENTS)))
    return time.perf_counter() - started


# --- the ledger, checked after -------------------------------------------------------------


def check_ledger(url: str, h: Hostile) -> dict[str, int]:
    """The ledger's invariants over every deal this run settled or adjusted, read from the
    store opened directly."""
    broken: Counter[str] = Counter()
    settlements = adjustments = 0
    store = open_store(url)
    try:
        for deal in sorted(set(h.settled) | h.superseded | set(h.adjusted)):
            chain = store.ledger.settlement_history(deal)
            settlements += len(chain)
            if not chain:
                broken["settled deal without a settlement"] += 1
                continue
            for i, s in enumerate(chain):
                if sum(a.amount for a in s.allocations) != s.pool:
                    broken["settlement fen not summing to its pool"] += 1
                if s.seq != i + 1 or s.supersedes != (chain[i - 1].id if i else None):
                    broken["settlement chain broken"] += 1
            if h.created_by_settle[deal] > 1:
                broken["deal settled twice (two 201s)"] += 1
            recorded = store.ledger.adjustments(deal=deal)
            adjustments += len(recorded)
            if len(recorded) != h.adjusted[deal]:
                broken["adjustments acknowledged ≠ recorded"] += 1
            if recorded:
                current = chain[-1]
                people = {a.id for a in current.allocations if a.kind == "staff"}
                people |= {a.to_staff for a in recorded} | {a.from_staff for a in recorded}
                for person in people:
                    held = held_on_deal(current, recorded, person)
                    if held is not None and held < 0:
                        broken["staff balance on a deal below zero"] += 1
    finally:
        store.close()
    return {
        "deals": len(set(h.settled) | h.superseded),
        "settlements": settlements,
        "adjustments": adjustments,
        "broken": dict(broken),
    }


# --- one store -----------------------------------------------------------------------------


def hostile_store(name: str, url: str, args: argparse.Namespace, run: str) -> dict[str, Any]:
    key = "hostile-admin-" + os.urandom(16).hex()
    world = make_world(run)
    log = store_log(name, "hostile")
    h = Hostile()
    with served(url, key, args.workers, True, log) as server:
        seed_world(server.port, key, world)
        h.acknowledged.update({c["id"]: "customer" for c in world.customers})
        print(f"{name}: hostile load, {CLIENTS} clients for {args.seconds:g} s ...", flush=True)
        elapsed = asyncio.run(
            run_clients(server.port, key, world, h, args.seconds, args.requests, run)
        )
    counted = count_after(url, run, h.acknowledged)
    ledger = check_ledger(url, h)
    result = {
        "store": name,
        "seconds": elapsed,
        "requests": dict(h.requests),
        "errors": dict(h.errors),
        "refusals": dict(h.refusals),
        "examples": h.examples,
        "routes": {
            ROUTES[a]: {"n": len(v), "p50_ms": _pct(v, 0.5), "p99_ms": _pct(v, 0.99)}
            for a, v in h.latency.items()
        },
        "counted": counted,
        "ledger": ledger,
        "log_problems": log_problems(log),
        "log_warnings": dict(log_warnings(log)),
        "log": str(log),
    }
    print(json.dumps(result, indent=1), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=300, help="hostile load per store")
    parser.add_argument("--requests", type=int, default=2_000_000, help="at most this many")
    parser.add_argument("--workers", type=int, default=2, help="`contribnet serve --workers`")
    parser.add_argument(
        "--stores", default=",".join(STORES), help="which stores, comma-separated (sqlite,neo4j)"
    )
    parser.add_argument("--no-results", action="store_true", help="print, do not append")
    args = parser.parse_args()
    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    if not stores or set(stores) - set(STORES):
        parser.error(f"--stores: a comma-separated choice of {', '.join(STORES)}")
    run = f"hostile{int(time.time()):x}"
    loadavg = os.getloadavg()[0]
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        if "sqlite" in stores:
            results.append(hostile_store("SQLite", f"sqlite:///{Path(tmp)}/hostile.db", args, run))
        if "neo4j" in stores:
            with soak_neo4j() as url:
                results.append(hostile_store("Neo4j 5.26", url, args, run))
    loadavg = max(loadavg, os.getloadavg()[0])
    if args.no_results:
        return
    append_section(
        f"Hostile load: {CLIENTS} clients for {args.seconds:g} s per store mixing ingest "
        "(duplicates, conflicts, races), previews, settlements and adjustments",
        ["store", "what", "figure", "goal"],
        [row for r in results for row in _rows(r)],
        _notes(args, loadavg),
    )


def _rows(r: dict[str, Any]) -> list[list[object]]:
    store = r["store"]
    total = sum(r["requests"].values())
    errors = sum(r["errors"].values())
    refusals = sum(r["refusals"].values())
    c, ledger = r["counted"], r["ledger"]
    broken = sum(ledger["broken"].values())

    def listed(counts: dict[str, int]) -> str:
        return "; ".join(f"{k} × {n:,}" for k, n in sorted(counts.items()))

    rows: list[list[object]] = [
        [
            store,
            "requests, errors",
            f"{total:,} requests in {r['seconds']:.0f} s; {errors} errors"
            + (f": {listed(r['errors'])}" if errors else "")
            + f"; {r['log_problems']} error lines in the server log",
            "0 errors",
        ],
        [
            store,
            "expected refusals (not errors)",
            f"{refusals:,}" + (f": {listed(r['refusals'])}" if refusals else ""),
            "409 / 422 only where the rules say",
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
            "ledger invariants",
            f"{ledger['deals']:,} deals settled, {ledger['settlements']:,} settlements, "
            f"{ledger['adjustments']:,} adjustments: {broken} broken"
            + (f" ({listed(ledger['broken'])})" if broken else ""),
            "0 broken",
        ],
        [
            store,
            "server log warnings",
            listed(r["log_warnings"]) or "none",
            "",
        ],
    ]
    rows += route_rows(store, r["routes"])
    return rows


def _notes(args: argparse.Namespace, loadavg: float) -> str:
    return (
        f"Each store: `contribnet serve --workers {args.workers}` on loopback; {CLIENTS} clients "
        "(plain asyncio HTTP/1.1, two kept-alive connections each for the races, in one process "
        f"on the same cores) back to back for {args.seconds:g} s, in the proportions "
        + ", ".join(f"{k} {v}" for k, v in MIX.items())
        + ". Refusals are the statuses the rules call for (a changed resend or the loser of a "
        "conflicting race: 409; a supersede that lost to another: 409; an adjustment larger than "
        "what the giver still holds: 422); errors are everything else (400, 5xx, a timeout of "
        f"{TIMEOUT_S:g} s, wrong accepted/duplicate counts, a race without exactly one winner). "
        "Counted after, with the store opened directly: every acknowledged event in the log and "
        "projection; per settled deal its chain of settlements (fen summing to the pool, seq "
        "1..n each superseding the one before, at most one 201 from plain settles), its "
        "adjustments (as many recorded as acknowledged) and every staff member's balance on it "
        "(settled fen plus adjustments in, minus out: never below zero). Latency is the "
        f"clients'. Load average (1 min) up to {loadavg:.1f} on this shared 2-core machine."
    )


if __name__ == "__main__":
    main()

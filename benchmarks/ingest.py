"""Ingest throughput: touches/s through ``POST /v1/events`` beside each store's bare limit.

For each store, in one run and on the same rows:

* **API** — a real ``contribnet serve --workers N`` (uvicorn) on loopback, N = 1 and 2; N clients
  post pre-encoded bodies of 10,000 touches at once, so the figure is the server's: validate,
  hash, check ids, write the log and the projection.
* **bare limit** — the same rows written with no checks at all: SQLite, one ``executemany`` per
  10,000 rows into the same two tables (``events``, ``touches``); Neo4j, one
  ``UNWIND ... CREATE`` per 10,000 rows creating the same ``(:Event)`` nodes and ``[:TOUCHED]``
  relationships. Neo4j also runs the bare query's reads alone (no ``CREATE``), the floor under
  any write of these rows on this machine.

Run: ``make bench`` (all benchmarks) or
``python -m benchmarks.ingest [--touches N] [--skip-neo4j]``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from benchmarks.results_file import append_section
from contribnet import neo4j_local
from contribnet.domain.events import canonical_json, event_adapter, event_hash
from contribnet.store.sqlite_connection import sortable

BATCH = 10_000
WARMUP = 100_000


def touches(n: int, prefix: str) -> list[dict[str, Any]]:
    """``n`` touches of 2,000 customers by 200 staff at 20 stores over a year."""
    stages = ("lead", "reception", "consultation", "test_drive", "quote", "follow_up")
    return [
        {
            "type": "touch",
            "id": f"{prefix}-t-{i}",
            "at": f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00Z",
            "customer": f"c-{i % 2000}",
            "staff": f"sf-{i % 200}",
            "store": f"st-{i % 20}",
            "stage": stages[i % len(stages)],
        }
        for i in range(n)
    ]


def bodies(events: list[dict[str, Any]]) -> list[bytes]:
    return [
        json.dumps({"events": events[i : i + BATCH]}).encode() for i in range(0, len(events), BATCH)
    ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def serve(store_url: str, admin_key: str, processes: int) -> tuple[subprocess.Popen[bytes], int]:
    """A ``contribnet serve --workers processes`` on a free loopback port, once it answers."""
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "contribnet.cli",
            "serve",
            "--port",
            str(port),
            "--store",
            store_url,
            "--workers",
            str(processes),
        ],
        stdout=subprocess.DEVNULL,
        env={**os.environ, "CONTRIBNET_ADMIN_KEY": admin_key},
    )
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                return server, port
        except httpx.TransportError:
            time.sleep(0.1)
    server.terminate()
    raise RuntimeError(f"contribnet serve on port {port} did not answer within a minute")


def through_api(
    store_url: str, payloads: list[bytes], warmup: list[bytes], processes: int = 1
) -> tuple[float, float]:
    """Seconds to post every body to a fresh server, and the server's peak RSS (MiB, summed over
    its processes).

    The server runs ``processes`` uvicorn workers and as many clients post at once, each its share
    of the bodies in turn. The ``warmup`` bodies go first, untimed, from one client: Neo4j's JIT
    needs a few batches to reach steady speed, and a production server is warm.
    """
    key = "bench-" + os.urandom(16).hex()  # the admin key needs 24+ characters
    server, port = serve(store_url, key, processes)

    retries: list[bytes] = []

    def post_all(bodies_: list[bytes]) -> None:
        # The standard library's client: on two shared cores, the lightest way to send 1.5 MB.
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        try:
            for body in bodies_:
                for attempt in range(3):
                    conn.request("POST", "/v1/events", body=body, headers=headers)
                    response = conn.getresponse()
                    answer = response.read()
                    if response.status == 200:
                        break
                    # 503 is the API's "nothing was written, retry" (e.g. a store timeout); the
                    # batch is idempotent, so a client sends it again, as this one does.
                    if response.status != 503 or attempt == 2:
                        raise RuntimeError(
                            f"POST /v1/events answered {response.status}: {answer[:500]!r}"
                        )
                    retries.append(answer)
        finally:
            conn.close()

    try:
        post_all(warmup)
        with ThreadPoolExecutor(processes) as clients:
            started = time.perf_counter()
            for done in [
                clients.submit(post_all, payloads[i::processes]) for i in range(processes)
            ]:
                done.result()
            elapsed = time.perf_counter() - started
        if retries:
            print(
                f"{store_url.split(':')[0]}: {len(retries)} batch(es) sent again after a 503:",
                *{a[:300] for a in retries},
                sep="\n  ",
                file=sys.stderr,
            )
        return elapsed, tree_rss_mib(server.pid)
    finally:
        server.terminate()
        server.wait(30)


def tree_rss_mib(pid: int) -> float:
    """Peak RSS of a process plus its children (uvicorn's workers)."""
    total = peak_rss_mib(pid)
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        for child in children.read_text().split():
            total += peak_rss_mib(int(child))
    return total


def recorded_rows(events: list[dict[str, Any]]) -> Iterator[tuple[tuple[Any, ...], Any]]:
    for raw in events:
        event = event_adapter.validate_python(raw)
        canonical = canonical_json(event)
        yield (event.id, "touch", event_hash(canonical), canonical.decode()), event


def sqlite_bare(events: list[dict[str, Any]], warmup: list[dict[str, Any]], path: Path) -> float:
    """The same rows through the store's own connection (its pragmas and background checkpoints),
    after the same untimed warm-up rows, so only contribnet's work differs from the API run."""
    from contribnet.store.sqlite import SqliteStore

    rows = list(recorded_rows(warmup + events))
    store = SqliteStore(f"sqlite:///{path}")
    db = store._db
    started = 0.0
    for i in range(0, len(rows), BATCH):
        if i == len(warmup):
            started = time.perf_counter()
        chunk = rows[i : i + BATCH]
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO events (key, type, hash, payload) VALUES (?, ?, ?, ?)",
            [r for r, _ in chunk],
        )
        db.executemany(
            "INSERT INTO touches VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (e.id, sortable(e.at), e.customer, e.staff, e.store, e.stage, None, None)
                for _, e in chunk
            ],
        )
        db.execute("COMMIT")
        store._connection.written()
    elapsed = time.perf_counter() - started
    store.close()
    return elapsed


BARE_NEO4J = """
UNWIND $rows AS row
MATCH (s:Staff {id: row.staff})
MATCH (c:Customer {id: row.customer})
CREATE (s)-[:TOUCHED {id: row.key, hash: row.hash, at: row.at, store: row.store,
                      stage: row.stage, voided: false}]->(c)
"""


MATCH_ONLY = """
UNWIND $rows AS row
MATCH (s:Staff {id: row.staff})
MATCH (c:Customer {id: row.customer})
RETURN count(*) AS matched
"""


def neo4j_bare(
    events: list[dict[str, Any]], warmup: list[dict[str, Any]], url: str
) -> tuple[float, float]:
    """Seconds for the bare UNWIND … CREATE of ``events`` (after ``warmup``, untimed), and for the
    same rows through its reads alone."""
    from contribnet.store.neo4j import connect

    rows = [
        {
            "key": r[0],
            "hash": r[2],
            "payload": r[3],
            "staff": e.staff,
            "customer": e.customer,
            "at": e.at,
            "store": e.store,
            "stage": e.stage,
        }
        for r, e in recorded_rows(warmup + events)
    ]
    driver, database = connect(url)
    with driver:
        driver.execute_query(
            "UNWIND range(0, 199) AS i MERGE (:Staff {id: 'sf-' + i})", database_=database
        )
        driver.execute_query(
            "UNWIND range(0, 1999) AS i MERGE (:Customer {id: 'c-' + i})", database_=database
        )
        started = 0.0
        for i in range(0, len(rows), BATCH):
            if i == len(warmup):
                started = time.perf_counter()
            driver.execute_query(BARE_NEO4J, rows=rows[i : i + BATCH], database_=database)
        create_s = time.perf_counter() - started
        timed = rows[len(warmup) :]
        started = time.perf_counter()
        for i in range(0, len(timed), BATCH):
            driver.execute_query(MATCH_ONLY, rows=timed[i : i + BATCH], database_=database)
        return create_s, time.perf_counter() - started


def wipe_neo4j(url: str) -> None:
    from contribnet.store.neo4j import Neo4jStore, connect

    driver, database = connect(url)
    with driver, driver.session(database=database) as session:
        # Relationships first: a staff node carries thousands, too many for one transaction.
        session.run(
            "MATCH ()-[r]->() CALL (r) { DELETE r } IN TRANSACTIONS OF 10000 ROWS"
        ).consume()
        session.run(
            "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
        ).consume()
    Neo4jStore(url).close()  # the schema, as the API would apply it


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--touches", type=int, default=200_000)
    parser.add_argument("--skip-neo4j", action="store_true")
    args = parser.parse_args()
    n = args.touches
    results: list[list[object]] = []

    with tempfile.TemporaryDirectory() as tmp:
        api_events = touches(n, "api")
        bare_events = touches(n, "bare")
        payloads = bodies(api_events)
        warm_events = touches(WARMUP, "warm")
        warmup = bodies(warm_events)

        bare_s = sqlite_bare(bare_events, touches(WARMUP, "bare-warm"), Path(tmp) / "bare.db")
        for processes in (1, 2):
            api_s, rss = through_api(
                f"sqlite:///{tmp}/api-{processes}.db", payloads, warmup, processes
            )
            results.append(
                _row("SQLite", processes, n, api_s, bare_s, rss, "≥ 60,000/s and ≥ 60% of bare")
            )

        if not args.skip_neo4j:
            url, local = _neo4j(Path(tmp))
            try:
                wipe_neo4j(url)
                bare_s, match_s = neo4j_bare(bare_events, warm_events, url)
                for processes in (1, 2):
                    wipe_neo4j(url)
                    api_s, rss = through_api(url, payloads, warmup, processes)
                    results.append(
                        _row(
                            "Neo4j 5.26",
                            processes,
                            n,
                            api_s,
                            bare_s,
                            rss,
                            "≥ 20,000/s and ≥ 50% of bare",
                        )
                    )
                results.append(
                    [
                        "Neo4j 5.26: reference, the bare query's reads alone (no write)",
                        "",
                        "",
                        f"{n / match_s:,.0f}",
                        "",
                        "",
                        "",
                    ]
                )
            finally:
                if local:
                    neo4j_local.stop(Path(tmp) / "neo4j")

    append_section(
        f"Ingest: {n:,} touches through POST /v1/events vs the store's bare limit",
        [
            "store",
            "server processes = clients",
            "API touches/s",
            "bare touches/s",
            "API / bare",
            "API server peak RSS",
            "goal",
        ],
        results,
        f"Batches of 10,000 touches, after {WARMUP:,} untimed warm-up touches, into a fresh store; "
        "the API server is `contribnet serve --workers N` on loopback, with N clients posting at "
        "once. Bare = the same rows into the same tables/graph elements with no validation, "
        "hashing, id checks or lookups, one batch at a time after the same warm-up (SQLite: "
        "executemany on the store's own connection; Neo4j: UNWIND … CREATE). The reads-alone row "
        "runs the bare query's UNWIND and two MATCHes on the same rows without the CREATE: the "
        "server's cost of taking in the rows and finding both ends, before anything is written.",
    )


def _row(
    store: str, processes: int, n: int, api_s: float, bare_s: float, rss: float, goal: str
) -> list[object]:
    return [
        store,
        processes,
        f"{n / api_s:,.0f}",
        f"{n / bare_s:,.0f}",
        f"{bare_s / api_s:.0%}",
        f"{rss:,.0f} MiB",
        goal,
    ]


def _neo4j(tmp: Path) -> tuple[str, bool]:
    """The store URL of NEO4J_URI's server, or of a local one started here (and whether it is)."""
    from urllib.parse import quote, urlsplit

    if os.environ.get("NEO4J_URI"):
        parts = urlsplit(os.environ["NEO4J_URI"])
        user, password = os.environ.get("NEO4J_USER", "neo4j"), os.environ.get("NEO4J_PASSWORD", "")
        local = False
    else:
        server = neo4j_local.start(tmp / "neo4j", heap="2g", pagecache="1g")
        parts, user, password, local = urlsplit(server.uri), server.user, server.password, True
    netloc = f"{quote(user)}:{quote(password, safe='')}@{parts.hostname}:{parts.port}"
    return f"{parts.scheme}://{netloc}", local


if __name__ == "__main__":
    main()

"""Races through real HTTP (issue #13): a real ``contribnet serve --workers 2`` in a subprocess,
on SQLite and on the real Neo4j, and 24 requests at once from as many threads, each on its own
connection, released together by a barrier.

* parallel adjustments never overdraw: one of 24 moves of 60% of a staff member's credit is
  accepted (201), the rest are refused (422), and the balance stays >= 0;
* parallel small adjustments stop exactly at the balance;
* the same new batch posted 24 times at once: 24 × 200, one accepting it, the rest duplicates;
* 24 batches with the same ids and different content at once: one 200 and 23 × 409, never 400;
* 24 settlements of one deal at once: one 201, 23 × 200 with the same settlement, one in the
  history; 24 supersedes at once under two models: each 200, 201 or 409, one chain.

No test asserts a time: the barrier makes the requests concurrent, the assertions count outcomes.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.serving import free_port, worker_pids

PARALLEL = 24
ADMIN = "races-http-admin-key-" + "x" * 16


@dataclass(frozen=True)
class Served:
    url: str
    kind: str
    log: Path
    pid: int

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=120
        )


@pytest.fixture(scope="module", params=["sqlite", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """A real ``contribnet serve --workers 2`` on a free loopback port, on the store asked."""
    if request.param == "neo4j":
        store_url = request.getfixturevalue("neo4j_server").store_url
    else:
        store_url = f"sqlite:///{tmp_path_factory.mktemp('races') / 'races.db'}"
    port = free_port()
    env = {**os.environ, "CONTRIBNET_ADMIN_KEY": ADMIN}
    log = tmp_path_factory.mktemp("races-log") / "serve.log"
    command = [sys.executable, "-m", "contribnet.cli", "serve", "--port", str(port)]
    command += ["--store", store_url, "--workers", "2"]
    with log.open("wb") as err:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):  # a generous bound on start-up, not a timing assertion
            if process.poll() is not None:
                raise RuntimeError(f"contribnet serve exited: {Path(log).read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/ready", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        else:
            raise RuntimeError("contribnet serve did not become ready")
        yield Served(url, request.param, log, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
    problems = [line for line in log.read_text().splitlines() if "Traceback" in line]
    assert problems == [], log.read_text()[-4000:]


def _at_once(server: Served, n: int, request: Callable[[httpx.Client, int], Any]) -> list[Any]:
    """``request(client, i)`` for i in 0..n-1 from n threads with a connection each, released
    together; each result is the response or the exception raised."""
    clients = [server.client() for _ in range(n)]
    for c in clients:
        assert c.get("/health").status_code == 200  # connected before the barrier
    barrier = threading.Barrier(n, timeout=120)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = request(clients[i], i)
        except Exception as exc:  # asserted on by the tests
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        for c in clients:
            c.close()
    return results


def _outcomes(server: Served, results: list[Any]) -> str:
    """What each request got, and the end of the server's log (its retries and warnings); when
    a request got no answer, the stacks of the server's threads, where it waits."""
    answers = [getattr(r, "text", repr(r)) for r in results]
    before = len(server.log.read_text())
    if not all(isinstance(r, httpx.Response) for r in results):
        for pid in worker_pids(server.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGUSR1)  # it dumps its stacks (cli/serve.py)
        time.sleep(2)
    log = server.log.read_text()
    stacks = log[before:][:40_000]
    return f"{answers}\n--- server log ---\n{log[:before][-6000:]}\n--- stacks ---\n{stacks}"


def _statuses(results: list[Any]) -> Counter[int | str]:
    return Counter(r.status_code if isinstance(r, httpx.Response) else repr(r) for r in results)


def _deal(prefix: str) -> list[dict[str, Any]]:
    """A store, two advisors who both touched a customer, and the deal one of them closed."""
    store, one, two = f"st-{prefix}", f"sf-{prefix}-1", f"sf-{prefix}-2"
    customer, deal = f"c-{prefix}", f"d-{prefix}"
    return [
        {"type": "brand", "id": "nio", "name": "NIO"},
        {
            "type": "store",
            "id": store,
            "name": "Race Store",
            "brand": "nio",
            "city": "Shanghai",
            "region": "East",
        },
        {"type": "staff", "id": one, "name": "One", "store": store, "role": "advisor"},
        {"type": "staff", "id": two, "name": "Two", "store": store, "role": "advisor"},
        {"type": "customer", "id": customer, "city": "Shanghai"},
        {
            "type": "touch",
            "id": f"t-{prefix}-1",
            "at": "2025-01-05T02:00:00Z",
            "customer": customer,
            "staff": one,
            "store": store,
            "stage": "test_drive",
        },
        {
            "type": "touch",
            "id": f"t-{prefix}-2",
            "at": "2025-01-06T02:00:00Z",
            "customer": customer,
            "staff": two,
            "store": store,
            "stage": "reception",
        },
        {
            "type": "deal",
            "id": deal,
            "customer": customer,
            "store": store,
            "staff": two,
            "closed_at": "2025-01-20T02:00:00Z",
            "amount": 25_000_000,
            "reward_pool": 400_000,
        },
    ]


def _settled_deal(server: Served) -> tuple[str, dict[str, int]]:
    """A new deal, settled; its id and each staff member's fen."""
    prefix = uuid.uuid4().hex[:10]
    with server.client() as client:
        posted = client.post("/v1/events", json={"events": _deal(prefix)})
        assert posted.status_code == 200, posted.text
        settled = client.post(f"/v1/deals/d-{prefix}/settlements")
        assert settled.status_code == 201, settled.text
    fen = {a["id"]: a["amount"] for a in settled.json()["allocations"] if a["kind"] == "staff"}
    assert sorted(fen) == [f"sf-{prefix}-1", f"sf-{prefix}-2"]
    assert sum(fen.values()) == 400_000
    return f"d-{prefix}", fen


def _balance(server: Served, deal: str, staff: str, settled: int) -> int:
    with server.client() as client:
        adjustments = client.get(f"/v1/deals/{deal}/adjustments").json()
    held = settled + sum(a["amount"] for a in adjustments if a["to_staff"] == staff)
    return held - sum(a["amount"] for a in adjustments if a["from_staff"] == staff)


@pytest.mark.parametrize(("share", "fit"), [(0.6, 1), (0.2, 4)])
def test_parallel_adjustments_never_overdraw(server: Served, share: float, fit: int) -> None:
    deal, fen = _settled_deal(server)
    giver, taker = sorted(fen)
    amount = int(fen[giver] * share) + 1  # ``fit`` such moves fit in the giver's credit

    def move(client: httpx.Client, i: int) -> httpx.Response:
        body = {"from_staff": giver, "to_staff": taker, "amount": amount, "reason": f"race {i}"}
        return client.post(f"/v1/deals/{deal}/adjustments", json=body)

    results = _at_once(server, PARALLEL, move)
    assert _statuses(results) == {201: fit, 422: PARALLEL - fit}, [
        r.text if isinstance(r, httpx.Response) else r for r in results
    ]
    refused = [r.json() for r in results if r.status_code == 422]
    assert all("holds" in e["errors"][0]["message"] for e in refused)
    with server.client() as client:
        assert len(client.get(f"/v1/deals/{deal}/adjustments").json()) == fit
    assert _balance(server, deal, giver, fen[giver]) == fen[giver] - fit * amount >= 0
    assert _balance(server, deal, taker, fen[taker]) == fen[taker] + fit * amount


def _touches(prefix: str, channel: str) -> list[dict[str, Any]]:
    return [
        {"type": "customer", "id": f"c-{prefix}"},
        *(
            {
                "type": "touch",
                "id": f"t-{prefix}-{i}",
                "at": f"2025-02-{1 + i:02d}T02:00:00Z",
                "customer": f"c-{prefix}",
                "staff": f"sf-{prefix}-{i % 3}",
                "store": f"st-{prefix}",
                "stage": "consultation",
                "channel": channel,
            }
            for i in range(20)
        ),
    ]


def _post_events(client: httpx.Client, events: list[dict[str, Any]]) -> httpx.Response:
    """POST /v1/events as the API asks of a client: a 503 (the store did not answer in time,
    e.g. Neo4j under a loaded CI machine) says nothing was written and when to send the batch
    again, so it is sent again -- up to three times."""
    for _ in range(3):
        response = client.post("/v1/events", json={"events": events})
        if response.status_code != 503:
            return response
        assert "nothing was written" in response.json()["detail"]
        time.sleep(float(response.headers["Retry-After"]))
    return response


def test_identical_batches_at_once_all_succeed(server: Served) -> None:
    for _ in range(3):
        batch = _touches(uuid.uuid4().hex[:10], "walk-in")
        results = _at_once(server, PARALLEL, lambda c, _, batch=batch: _post_events(c, batch))
        assert _statuses(results) == {200: PARALLEL}, _outcomes(server, results)
        counts = [(r.json()["accepted"], r.json()["duplicates"]) for r in results]
        assert sum(a for a, _ in counts) == len(batch)  # accepted once in all
        assert all(a + d == len(batch) for a, d in counts)


def test_conflicting_batches_at_once_give_one_success_and_409s(server: Served) -> None:
    for _ in range(3):
        prefix = uuid.uuid4().hex[:10]
        results = _at_once(
            server,
            PARALLEL,
            lambda c, i, prefix=prefix: _post_events(c, _touches(prefix, f"channel-{i}")),
        )
        assert _statuses(results) == {200: 1, 409: PARALLEL - 1}, _outcomes(server, results)
        assert all(r.json()["ids"] for r in results if r.status_code == 409)
        (winner,) = [i for i, r in enumerate(results) if r.status_code == 200]
        with server.client() as client:
            journey = client.get(f"/v1/customers/c-{prefix}/journey").json()
        assert {t["channel"] for t in journey["touches"]} == {f"channel-{winner}"}
        assert len(journey["touches"]) == 20


def test_parallel_settlements_settle_once(server: Served) -> None:
    prefix = uuid.uuid4().hex[:10]
    with server.client() as client:
        assert client.post("/v1/events", json={"events": _deal(prefix)}).status_code == 200
    results = _at_once(server, PARALLEL, lambda c, _: c.post(f"/v1/deals/d-{prefix}/settlements"))
    assert _statuses(results) == {201: 1, 200: PARALLEL - 1}, _outcomes(server, results)
    assert len({r.json()["id"] for r in results}) == 1
    with server.client() as client:
        history = client.get(f"/v1/deals/d-{prefix}/settlements").json()
    assert len(history["settlements"]) == 1


def test_parallel_supersedes_keep_one_chain(server: Served) -> None:
    deal, _ = _settled_deal(server)
    models = ("shapley", "stage_weighted")

    def supersede(client: httpx.Client, i: int) -> httpx.Response:
        body = {"model": models[i % 2], "reason": f"race {i}"}
        return client.post(f"/v1/deals/{deal}/settlements", json=body)

    results = _at_once(server, PARALLEL, supersede)
    statuses = _statuses(results)
    assert set(statuses) <= {200, 201, 409}, _outcomes(server, results)
    assert statuses[201] >= 1
    with server.client() as client:
        chain = client.get(f"/v1/deals/{deal}/settlements").json()["settlements"]
    assert [s["seq"] for s in chain] == list(range(1, len(chain) + 1))
    assert all(s["supersedes"] == p["id"] for p, s in zip(chain, chain[1:], strict=False))
    assert len(chain) == 1 + statuses[201]  # every 201 is in the chain, nothing else
    assert all(sum(a["amount"] for a in s["allocations"]) == s["pool"] for s in chain)

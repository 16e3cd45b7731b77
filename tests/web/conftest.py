"""The leaders' page test setup: the demo network in SQLite, its credit, a real uvicorn server.

The graph router reads settled credit from ``contribnet.services.settlement.credit_rows``: the
demo's deals are settled under the default policy first. Where that service is not installed,
:class:`PreviewCredit` -- a stand-in, for these tests only -- computes the same rows from credit
*previews* under the default policy (``compute_split``), and the server reads them through the
router's ``settled_credit_rows`` dependency.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
import uvicorn

from contribnet.api.app import create_app
from contribnet.api.routers.graph import CreditRowsSource, settled_credit_rows
from contribnet.credit import compute_split
from contribnet.credit.allocation import allocate
from contribnet.demo.generator import generate
from contribnet.domain.credit_rows import CreditRow
from contribnet.domain.policy import default_policy
from contribnet.graph import business_day
from contribnet.services.ingest import ingest_stream
from contribnet.services.keys import create_key
from contribnet.settings import Settings
from contribnet.store import Store, open_store

DEMO_SIZE = "demo"  # 84 stores, ~550 deals: loads and settles in about 2 s
DEMO_SEED = 1
ADMIN_KEY = "cn_admin_browser_test"


class PreviewCredit:
    """Credit rows computed from previews, standing in for settled credit in these tests.

    Every deal of the store, split once under the default policy and flattened the way
    :class:`~contribnet.domain.credit_rows.CreditRow` documents: one row per deal, contributor
    and store credited (a joint event's part divided among its organisers by largest
    remainder). Called like ``services.settlement.credit_rows(store, start, end)``.
    """

    def __init__(self, store: Store) -> None:
        self.rows = list(self._all(store))

    def __call__(self, store: Store, start: date | None, end: date | None) -> Iterator[CreditRow]:
        for r in self.rows:
            day = business_day(r.closed_at)
            if (start is None or day >= start) and (end is None or day <= end):
                yield r

    @staticmethod
    def _all(store: Store) -> Iterator[CreditRow]:
        policy = default_policy()
        offset = 0
        while True:
            page = store.list("deals", offset, 1000)
            for item in page.items:
                if not item.get("voided"):
                    yield from PreviewCredit._deal_rows(store, item["id"], policy)
            offset += len(page.items)
            if not page.items or offset >= page.total:
                return

    @staticmethod
    def _deal_rows(store: Store, deal_id: str, policy) -> Iterator[CreditRow]:  # type: ignore[no-untyped-def]
        journey = store.deal_journey(deal_id)
        deal = journey.deal
        split = compute_split(journey, policy)
        closing = journey.stores.get(deal.store)

        def place(store_id: str | None) -> tuple[str | None, str | None, str | None]:
            s = journey.stores.get(store_id) if store_id else None
            return (s.brand, s.city, s.region) if s else (None, None, None)

        for a in split.allocations:
            parts = {s.store: s.share for s in a.explanation.stores} if a.kind == "staff" else {}
            if not parts:
                parts = {a.store: 1.0} if a.store else {}
            keys = sorted(parts)
            amounts = allocate(a.amount, [parts[k] for k in keys], keys) if keys else []
            credited: list[tuple[str | None, int, float]] = list(
                zip(keys, amounts, [parts[k] for k in keys], strict=True)
            ) or [(None, a.amount, 1.0)]
            for store_id, amount, part in credited:
                brand, city, region = place(store_id)
                yield CreditRow(
                    settlement=f"preview-{split.input_hash}",
                    deal=deal.id,
                    closed_at=deal.closed_at,
                    deal_store=deal.store,
                    deal_brand=closing.brand if closing else None,
                    deal_city=closing.city if closing else None,
                    deal_region=closing.region if closing else None,
                    closer=deal.staff,
                    kind=a.kind,
                    contributor=a.id,
                    store=store_id,
                    brand=brand,
                    city=city,
                    region=region,
                    amount=amount,
                    points=a.points,
                    share=a.share * part,
                )


@dataclass
class DemoServer:
    url: str
    store: Store
    admin_key: str
    leader_key: str
    credit: str  # "settlements" or "previews"


def settle_demo(store: Store) -> bool:
    """Settle every deal under the default policy; False if there is no settlement service."""
    try:
        from contribnet.services.policies import ensure_default_policy
        from contribnet.services.settlement import settle_period
    except ImportError:
        return False
    ensure_default_policy(store)
    *_, done = settle_period(store, None, None, requested_by="browser-test")
    assert done.finished and done.failures == 0, done
    return True


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    path = tmp_path_factory.mktemp("dashboard") / "demo.db"
    store = open_store(f"sqlite:///{path}")
    ingest_stream(store, generate(DEMO_SIZE, DEMO_SEED))
    yield store
    store.close()


@pytest.fixture(scope="session")
def demo_server(demo_store: Store) -> Iterator[DemoServer]:
    """The API and the page on 127.0.0.1, over the demo network's credit."""
    app = create_app(store=demo_store, settings=Settings(admin_key=ADMIN_KEY))
    credit = "settlements" if settle_demo(demo_store) else "previews"
    if credit == "previews":  # TODO: drop PreviewCredit once the settlement service has landed
        source: CreditRowsSource = PreviewCredit(demo_store)
        app.dependency_overrides[settled_credit_rows] = lambda: source
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield DemoServer(
            url=f"http://127.0.0.1:{port}",
            store=demo_store,
            admin_key=ADMIN_KEY,
            leader_key=create_key(demo_store, "leader"),
            credit=credit,
        )
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def screenshots() -> Path:
    path = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path

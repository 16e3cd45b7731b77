"""The leaders' page test setup: the demo network in SQLite, its credit, a real uvicorn server.

The graph router reads settled credit (``contribnet.services.settlement.credit_rows``): the
demo's deals are settled under the default policy first, as ``contribnet settle`` would.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from tests.serving import free_port

from contribnet.api.app import create_app
from contribnet.demo.generator import generate
from contribnet.services.ingest import ingest_stream
from contribnet.services.keys import create_key
from contribnet.services.policies import ensure_default_policy
from contribnet.services.settlement import settle_period
from contribnet.settings import Settings
from contribnet.store import Store, open_store

#: Debian's Chromium (``apt-get install chromium``); Playwright's own browser download is not used.
CHROMIUM = os.environ.get("CONTRIBNET_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEMO_SIZE = "demo"  # 84 stores, ~550 deals: loads and settles in about 2 s
DEMO_SEED = 1
ADMIN_KEY = "cn_admin_browser_test"


@dataclass
class DemoServer:
    url: str
    store: Store
    admin_key: str
    leader_key: str


def settle_demo(store: Store) -> int:
    """Settle every deal under the default policy; how many were settled."""
    ensure_default_policy(store)
    *_, done = settle_period(store, None, None, requested_by="browser-test")
    assert done.finished and done.failures == 0, done
    return done.created


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    path = tmp_path_factory.mktemp("dashboard") / "demo.db"
    store = open_store(f"sqlite:///{path}")
    ingest_stream(store, generate(DEMO_SIZE, DEMO_SEED))
    yield store
    store.close()


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """Run ``app`` with uvicorn on a free loopback port in a thread; yields its URL."""
    port = free_port()
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
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def demo_server(demo_store: Store) -> Iterator[DemoServer]:
    """The API and the page on 127.0.0.1, over the demo network's credit."""
    assert settle_demo(demo_store) > 500
    app = create_app(store=demo_store, settings=Settings(admin_key=ADMIN_KEY))
    with serving(app) as url:
        yield DemoServer(
            url=url,
            store=demo_store,
            admin_key=ADMIN_KEY,
            leader_key=create_key(demo_store, "leader"),
        )


@pytest.fixture(scope="session")
def screenshots() -> Path:
    path = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def serve() -> Any:
    """:func:`serving`, for tests that run an app of their own."""
    return serving


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium through Playwright; skips without the package or the browser."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        yield b
        b.close()

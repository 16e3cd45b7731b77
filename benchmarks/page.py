"""The leaders' page on the settled demo network (SQLite), in headless Chromium: first paint
(opening the page to the graph drawn with every card filled) and a filter (choosing a region to
the graph redrawn), medians of five each. The browser tests assert behaviour only; the timing
goals live here.

Run: ``make bench`` or ``python -m benchmarks.page`` (needs ``playwright`` and Debian's Chromium
at ``/usr/bin/chromium``, or ``CONTRIBNET_CHROMIUM``).
"""

from __future__ import annotations

import os
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path

import uvicorn

from benchmarks.results_file import append_section
from contribnet.api.app import create_app
from contribnet.demo.generator import generate
from contribnet.services.ingest import ingest_stream
from contribnet.services.keys import create_key
from contribnet.services.policies import ensure_default_policy
from contribnet.services.settlement import settle_period
from contribnet.settings import Settings
from contribnet.store import open_store

CHROMIUM = os.environ.get("CONTRIBNET_CHROMIUM", "/usr/bin/chromium")
ROUNDS = 5


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise SystemExit(f"no Chromium at {CHROMIUM}")
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/page.db")
        ingest_stream(store, generate("demo", 1))
        ensure_default_policy(store)
        *_, done = settle_period(store, None, None, requested_by="benchmark")
        key = create_key(store, "leader")
        port = _port()
        app = create_app(store=store, settings=Settings(admin_key="cn_admin_bench_page"))
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        url = f"http://127.0.0.1:{port}/?lang=en"
        paints: list[float] = []
        filters: list[float] = []
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM, args=["--headless", "--no-sandbox"], headless=True
            )
            for _ in range(ROUNDS + 1):  # the first round warms the server's caches
                context = browser.new_context(viewport={"width": 1440, "height": 900})
                context.add_init_script(f"localStorage.setItem('contribnet.apiKey', {key!r})")
                page = context.new_page()
                started = time.perf_counter()
                page.goto(url)
                page.wait_for_selector('#graph[data-state="ready"]', timeout=60_000)
                page.wait_for_selector("#trend svg", timeout=60_000)
                paint = time.perf_counter() - started
                page.wait_for_timeout(300)
                started = time.perf_counter()
                page.select_option("#f-region", "East")
                page.wait_for_function(
                    "() => document.querySelector('#graph').dataset.state === 'ready'"
                    " && new URL(location).searchParams.get('region') === 'East'",
                    timeout=60_000,
                )
                filtered = time.perf_counter() - started
                paints.append(paint)
                filters.append(filtered)
                context.close()
            browser.close()
        server.should_exit = True
        thread.join(timeout=10)
        store.close()
    paint_s, filter_s = statistics.median(paints[1:]), statistics.median(filters[1:])
    load = os.getloadavg()[0]
    append_section(
        "Leaders' page on the demo network (SQLite, headless Chromium)",
        ["what", "median of 5", "goal", "met"],
        [
            [
                "first paint: open the page to the graph and every card drawn",
                f"{paint_s:.2f} s",
                "< 2 s",
                "yes" if paint_s < 2 else "no",
            ],
            [
                "filter: Region = East to the graph redrawn",
                f"{filter_s:.2f} s",
                "< 1 s",
                "yes" if filter_s < 1 else "no",
            ],
        ],  # fmt: skip
        notes=f"{done.created} deals settled; 1440×900 viewport; load average (1 min) {load:.1f}.",
    )


if __name__ == "__main__":
    main()

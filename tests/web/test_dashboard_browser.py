"""The leaders' page in headless Chromium (Playwright) against a real server on the demo network.

Needs the ``playwright`` Python package and Debian's Chromium at ``/usr/bin/chromium``
(``apt-get install -y chromium fonts-noto-cjk``; Playwright's own browser download is not used):
see the ``browser`` fixture in conftest.py.
Screenshots go to ``artifacts/screenshots/`` (CI artifacts); with ``CONTRIBNET_UPDATE_DOCS=1``
the README's ``docs/dashboard.png`` is refreshed too.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "dashboard.png"


@pytest.fixture
def page(browser: Any) -> Iterator[tuple[Any, list[str]]]:
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, device_scale_factor=1)
    page = context.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda m: (
            problems.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "warning")
            else None
        ),
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url} {r.failure}"))
    yield page, problems
    context.close()


def _api(server: Any, path: str, **params: str) -> dict[str, Any]:
    response = httpx.get(
        server.url + path,
        params=params,
        headers={"Authorization": f"Bearer {server.leader_key}"},
        timeout=30,
    )
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def _wait_ready(page: Any, nodes: int | None = None) -> None:
    page.wait_for_selector('#graph[data-state="ready"]', timeout=20_000)
    if nodes is not None:
        page.wait_for_function(
            "n => document.querySelector('#graph').dataset.nodes === String(n)"
            " && document.querySelector('#graph').dataset.state === 'ready'",
            arg=nodes,
            timeout=20_000,
        )


def _shown(page: Any) -> dict[str, int]:
    counts: dict[str, int] = page.evaluate(
        "() => ({nodes: window.contribnet.cy.nodes().length,"
        " edges: window.contribnet.cy.edges().length,"
        " visible: window.contribnet.cy.nodes(':visible').length})"
    )
    return counts


def test_page_is_served_openly_with_vendored_libraries(demo_server: Any) -> None:
    for path in ("/", "/dashboard"):
        r = httpx.get(demo_server.url + path)
        assert r.status_code == 200
        assert "Collaboration network" in r.text
    html = httpx.get(demo_server.url + "/").text
    assert "//cdn" not in html and "https://" not in html  # nothing loaded from the internet
    for lib in ("cytoscape.min.js", "layout-base.js", "cose-base.js", "cytoscape-fcose.js"):
        r = httpx.get(f"{demo_server.url}/static/vendor/{lib}")
        assert r.status_code == 200 and len(r.content) > 10_000
    assert httpx.get(demo_server.url + "/v1/graph/collaboration").status_code == 401


def test_leaders_page_end_to_end(demo_server: Any, page: Any, screenshots: Path) -> None:
    page, problems = page
    page.goto(demo_server.url + "/dashboard")

    # the page asks for a key once, and keeps it
    page.wait_for_selector("#key-dialog[open]")
    page.screenshot(path=str(screenshots / "01-api-key.png"))
    page.fill("#key-input", demo_server.leader_key)
    page.click("#key-save")
    expected = _api(demo_server, "/v1/graph/collaboration", level="store")
    _wait_ready(page, len(expected["nodes"]))
    assert page.evaluate("localStorage.getItem('contribnet.apiKey')") == demo_server.leader_key

    # as many stores as the API returns, all of them drawn
    shown = _shown(page)
    assert shown == {
        "nodes": len(expected["nodes"]),
        "edges": len(expected["edges"]),
        "visible": len(expected["nodes"]),
    }
    assert len(expected["nodes"]) >= 50  # the demo network: 84 stores, ~70 with credit
    assert page.text_content("#graph-count") == (
        f"{len(expected['nodes'])} stores · {len(expected['edges'])} links"
    )
    cross = page.evaluate("window.contribnet.cy.edges('.cross').length")
    assert cross == sum(e["cross_brand"] for e in expected["edges"]) > 0
    assert "Farmers" in page.text_content(".farmers-card")
    farmers = _api(demo_server, "/v1/graph/farmers", limit="25")["farmers"]
    assert page.locator("#farmers tbody tr").count() == len(farmers) > 0
    assert page.locator("#flows-brand table.matrix[data-level=brand] tbody tr").count() == 2
    cities = _api(demo_server, "/v1/graph/flows", level="city")
    assert page.locator("#flows table.matrix[data-level=city] tbody tr").count() == _crossing(
        cities
    )
    page.screenshot(path=str(screenshots / "02-overview.png"), full_page=True)

    # a click on the store with the most credit shows its detail
    top = max(expected["nodes"], key=lambda n: n["credit"])
    _click_node(page, top["id"])
    page.wait_for_selector(f'#detail[data-store="{top["id"]}"]', timeout=10_000)
    detail = page.text_content("#detail")
    assert top["name"] in detail
    assert "Top contributors" in detail and "Inflows" in detail and "Outflows" in detail
    api_detail = _api(demo_server, f"/v1/graph/stores/{top['id']}", limit="6")
    assert page.locator("#detail .section").nth(0).locator("li").count() == len(
        api_detail["contributors"]
    )
    page.mouse.move(5, 5)  # no tooltip over the picture
    page.wait_for_timeout(400)  # the focus animation
    page.screenshot(path=str(screenshots / "03-store-detail.png"), full_page=True)
    # for the README: the best broker in the whole network, its partners lit
    broker = max(expected["nodes"], key=lambda n: (n["centrality"], n["id"]))
    page.click("#fit")
    page.wait_for_timeout(100)
    _click_node(page, broker["id"])
    page.wait_for_selector(f'#detail[data-store="{broker["id"]}"]', timeout=10_000)
    page.mouse.move(5, 5)
    page.wait_for_timeout(400)  # the focus animation
    page.screenshot(path=str(screenshots / "03b-broker.png"))
    if os.environ.get("CONTRIBNET_UPDATE_DOCS"):
        shutil.copyfile(screenshots / "03b-broker.png", DOCS_SCREENSHOT)
    page.click("#fit")

    # colour by community
    page.click("#colour-by button[data-colour=community]")
    assert "stores" in page.text_content("#legend")
    page.screenshot(path=str(screenshots / "03c-communities.png"))
    page.click("#colour-by button[data-colour=brand]")

    # a region filter changes the graph to what the API returns for it
    regional = _api(demo_server, "/v1/graph/collaboration", level="store", region="East")
    assert len(regional["nodes"]) != len(expected["nodes"])
    page.select_option("#f-region", "East")
    _wait_ready(page, len(regional["nodes"]))
    assert _shown(page)["nodes"] == len(regional["nodes"])
    outside = page.evaluate("window.contribnet.cy.nodes('.out').length")
    assert outside == sum(not n["in_scope"] for n in regional["nodes"])
    page.screenshot(path=str(screenshots / "04-region-east.png"), full_page=True)

    # a period filter too
    first, last = expected["available"]["first_day"], expected["available"]["last_day"]
    assert page.input_value("#f-from") == first and page.input_value("#f-to") == last
    page.click("#f-reset")
    _wait_ready(page, len(expected["nodes"]))
    january = _api(
        demo_server,
        "/v1/graph/collaboration",
        level="store",
        **{"from": "2025-01-01"},
        to="2025-01-31",
    )
    page.fill("#f-from", "2025-01-01")
    page.fill("#f-to", "2025-01-31")
    page.dispatch_event("#f-to", "change")
    page.wait_for_function(
        "s => document.querySelector('.kpi .value').textContent === s",
        arg=f"{january['summary']['deals']:,}",
        timeout=20_000,
    )
    _wait_ready(page, len(january["nodes"]))

    # the flows between regions
    page.click("#flow-level button[data-level=region]")
    page.wait_for_selector("#flows table.matrix[data-level=region]")
    period = {"from": "2025-01-01", "to": "2025-01-31"}
    regions = _api(demo_server, "/v1/graph/flows", level="region", **period)
    assert page.locator("#flows table.matrix tbody tr").count() == len(regions["labels"])
    page.screenshot(path=str(screenshots / "05-region-flows.png"), full_page=True)

    assert problems == []


def _crossing(m: dict[str, Any]) -> int:
    """How many groups the page's matrix shows: all of up to 12, else those with credit across."""
    n = len(m["labels"])
    if n <= 12:
        return n
    a = m["amounts"]
    return sum(
        any(a[i][j] for j in range(n) if j != i) or any(a[k][i] for k in range(n) if k != i)
        for i in range(n)
    )


def _click_node(page: Any, node_id: str) -> None:
    """Click a node where Cytoscape drew it."""
    box = page.locator("#graph").bounding_box()
    pos = page.evaluate("id => window.contribnet.cy.getElementById(id).renderedPosition()", node_id)
    page.mouse.click(box["x"] + pos["x"], box["y"] + pos["y"])

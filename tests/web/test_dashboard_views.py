"""The leaders' page as its users use it: search, the view in the URL, the detail under the
filters, exports, Chinese and English, the keyboard, a phone and a desktop, and a staff member's
own view. Headless Chromium (Playwright) against the demo network (conftest.py).

Every assertion is about behaviour; none about time (timings are in ``benchmarks/page.py``).
Screenshots go to ``artifacts/screenshots/``; with ``CONTRIBNET_UPDATE_DOCS=1`` the README's
``docs/dashboard-zh.png``, ``docs/dashboard-en.png`` and ``docs/dashboard-phone.png`` too.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from contribnet.services.keys import create_key

DOCS = Path(__file__).resolve().parents[2] / "docs"

#: Elements that stick out of their card (or the page) unless a scrolling box holds them.
OVERFLOW_JS = """
() => {
  const clipped = (el, stop) => {
    for (let p = el.parentElement; p && p !== stop; p = p.parentElement) {
      const s = getComputedStyle(p);
      if (/(auto|scroll|hidden|clip)/.test(s.overflowX)) return true;
    }
    return false;
  };
  const bad = [];
  for (const card of document.querySelectorAll('.card, .kpi, .topbar')) {
    if (!card.offsetParent && card.tagName !== 'HEADER') continue;
    const r = card.getBoundingClientRect();
    for (const el of card.querySelectorAll('*')) {
      if (el.closest('#graph, .sr-only, [hidden]')) continue;
      const e = el.getBoundingClientRect();
      if (!e.width || !e.height) continue;
      if ((e.right > r.right + 1 || e.left < r.left - 1) && !clipped(el, card)) {
        bad.push(`${card.className} > ${el.tagName}.${el.className}: ${Math.round(e.left)}..`
          + `${Math.round(e.right)} outside ${Math.round(r.left)}..${Math.round(r.right)}`);
      }
    }
  }
  return {bad: bad.slice(0, 12), page: document.documentElement.scrollWidth - innerWidth};
}
"""


def _leader(server: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.leader_key}"}


def _api(server: Any, path: str, **params: str) -> dict[str, Any]:
    r = httpx.get(server.url + path, params=params, headers=_leader(server), timeout=30)
    r.raise_for_status()
    body: dict[str, Any] = r.json()
    return body


@pytest.fixture
def open_page(browser: Any, demo_server: Any) -> Iterator[Callable[..., Any]]:
    """``open_page(path, width=1440, locale="en-US", key=leader)``: a page with the key stored,
    its console errors collected in ``page.problems``."""
    contexts: list[Any] = []

    def make(
        path: str = "/", width: int = 1440, locale: str = "en-US", key: str | None = None
    ) -> Any:
        context = browser.new_context(
            viewport={"width": width, "height": 900},
            device_scale_factor=1,
            locale=locale,
            accept_downloads=True,
        )
        contexts.append(context)
        stored = key or demo_server.leader_key
        context.add_init_script(f"localStorage.setItem('contribnet.apiKey', {stored!r})")
        page = context.new_page()
        problems: list[str] = []
        page.on(
            "console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None
        )
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.problems = problems
        page.goto(demo_server.url + path)
        return page

    yield make
    for c in contexts:
        c.close()


def _ready(page: Any) -> None:
    page.wait_for_selector('#graph[data-state="ready"]', timeout=30_000)


def _detail(page: Any, store: str) -> None:
    page.wait_for_selector(f'#detail[data-store="{store}"]:not([data-loading])', timeout=15_000)


def _query(page: Any) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}


def _stat(page: Any, n: int) -> str:
    text: str = page.locator("#detail .stat .value").nth(n).inner_text()
    return text


def test_search_finds_stores_staff_and_cities(open_page: Any, demo_server: Any) -> None:
    page = open_page("/?lang=en")
    _ready(page)
    collab = _api(demo_server, "/v1/graph/collaboration", level="store")
    target = next(n for n in collab["nodes"] if n["id"] == "st-sh-onvo-1")

    search = page.locator('input[type="search"]#search')
    search.fill("onvo center shang")
    page.wait_for_selector("#search-results li.store")
    assert target["name"] in page.inner_text("#search-results")
    search.press("Enter")
    _detail(page, "st-sh-onvo-1")
    assert page.evaluate("window.contribnet.cy.getElementById('st-sh-onvo-1').hasClass('hit')")
    assert page.evaluate("window.contribnet.cy.getElementById('st-sh-onvo-1').hasClass('picked')")
    assert _query(page)["store"] == "st-sh-onvo-1"

    # a staff member (by name): their home store
    farmer = _api(demo_server, "/v1/graph/farmers", limit="1")["farmers"][0]
    search.fill(farmer["name"])
    page.wait_for_selector("#search-results li.staff")
    search.press("Enter")
    _detail(page, farmer["store"])

    # a city: its stores lit and fitted, no single selection
    search.fill("Sanya")
    page.wait_for_selector("#search-results li.city")
    search.press("Enter")
    page.wait_for_function("document.querySelector('#graph').dataset.hits > 0")
    sanya = [n["id"] for n in collab["nodes"] if n["city"] == "Sanya"]
    hits = page.evaluate("window.contribnet.cy.nodes('.hit').map(n => n.id())")
    assert sorted(hits) == sorted(sanya) and hits
    assert "store" not in _query(page)

    search.fill("no-such-thing-xyz")
    assert "Nothing matches" in page.inner_text("#search-results")
    assert page.problems == []


def test_the_view_lives_in_the_url(open_page: Any, demo_server: Any) -> None:
    page = open_page("/?lang=en")
    _ready(page)
    page.select_option("#f-region", "East")
    page.wait_for_function("new URL(location).searchParams.get('region') === 'East'")
    _ready(page)
    page.click("#flow-level button[data-level=region]")
    page.click("#colour-by button[data-colour=community]")
    page.locator('input[type="search"]').fill("NIO House Shanghai")
    page.locator('input[type="search"]').press("Enter")
    _detail(page, "st-sh-nio-1")
    q = _query(page)
    assert q == {
        "lang": "en",
        "region": "East",
        "store": "st-sh-nio-1",
        "flows": "region",
        "colour": "community",
    }
    shared = page.url
    credit = _stat(page, 0)

    # a reload, and the link opened elsewhere, show the same view
    page.reload()
    _ready(page)
    _detail(page, "st-sh-nio-1")
    other = open_page(shared.replace(demo_server.url, ""))
    _ready(other)
    _detail(other, "st-sh-nio-1")
    for p in (page, other):
        assert p.input_value("#f-region") == "East"
        assert p.locator("#flow-level button.on").get_attribute("data-level") == "region"
        assert p.locator("#colour-by button.on").get_attribute("data-colour") == "community"
        assert p.locator("#flows table.matrix").get_attribute("data-level") == "region"
        assert _stat(p, 0) == credit
        assert _query(p) == q
    # a period in the URL
    period = open_page("/?lang=en&from=2025-01-01&to=2025-01-31")
    _ready(period)
    january = _api(
        demo_server,
        "/v1/graph/collaboration",
        level="store",
        **{"from": "2025-01-01"},
        to="2025-01-31",
    )
    assert period.input_value("#f-from") == "2025-01-01"
    assert period.locator(".kpi .value").first.inner_text() == f"{january['summary']['deals']:,}"
    assert page.problems == other.problems == period.problems == []


def test_selection_and_detail_follow_the_filters(open_page: Any, demo_server: Any) -> None:
    # ONVO Shanghai handed customers over to NIO: under Brand = NIO it is a partner outside the
    # filter, and only its credit with NIO stores counts
    store = "st-sh-onvo-1"
    page = open_page(f"/?lang=en&store={store}")
    _ready(page)
    _detail(page, store)
    jan = {"from": "2025-01-01", "to": "2025-01-31"}
    expected = {
        "all": _api(demo_server, f"/v1/graph/stores/{store}")["store"],
        "nio": _api(demo_server, f"/v1/graph/stores/{store}", brand="nio")["store"],
        "jan": _api(demo_server, f"/v1/graph/stores/{store}", **jan)["store"],
    }
    assert len({v["credit"] for v in expected.values()}) == 3  # the filters matter

    def money(fen: int) -> str:
        text: str = page.evaluate(
            "fen => '¥' + new Intl.NumberFormat('en', {notation: 'compact',"
            " maximumSignificantDigits: 3}).format(fen / 100)",
            fen,
        )
        return text

    assert _stat(page, 0) == money(expected["all"]["credit"])
    page.select_option("#f-brand", "nio")
    page.wait_for_function(
        "s => document.querySelectorAll('#detail .stat .value')[0]?.textContent === s",
        arg=money(expected["nio"]["credit"]),
        timeout=20_000,
    )
    _detail(page, store)
    assert "outside the filter" in page.inner_text("#detail")
    assert "Under the filters" in page.inner_text("#detail") and "NIO" in page.inner_text("#detail")
    page.select_option("#f-brand", "")
    page.fill("#f-from", jan["from"])
    page.fill("#f-to", jan["to"])
    page.dispatch_event("#f-to", "change")
    page.wait_for_function(
        "s => document.querySelectorAll('#detail .stat .value')[0]?.textContent === s",
        arg=money(expected["jan"]["credit"]),
        timeout=20_000,
    )
    assert _query(page)["store"] == store
    # a filter under which the store is not drawn clears the selection, in the URL too
    page.select_option("#f-region", "Southwest")
    page.wait_for_selector("#detail .empty", timeout=20_000)
    _ready(page)
    assert "store" not in _query(page)
    assert page.evaluate("window.contribnet.cy.nodes('.picked').length") == 0
    assert page.problems == []


def test_exports(open_page: Any, demo_server: Any, tmp_path: Path) -> None:
    page = open_page("/?lang=en&store=st-sh-nio-1")
    _ready(page)
    _detail(page, "st-sh-nio-1")
    files = {}
    for what in ("flows-brand", "flows", "farmers", "trend", "detail"):
        with page.expect_download() as info:
            page.click(f'button.csv[data-export="{what}"]')
        path = tmp_path / info.value.suggested_filename
        info.value.save_as(path)
        files[what] = path
    with page.expect_download() as info:
        page.click("#export-png")
    png = tmp_path / info.value.suggested_filename
    info.value.save_as(png)
    assert png.suffix == ".png" and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    def rows(path: Path) -> list[dict[str, str]]:
        text = path.read_text(encoding="utf-8")
        assert text.startswith("\ufeff")  # Excel reads the Chinese names right
        return list(csv.DictReader(io.StringIO(text[1:])))

    farmers = _api(demo_server, "/v1/graph/farmers", limit="25")["farmers"]
    got = rows(files["farmers"])
    assert [r["staff"] for r in got] == [f["staff"] for f in farmers]
    assert [int(r["farmed_fen"]) for r in got] == [f["farmed"] for f in farmers]
    brands = _api(demo_server, "/v1/graph/flows", level="brand")
    got = rows(files["flows-brand"])
    assert len(got) == len(brands["labels"]) ** 2
    assert sum(int(r["amount_fen"]) for r in got) == brands["total"]
    assert {r["level"] for r in rows(files["flows"])} == {"city"}
    trend = _api(demo_server, "/v1/graph/trend", store="st-sh-nio-1")
    got = rows(files["trend"])
    assert [r["month"] for r in got if r["scope"] == "network"] == [
        m["month"] for m in trend["months"]
    ]
    assert sum(int(r["credit_fen"]) for r in got if r["scope"] == "st-sh-nio-1") == sum(
        m["credit"] for m in trend["store_months"]
    )
    detail = rows(files["detail"])
    assert {r["section"] for r in detail} >= {"contributor", "inflow"}
    assert page.problems == []


def test_chinese_and_english(open_page: Any, screenshots: Path) -> None:
    zh = open_page("/", locale="zh-CN")  # chosen from the browser
    _ready(zh)
    assert zh.evaluate("document.documentElement.lang") == "zh-CN"
    assert zh.inner_text("h1") == "协作网络"
    assert "种地" in zh.inner_text(".farmers-card h2")
    assert zh.inner_text(".kpi .label >> nth=0") == "成交"
    assert "万" in zh.inner_text("#kpis")  # ¥204万: numbers in the Chinese way
    assert _query(zh)["lang"] == "zh-CN"
    zh.locator('input[type="search"]').fill("ONVO Center Shanghai")
    zh.locator('input[type="search"]').press("Enter")
    _detail(zh, "st-sh-onvo-1")
    assert "主要贡献者" in zh.inner_text("#detail")
    zh.mouse.move(2, 2)
    zh.wait_for_timeout(400)  # the focus animation
    zh.screenshot(path=str(screenshots / "10-zh-CN.png"))

    zh.select_option("#lang", "en")  # switched: everything in English, kept in the URL
    assert zh.inner_text("h1") == "Collaboration network"
    assert "top contributors" in zh.inner_text("#detail").lower()
    assert zh.inner_text(".kpi .label >> nth=0") == "Deals"
    assert "M" in zh.inner_text("#kpis .kpi >> nth=1")  # ¥2.04M
    assert _query(zh)["lang"] == "en"
    zh.screenshot(path=str(screenshots / "11-en.png"))
    en = open_page("/", locale="en-US")
    _ready(en)
    assert en.inner_text("h1") == "Collaboration network"
    if os.environ.get("CONTRIBNET_UPDATE_DOCS"):
        shutil.copyfile(screenshots / "10-zh-CN.png", DOCS / "dashboard-zh.png")
        shutil.copyfile(screenshots / "11-en.png", DOCS / "dashboard-en.png")
    assert zh.problems == en.problems == []


def test_keyboard_reaches_everything(open_page: Any) -> None:
    page = open_page("/?lang=en")
    _ready(page)
    page.locator("body").focus()
    seen = []
    for _ in range(40):
        page.keyboard.press("Tab")
        seen.append(page.evaluate("document.activeElement.id || document.activeElement.tagName"))
        if seen[-1] == "graph":
            break
    assert seen[-1] == "graph", seen
    assert "search" in seen and "f-region" in seen
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", "")  # the focus is visible
    page.keyboard.press("ArrowRight")
    first = page.evaluate("document.querySelector('#graph').dataset.cursor")
    assert first
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowDown")
    cursor = page.evaluate("document.querySelector('#graph').dataset.cursor")
    assert page.evaluate("id => window.contribnet.cy.getElementById(id).hasClass('cursor')", cursor)
    assert cursor in page.inner_text("#graph-cursor") or page.inner_text("#graph-cursor")
    page.keyboard.press("Enter")
    _detail(page, cursor)
    page.keyboard.press("Escape")
    page.wait_for_selector("#detail .empty")

    # a farmers' row and a detail list item act as buttons
    row = page.locator("#farmers tr.link").first
    row.focus()
    page.keyboard.press("Enter")
    _detail(page, row.get_attribute("data-store"))
    item = page.locator("#detail li.link").first
    store = item.get_attribute("data-store")
    item.focus()
    page.keyboard.press("Enter")
    _detail(page, store)
    assert page.problems == []


@pytest.mark.parametrize("width", [390, 1440])
def test_nothing_overflows(open_page: Any, width: int, screenshots: Path) -> None:
    for lang in ("zh-CN", "en"):
        page = open_page(f"/?lang={lang}&store=st-sh-onvo-1&flows=region", width=width)
        _ready(page)
        _detail(page, "st-sh-onvo-1")
        page.click("#flow-level button[data-level=city]")
        page.wait_for_selector("#flows table.matrix[data-level=city]")
        page.mouse.move(2, 2)
        page.wait_for_timeout(400)
        result = page.evaluate(OVERFLOW_JS)
        assert result == {"bad": [], "page": 0}, result
        # the toolbar's controls are all on screen, and the region matrix fits its card at 1440
        for sel in ("#search", "#f-from", "#f-to", "#f-region", "#f-brand", "#lang", "#key-button"):
            box = page.locator(sel).bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, sel
        if width == 1440:
            page.click("#flow-level button[data-level=region]")
            page.wait_for_selector("#flows table.matrix[data-level=region]")
            wrap = page.evaluate(
                "(() => { const w = document.querySelector('#flows .matrix-wrap');"
                " return w.scrollWidth - w.clientWidth; })()"
            )
            assert wrap <= 0
        name = f"12-{lang}-{width}.png"
        page.screenshot(path=str(screenshots / name), full_page=True)
        if width == 390 and lang == "zh-CN" and os.environ.get("CONTRIBNET_UPDATE_DOCS"):
            shutil.copyfile(screenshots / name, DOCS / "dashboard-phone.png")
        assert page.problems == []


def test_a_staff_key_sees_its_own_view(open_page: Any, demo_server: Any, screenshots: Path) -> None:
    farmer = _api(demo_server, "/v1/graph/farmers", limit="1")["farmers"][0]["staff"]
    key = create_key(demo_server.store, "staff", staff=farmer)
    page = open_page("/?lang=en&from=2025-01-01&to=2025-01-31", key=key)
    page.wait_for_selector('#staff-view[data-state="ready"]', timeout=30_000)
    assert page.is_hidden("#leader-view")
    january = {"from": "2025-01-01", "to": "2025-01-31"}
    mine = {"Authorization": f"Bearer {key}"}
    view = httpx.get(
        f"{demo_server.url}/v1/staff/{farmer}/view", params=january, headers=mine
    ).json()
    assert view["lines"]
    assert page.locator(".staff-lines tbody tr").count() == len(view["lines"])
    first = page.locator(".staff-lines tbody tr").first.inner_text()
    assert "weight" in first and " of " in first  # the weight and the total it is divided by
    # their profile beside their region, the API's figures
    profile = httpx.get(
        f"{demo_server.url}/v1/staff/{farmer}/profile", params=january, headers=mine
    ).json()
    assert profile["stages"]
    stages = page.locator("#staff-profile .profile-table tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.stage)"
    )
    assert stages == [s["stage"] for s in profile["stages"]] + ["total"]
    assert f"{profile['peers']} advisors" in page.inner_text("#staff-profile .where")
    page.screenshot(path=str(screenshots / "13-staff-view.png"), full_page=True)
    # a leader may open anyone's view through the URL
    leader = open_page(f"/?lang=zh-CN&staff={farmer}&from=2025-01-01&to=2025-01-31")
    leader.wait_for_selector('#staff-view[data-state="ready"]', timeout=30_000)
    assert "每笔成交的说明" in leader.inner_text("#staff-view")
    assert "我的工作与本区域对比" in leader.inner_text("#staff-profile h2")
    assert page.problems == leader.problems == []

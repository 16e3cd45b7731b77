"""The leaders' page's advisor profile and leaderboard, in headless Chromium against the demo
network (conftest.py): picking a staff member shows their profile by stage beside the region's
advisors, and the leaderboard ranks advisors under the filters."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest


@pytest.fixture
def page(browser: Any, demo_server: Any) -> Iterator[Any]:
    """A 1440-px page with the leader's key stored; console errors in ``page.problems``."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US")
    context.add_init_script(
        f"localStorage.setItem('contribnet.apiKey', {demo_server.leader_key!r})"
    )
    page = context.new_page()
    problems: list[str] = []
    page.on(
        "console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.problems = problems
    yield page
    context.close()


def _api(server: Any, path: str, **params: Any) -> Any:
    r = httpx.get(
        server.url + path,
        params=params,
        headers={"Authorization": f"Bearer {server.leader_key}"},
        timeout=30,
    )
    r.raise_for_status()
    return r.json()


def test_picking_a_staff_member_shows_their_profile(
    page: Any, demo_server: Any, screenshots: Path
) -> None:
    page.goto(demo_server.url + "/?lang=en")
    page.wait_for_selector('#graph[data-state="ready"]', timeout=30_000)
    # the page asks for its filters' period (the network's span), not the API's default window
    period = {"from": page.input_value("#f-from"), "to": page.input_value("#f-to")}
    assert period["from"] and period["to"]
    board = _api(demo_server, "/v1/leaderboards", metric="credit", limit=10, **period)
    page.wait_for_selector("#leaders tr.link")
    shown = page.locator("#leaders tr.link").evaluate_all("rows => rows.map(r => r.dataset.staff)")
    assert shown == [r["staff"] for r in board["rows"]]

    # picked by search, by name: the profile of that staff member
    top = board["rows"][0]
    search = page.locator('input[type="search"]#search')
    search.fill(top["name"])
    page.wait_for_selector("#search-results li.staff")
    search.press("Enter")
    page.wait_for_selector(f'#profile[data-staff="{top["staff"]}"]:not([data-loading])')
    profile = _api(demo_server, f"/v1/staff/{top['staff']}/profile", **period)
    assert profile["stages"]
    rows = page.locator(".profile-table tbody tr")
    assert rows.count() == len(profile["stages"]) + 1  # every stage, then all stages
    stages = rows.evaluate_all("rows => rows.map(r => r.dataset.stage)")
    assert stages == [s["stage"] for s in profile["stages"]] + ["total"]
    total = page.locator(".profile-table tr.total").inner_text()
    assert "avg" in total and "top 10%" in total
    head = page.inner_text("#profile .where")
    assert top["name"] in head and f"{profile['peers']} advisors" in head
    assert f"profile={top['staff']}" in page.url  # the view lives in the URL

    # another metric, and a row of the leaderboard opens that advisor's profile
    page.select_option("#leaders-metric", "touches")
    page.wait_for_selector('#leaders[data-metric="touches"] tr.link')
    second = page.locator("#leaders tr.link").nth(1)
    staff = second.get_attribute("data-staff")
    second.click()
    page.wait_for_selector(f'#profile[data-staff="{staff}"]:not([data-loading])')
    page.mouse.move(2, 2)
    page.locator(".profiles-row").screenshot(path=str(screenshots / "20-profile-en.png"))

    # in Chinese, the same profile
    page.select_option("#lang", "zh-CN")
    assert page.inner_text("#profile h2") == "顾问画像"
    assert "全部环节" in page.inner_text(".profile-table tr.total")
    page.locator("#profile").screenshot(path=str(screenshots / "21-profile-zh.png"))
    assert page.problems == []

"""/docs (Swagger UI) and /redoc (ReDoc) render in Chromium with every off-host request blocked.

FastAPI's own pages load their assets from a CDN; contribnet's (api/docs.py) load the copies
vendored into ``web/static/vendor/``. Each page is loaded with the network cut off except for the
test server itself, and must render the operations; any attempt to reach another host fails the
test. Screenshots go to ``artifacts/screenshots/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from contribnet.api.app import create_app
from contribnet.api.docs import REDOC_JS, SWAGGER_CSS, SWAGGER_JS
from contribnet.settings import Settings
from contribnet.store import open_store


@pytest.fixture(scope="module")
def docs_url(serve: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('docs') / 'docs.db'}")
    app = create_app(store=store, settings=Settings(admin_key="cn_admin_docs_test_key_0123456789"))
    with serve(app) as url:
        yield url
    store.close()


@pytest.fixture
def offline_page(browser: Any, docs_url: str) -> Iterator[tuple[Any, list[str], list[str]]]:
    """A page whose requests to anything but the test server are aborted (and listed)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    blocked: list[str] = []
    problems: list[str] = []

    def route(r: Any) -> None:
        if r.request.url.startswith(docs_url + "/"):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort("internetdisconnected")

    context.route("**/*", route)
    page = context.new_page()
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on(
        "console",
        lambda m: problems.append(f"console error: {m.text}") if m.type == "error" else None,
    )
    page.on(
        "requestfailed",
        lambda r: (
            problems.append(f"failed: {r.url} {r.failure}") if r.url.startswith(docs_url) else None
        ),
    )
    yield page, blocked, problems
    context.close()


def test_docs_pages_name_only_local_assets(docs_url: str) -> None:
    for path, assets in (("/docs", (SWAGGER_JS, SWAGGER_CSS)), ("/redoc", (REDOC_JS,))):
        html = httpx.get(docs_url + path).text
        assert "cdn.jsdelivr.net" not in html and "fonts.googleapis" not in html, path
        for asset in assets:
            assert f'"{asset}"' in html, (path, asset)
            served = httpx.get(docs_url + asset)
            assert served.status_code == 200 and len(served.content) > 100_000, asset


def test_swagger_ui_renders_the_operations_offline(
    offline_page: tuple[Any, list[str], list[str]], docs_url: str, screenshots: Path
) -> None:
    page, blocked, problems = offline_page
    page.goto(docs_url + "/docs")
    page.wait_for_selector(".opblock", timeout=30_000)
    operations = page.locator(".opblock-summary-path").all_inner_texts()
    assert any(path.startswith("/v1/events") for path in operations), operations[:10]
    assert page.locator(".information-container .title").inner_text().startswith("contribnet")
    page.screenshot(path=str(screenshots / "api-docs-swagger.png"))
    assert blocked == [], f"the page tried to reach other hosts: {blocked}"
    assert problems == []


def test_redoc_renders_offline(
    offline_page: tuple[Any, list[str], list[str]], docs_url: str, screenshots: Path
) -> None:
    page, blocked, problems = offline_page
    page.goto(docs_url + "/redoc")
    page.wait_for_selector(".api-content h1", timeout=30_000)
    assert page.locator(".api-content h1").first.inner_text().startswith("contribnet")
    # the side menu lists the operations; one of them is the ingest endpoint
    page.wait_for_selector(".menu-content li", timeout=30_000)
    assert page.locator(".api-content").get_by_text("/v1/events").count() > 0
    page.screenshot(path=str(screenshots / "api-docs-redoc.png"))
    assert blocked == [], f"the page tried to reach other hosts: {blocked}"
    # ReDoc's footer names its logo on cdn.redoc.ly; the page's CSP stops it before any request.
    logo = [p for p in problems if "cdn.redoc.ly/redoc/logo-mini.svg" in p]
    assert all("Content Security Policy" in p for p in logo), logo
    assert [p for p in problems if p not in logo] == []

"""The leaders' page: one static HTML+JS+CSS app, served by the API at ``/`` and ``/dashboard``.

The page itself is open (it holds no data); it asks once for an API key (leader or admin),
keeps it in the browser's localStorage and reads ``/v1/graph/...`` with it. Its JavaScript
libraries are vendored from the npm registry into ``static/vendor/`` by ``build.sh``, so it
works offline and needs no build step at run time.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["STATIC", "mount_dashboard"]

#: The page's files, shipped as package data.
STATIC = Path(__file__).parent / "static"


def mount_dashboard(app: FastAPI) -> None:
    """Serve the page at ``/`` and ``/dashboard`` and its files under ``/static``.

    The page is a plain route, not an API route: its query string is the page's own view state
    (``?lang=zh-CN&region=East&store=...``, read by the page's script), which the API's refusal
    of unknown query parameters must not apply to."""
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    async def page(request: Request) -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    for path in ("/", "/dashboard"):
        app.add_route(path, page, methods=["GET"], include_in_schema=False)

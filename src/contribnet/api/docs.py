"""The API's documentation pages, ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), served offline.

FastAPI's own pages load their JavaScript and CSS from a CDN, which leaves them blank on an
intranet. Here the same pages load the copies vendored from the npm registry into
``web/static/vendor/`` (by ``web/build.sh``), served under ``/static`` with the leaders' page.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse

__all__ = ["REDOC_JS", "SWAGGER_CSS", "SWAGGER_JS", "mount_docs"]

_VENDOR = "/static/vendor"
SWAGGER_JS = f"{_VENDOR}/swagger-ui/swagger-ui-bundle.js"
SWAGGER_CSS = f"{_VENDOR}/swagger-ui/swagger-ui.css"
SWAGGER_FAVICON = f"{_VENDOR}/swagger-ui/favicon-32x32.png"
REDOC_JS = f"{_VENDOR}/redoc/redoc.standalone.js"
FAVICON = "/static/favicon.svg"

#: Both pages may load from this server only (plus their own inline script and styles, and
#: ReDoc's search worker made from a blob). It also keeps the browser from fetching what the
#: bundles still name on the Internet (ReDoc's footer logo on cdn.redoc.ly): it is not shown.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "worker-src 'self' blob:",
        "connect-src 'self'",
    )
)


def _offline(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return page


def mount_docs(app: FastAPI) -> None:
    """Add ``/docs`` and ``/redoc`` (build the app with ``docs_url=None, redoc_url=None``)."""
    openapi_url = app.openapi_url or "/openapi.json"

    def swagger_ui() -> HTMLResponse:
        return _offline(
            get_swagger_ui_html(
                openapi_url=openapi_url,
                title=f"{app.title} — API",
                swagger_js_url=SWAGGER_JS,
                swagger_css_url=SWAGGER_CSS,
                swagger_favicon_url=SWAGGER_FAVICON,
                swagger_ui_parameters={"persistAuthorization": True},
            )
        )

    def redoc() -> HTMLResponse:
        return _offline(
            get_redoc_html(
                openapi_url=openapi_url,
                title=f"{app.title} — API reference",
                redoc_js_url=REDOC_JS,
                redoc_favicon_url=FAVICON,
                with_google_fonts=False,
            )
        )

    app.add_api_route("/docs", swagger_ui, methods=["GET"], include_in_schema=False)
    app.add_api_route("/redoc", redoc, methods=["GET"], include_in_schema=False)

"""The FastAPI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from contribnet import __version__, metrics
from contribnet.api.contract import install_contract
from contribnet.api.docs import mount_docs
from contribnet.api.errors import install_error_handlers
from contribnet.api.limits import BodyLimit
from contribnet.api.observability import RequestContext, count_driver_retries
from contribnet.api.routers import (
    audit,
    credit,
    disputes,
    events,
    flags,
    graph,
    health,
    journeys,
    keys,
    leads,
    me,
    models,
    points,
    policies,
    profiles,
    queries,
    reports,
    settlements,
)
from contribnet.api.security_headers import SecurityHeaders
from contribnet.services.keys import seal_keys
from contribnet.services.points import ensure_default_points_policy
from contribnet.services.policies import ensure_default_policy
from contribnet.settings import Settings
from contribnet.store import open_store
from contribnet.store.base import Store
from contribnet.web import mount_dashboard


def create_app(store: Store | None = None, settings: Settings | None = None) -> FastAPI:
    """The API over ``store`` (or the one ``settings.store_url`` names, opened at start-up)."""
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = store is None
        app.state.store = store or open_store(settings.store_url)
        app.state.settings = settings
        ensure_default_policy(app.state.store)  # policies/default.toml, if the store has none
        ensure_default_points_policy(app.state.store)  # policies/points/default.toml, likewise
        seal_keys(app.state.store, settings.pepper())  # keys from before the pepper
        try:
            yield
        finally:
            if owned:
                app.state.store.close()

    app = FastAPI(
        title="contribnet",
        version=__version__,
        description=(
            "Records every contribution along a car buyer's journey and turns it into a fair, "
            "exact and explainable credit split for each deal. Money is integer fen."
        ),
        lifespan=lifespan,
        docs_url=None,  # /docs and /redoc: api/docs.py, from vendored assets (no CDN)
        redoc_url=None,
    )
    install_contract(app)  # before the routers are included, so that every route gets it
    install_error_handlers(app)
    app.include_router(events.router)
    # before journeys: its /v1/staff/{id} would take /v1/staff/at-risk
    app.include_router(profiles.router)
    app.include_router(journeys.router)
    app.include_router(graph.router)
    app.include_router(credit.router)
    app.include_router(policies.router)
    app.include_router(reports.router)
    app.include_router(me.router)  # /v1/me, a staff member's own view
    app.include_router(queries.router)
    app.include_router(models.router)
    app.include_router(settlements.router)  # payroll: GET /v1/settlements
    app.include_router(points.router)  # activity points: ledgers, redemptions, points policies
    app.include_router(flags.router)  # fraud signals: flags and their reviews
    app.include_router(audit.router)  # the audit trail, read-only
    app.include_router(disputes.router)  # disputes on statement lines and their resolutions
    app.include_router(leads.router)  # lead pools: reclaim, holding history
    app.include_router(keys.router)
    mount_dashboard(app)
    mount_docs(app)
    # Operations: /health, /ready, /metrics; a request id, access log line and metrics per request.
    # CONTRIBNET_OBSERVABILITY=off drops the access log, the metrics and /metrics (to measure
    # their cost: benchmarks/soak.py); the request id stays, as error bodies promise it.
    app.include_router(health.router)
    if settings.observability:
        app.include_router(health.metrics_router)
    metrics.enable(settings.observability)
    app.add_middleware(SecurityHeaders)  # CSP, nosniff, no framing: api/security_headers.py
    app.add_middleware(BodyLimit)  # 413 past the body limit, unread: api/limits.py
    app.add_middleware(RequestContext, observe=settings.observability)
    count_driver_retries()

    return app

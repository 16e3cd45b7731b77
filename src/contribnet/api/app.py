"""The FastAPI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from contribnet import __version__
from contribnet.api.errors import install_error_handlers
from contribnet.api.routers import (
    credit,
    events,
    graph,
    journeys,
    models,
    policies,
    queries,
    reports,
)
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
    )
    install_error_handlers(app)
    app.include_router(events.router)
    app.include_router(journeys.router)
    app.include_router(graph.router)
    app.include_router(credit.router)
    app.include_router(policies.router)
    app.include_router(reports.router)
    app.include_router(queries.router)
    app.include_router(models.router)
    mount_dashboard(app)

    @app.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app

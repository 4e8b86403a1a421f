from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from vigie_shared.db import open_store
from vigie_shared.events.v1 import TOPICS
from vigie_shared.metrics import ServiceMetrics
from vigie_shared.service import bus_runtime, new_app, start_consumer

from vigie_responder.adapters.store import DraftStore
from vigie_responder.api import router
from vigie_responder.handlers import DraftingHandler
from vigie_responder.settings import ResponderSettings


def create_app(settings: ResponderSettings | None = None) -> FastAPI:
    settings = settings or ResponderSettings.load()
    metrics = ServiceMetrics("responder")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with (
            open_store(DraftStore, settings.database_url) as store,
            bus_runtime(settings, metrics) as runtime,
        ):
            app.state.engine = store.engine
            app.state.drafts = store
            handler = DraftingHandler(store, runtime.publisher)
            start_consumer(
                runtime,
                settings,
                metrics,
                topics=[TOPICS["moderation.decided"]],
                handler=handler.handle,
            )
            app.state.runtime = runtime
            yield

    app = new_app(
        settings,
        title="Vigie responder",
        description="Reply drafts that a moderator approves, edits or rejects.",
        metrics=metrics,
        lifespan=lifespan,
        database=True,
    )
    app.include_router(router)
    return app

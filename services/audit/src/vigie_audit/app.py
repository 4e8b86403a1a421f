from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from vigie_shared.db import open_store
from vigie_shared.events.v1 import ALL_TOPICS
from vigie_shared.metrics import ServiceMetrics
from vigie_shared.service import bus_runtime, new_app, start_consumer

from vigie_audit.adapters.store import AuditStore
from vigie_audit.api import router
from vigie_audit.handlers import AuditHandler
from vigie_audit.metrics import AuditMetrics
from vigie_audit.settings import AuditSettings


def create_app(settings: AuditSettings | None = None) -> FastAPI:
    settings = settings or AuditSettings.load()
    metrics = ServiceMetrics("audit")
    audit_metrics = AuditMetrics(metrics)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with (
            open_store(AuditStore, settings.database_url) as store,
            bus_runtime(settings, metrics) as runtime,
        ):
            app.state.engine = store.engine
            app.state.audit = store
            runtime.add_probe("chain", audit_metrics.chain_probe(store))
            handler = AuditHandler(store)
            start_consumer(
                runtime,
                settings,
                metrics,
                topics=list(ALL_TOPICS),
                handler=handler.handle,
                batch_handler=handler.handle_batch,
            )
            app.state.runtime = runtime
            yield

    app = new_app(
        settings,
        title="Vigie audit",
        description="Tamper-evident log of every decision, bias reports and privacy requests.",
        metrics=metrics,
        lifespan=lifespan,
        database=True,
    )
    app.state.audit_metrics = audit_metrics
    app.include_router(router)
    return app

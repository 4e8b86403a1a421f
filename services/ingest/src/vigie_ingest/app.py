from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI
from vigie_platforms.inbound.registry import discover
from vigie_shared.db import create_engine
from vigie_shared.metrics import ServiceMetrics
from vigie_shared.service import bus_runtime, new_app

from vigie_ingest.adapters.sql_state import SqlState
from vigie_ingest.adapters.sqlite_state import SqliteState
from vigie_ingest.api import Webhooks, install_openapi, webhook_router
from vigie_ingest.domain.ports import IdempotencyStore, StoreUnavailable
from vigie_ingest.metrics import IngestMetrics
from vigie_ingest.pipeline import Ingest
from vigie_ingest.settings import IngestSettings
from vigie_ingest.youtube import YouTubePoller

log = structlog.get_logger("vigie.ingest")


@asynccontextmanager
async def open_state(settings: IngestSettings) -> AsyncIterator[SqliteState | SqlState]:
    """The idempotency and cursor store: the shared database if there is one, else a local file."""
    if settings.database_url is None:
        local = SqliteState(settings.state_path())
        await local.start()
        try:
            yield local
        finally:
            await local.close()
        return
    engine = create_engine(settings.database_url)
    try:
        shared = SqlState(engine, timeout=settings.state_timeout_seconds)
        await shared.start()
        try:
            yield shared
        finally:
            await shared.close()
    finally:
        await engine.dispose()


async def _purge_forever(store: IdempotencyStore, every: float) -> None:
    while True:
        try:
            removed = await store.purge(time.time())
            if removed:
                log.info("idempotency_purged", removed=removed)
        except StoreUnavailable as error:
            log.warning("idempotency_purge_failed", error=str(error))
        await asyncio.sleep(every)


def create_app(settings: IngestSettings | None = None) -> FastAPI:
    settings = settings or IngestSettings.load()
    metrics = ServiceMetrics("ingest")
    ingest_metrics = IngestMetrics(metrics)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_state(settings) as state, bus_runtime(settings, metrics) as runtime:
            app.state.runtime = runtime
            key = settings.pseudonym_key
            ingest = Ingest(
                publisher=runtime.publisher,
                store=state,
                metrics=ingest_metrics,
                pseudonym_key=key.get_secret_value().encode() if key else None,
                ttl_seconds=settings.idempotency_ttl_seconds,
                namespace=settings.bus_topic_prefix,
                display_name_communities=settings.display_name_communities,
            )
            app.state.ingest = ingest
            tasks = [asyncio.create_task(_purge_forever(state, 3600.0), name="idempotency-purge")]
            poller = YouTubePoller.from_settings(settings, ingest, state)
            if poller is not None:
                tasks.append(asyncio.create_task(poller.run(), name="youtube-poller"))
            try:
                yield
            finally:
                for task in tasks:
                    task.cancel()
                for task in tasks:
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                if poller is not None:
                    await poller.close()
                app.state.ingest = None

    async def bus_ready() -> str | None:
        runtime = getattr(app.state, "runtime", None)
        return "starting" if runtime is None else await runtime.bus.check()

    app = new_app(
        settings,
        title="Vigie ingest",
        description="Platform webhooks in, verified and normalised `comment.received` events out.",
        metrics=metrics,
        checks={"bus": bus_ready},
        lifespan=lifespan,
    )
    app.state.ingest_metrics = ingest_metrics
    registry = discover()
    app.state.webhooks = Webhooks.configure(settings, registry)
    app.include_router(webhook_router(registry))
    install_openapi(app, registry)
    return app

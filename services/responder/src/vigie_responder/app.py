from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI
from vigie_platforms.outbound import OutboundClients
from vigie_shared.db import open_store
from vigie_shared.events.v1 import TOPICS
from vigie_shared.metrics import ServiceMetrics
from vigie_shared.service import bus_runtime, new_app, start_consumer, start_outbox

from vigie_responder.adapters.store import DraftStore
from vigie_responder.api import router
from vigie_responder.dispatcher import Dispatcher, PlatformDirectory
from vigie_responder.domain.delivery import RetryPolicy
from vigie_responder.handlers import DraftingHandler, JobsHandler
from vigie_responder.metrics import ResponderMetrics
from vigie_responder.platforms import open_platforms
from vigie_responder.settings import ResponderSettings


def create_app(
    settings: ResponderSettings | None = None,
    *,
    platforms: PlatformDirectory | OutboundClients | None = None,
) -> FastAPI:
    """`platforms` replaces the clients built from settings (tests hand in clients wired to fakes)."""
    settings = settings or ResponderSettings.load()
    metrics = ServiceMetrics("responder")
    responder_metrics = ResponderMetrics(metrics)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with (
            open_store(DraftStore, settings.database_url) as store,
            open_platforms(settings, given=platforms) as directory,
            bus_runtime(settings, metrics) as runtime,
        ):
            app.state.engine = store.engine
            app.state.drafts = store
            app.state.platforms = directory
            start_outbox(runtime, store, metrics)
            runtime.add_probe("drafts", responder_metrics.drafts_probe(store))
            dispatcher = Dispatcher(
                store,
                directory,
                runtime.publisher,
                metrics=metrics,
                lease=timedelta(seconds=settings.dispatch_lease_seconds),
                poll_interval=settings.dispatch_poll_seconds,
                concurrency=settings.dispatch_concurrency,
                retry=RetryPolicy(
                    base_seconds=settings.dispatch_retry_base_seconds,
                    cap_seconds=settings.dispatch_retry_cap_seconds,
                    give_up_after=timedelta(hours=settings.dispatch_give_up_hours),
                ),
            )
            app.state.dispatcher = dispatcher
            drafting = DraftingHandler(store, runtime.publisher)
            jobs = JobsHandler(store, on_jobs=dispatcher.notify)
            start_consumer(
                runtime,
                settings,
                metrics,
                topics=[TOPICS["moderation.decided"]],
                handler=drafting.handle,
            )
            start_consumer(
                runtime,
                settings,
                metrics,
                topics=[TOPICS["platform.action"], TOPICS["reply.reviewed"]],
                handler=jobs.handle,
                batch_handler=jobs.handle_batch,
                group_suffix="jobs",
            )
            app.state.runtime = runtime
            dispatcher.start()
            try:
                yield
            finally:
                await dispatcher.stop()

    async def dispatcher_ready() -> str | None:
        dispatcher: Dispatcher | None = getattr(app.state, "dispatcher", None)
        return "starting" if dispatcher is None else await dispatcher.check()

    app = new_app(
        settings,
        title="Vigie responder",
        description="Reply drafts that a moderator approves, edits or rejects, and everything Vigie"
        " does back on a platform: posting approved replies, hiding and deleting comments.",
        metrics=metrics,
        lifespan=lifespan,
        database=True,
        checks={"dispatcher": dispatcher_ready},
    )
    app.include_router(router)
    return app

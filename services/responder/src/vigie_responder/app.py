from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from functools import partial

import httpx
from fastapi import FastAPI
from vigie_encoder import DIMENSION, get_encoder
from vigie_platforms.outbound import OutboundClients
from vigie_shared.db import open_store
from vigie_shared.events.v1 import TOPICS, Platform
from vigie_shared.metrics import ServiceMetrics
from vigie_shared.privacy import AccessRecorder, start_erasure_consumer
from vigie_shared.retention import RetentionJob
from vigie_shared.service import bus_runtime, new_app, start_consumer, start_outbox

from vigie_responder.adapters.intent import IntentModel, load_centroids
from vigie_responder.adapters.knowledge import KnowledgeStore
from vigie_responder.adapters.llm import ChatRewriter
from vigie_responder.adapters.store import DraftStore
from vigie_responder.api import router
from vigie_responder.api_kb import router as kb_router
from vigie_responder.dispatcher import Dispatcher, PlatformDirectory
from vigie_responder.domain.delivery import RetryPolicy
from vigie_responder.drafter import Drafter, load_retrieval_params
from vigie_responder.handlers import DraftingHandler, JobsHandler
from vigie_responder.metrics import ResponderMetrics
from vigie_responder.platforms import open_platforms
from vigie_responder.privacy import erase_subject, purge_expired
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
            httpx.AsyncClient() as http,
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
            drafter = await build_drafter(settings, store, directory, http)
            app.state.drafter = drafter
            app.state.knowledge = drafter.knowledge
            drafting = DraftingHandler(
                store, runtime.publisher, drafter, redaction_key=settings.redaction_key_bytes()
            )
            jobs = JobsHandler(store, on_jobs=dispatcher.notify)
            start_consumer(
                runtime,
                settings,
                metrics,
                topics=[TOPICS["moderation.decided"]],
                handler=drafting.handle,
                batch_handler=drafting.handle_batch,
                max_records=32,
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
            app.state.access = AccessRecorder(
                runtime.bus, service="responder", source=runtime.publisher.source
            )
            start_erasure_consumer(
                runtime,
                service="responder",
                group=settings.group,
                erase=partial(erase_subject, store.engine),
                metrics=metrics,
            )
            retention = RetentionJob(
                "responder",
                partial(purge_expired, store.engine),
                settings.retention_days,
                interval=settings.retention_interval_seconds,
            )
            app.state.runtime = runtime
            dispatcher.start()
            retention.start()
            try:
                yield
            finally:
                await retention.stop()
                await dispatcher.stop()

    async def models_ready() -> str | None:
        return None if getattr(app.state, "drafter", None) is not None else "models not loaded"

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
        checks={"dispatcher": dispatcher_ready, "models": models_ready},
    )
    app.include_router(router)
    app.include_router(kb_router)
    return app


async def build_drafter(
    settings: ResponderSettings, store: DraftStore, directory: PlatformDirectory, http: httpx.AsyncClient
) -> Drafter:
    """The encoder (one per process, shared with anything else here that embeds), the intent head,
    the knowledge store and, when configured, the LLM."""
    encoder = await asyncio.to_thread(get_encoder)
    knowledge = KnowledgeStore(
        store.sessions, encoder.embed, encoder.version, DIMENSION, centroids=load_centroids()
    )
    rewriter = None
    if settings.llm_url:
        rewriter = ChatRewriter(
            http,
            url=settings.llm_url,
            model=settings.llm_model,
            api_key=settings.llm_api_key,
            timeout=settings.llm_timeout_seconds,
        )

    def reply_limit(platform: Platform, community: str) -> int | None:
        client = directory.client(platform)
        return None if client is None else client.max_reply_length(directory.credentials(platform, community))

    return Drafter(
        knowledge,
        IntentModel.load(),
        load_retrieval_params(),
        encoder_version=encoder.version,
        reply_limit=reply_limit,
        rewriter=rewriter,
    )

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from vigie_shared.db import open_store
from vigie_shared.events.v1 import TOPICS
from vigie_shared.metrics import ServiceMetrics
from vigie_shared.privacy import AccessRecorder, start_erasure_consumer
from vigie_shared.retention import RetentionJob
from vigie_shared.service import bus_runtime, new_app, start_consumer, start_outbox

from vigie_moderator.adapters.policies import SqlPolicies
from vigie_moderator.adapters.store import ReviewStore
from vigie_moderator.api import router
from vigie_moderator.domain.policies import PolicySource
from vigie_moderator.domain.policy import default_policy
from vigie_moderator.domain.scores import Scorer
from vigie_moderator.handlers import ModerationHandler
from vigie_moderator.metrics import ModeratorMetrics
from vigie_moderator.settings import ModeratorSettings


def load_scorer(settings: ModeratorSettings) -> Scorer:
    # The encoder (vigie_encoder, ~110 MB) loads here, in the lifespan, once per process;
    # its intra-op threads default to the process's cores (VIGIE_ENCODER_THREADS).
    from vigie_moderator.adapters.encoder_scorer import EncoderScorer

    return EncoderScorer.load(
        settings.models_dir, intra_op_threads=settings.onnx_threads, cache_size=settings.score_cache_size
    )


def create_app(
    settings: ModeratorSettings | None = None,
    *,
    scorer: Scorer | None = None,
    policies: PolicySource | None = None,
) -> FastAPI:
    settings = settings or ModeratorSettings.load()
    metrics = ServiceMetrics("moderator")
    moderator_metrics = ModeratorMetrics(metrics)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.scorer = scorer or load_scorer(settings)
        async with (
            open_store(ReviewStore, settings.database_url) as reviews,
            bus_runtime(settings, metrics) as runtime,
        ):
            reviews.redaction_key = settings.redaction_key_bytes()
            app.state.engine = reviews.engine
            app.state.reviews = reviews
            start_outbox(runtime, reviews, metrics)
            app.state.access = AccessRecorder(
                runtime.bus, service="moderator", source=runtime.publisher.source
            )
            app.state.policies = policies or SqlPolicies(
                reviews.engine,
                default=default_policy(getattr(app.state.scorer, "suggested_thresholds", None)),
            )
            runtime.add_probe("review_queue", moderator_metrics.queue_probe(reviews))
            handler = ModerationHandler(
                app.state.scorer,
                app.state.policies,
                reviews,
                runtime.publisher,
                moderator_metrics,
                explain_share=settings.explain_budget,
                full_batch=settings.batch_max_records,
            )
            start_consumer(
                runtime,
                settings,
                metrics,
                topics=[TOPICS["comment.received"]],
                handler=handler.handle,
                batch_handler=handler.handle_batch,
                max_records=settings.batch_max_records,
                fetch_timeout=settings.batch_max_wait_seconds,
            )
            start_erasure_consumer(
                runtime,
                service="moderator",
                group=settings.group,
                erase=reviews.erase_subject,
                metrics=metrics,
            )
            retention = RetentionJob(
                "moderator",
                reviews.purge_expired,
                settings.retention_days,
                interval=settings.retention_interval_seconds,
            )
            retention.start()
            app.state.runtime = runtime
            try:
                yield
            finally:
                await retention.stop()

    async def models_ready() -> str | None:
        return None if getattr(app.state, "scorer", None) is not None else "models not loaded"

    app = new_app(
        settings,
        title="Vigie moderator",
        description="Scores comments with ONNX models, applies community policies, keeps the review queue.",
        metrics=metrics,
        lifespan=lifespan,
        database=True,
        checks={"models": models_ready},
    )
    app.include_router(router)
    return app

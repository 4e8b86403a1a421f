from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from vigie_shared.db import open_store
from vigie_shared.events.v1 import ALL_TOPICS
from vigie_shared.metrics import ServiceMetrics
from vigie_shared.service import bus_runtime, new_app, start_consumer

from vigie_audit.adapters.facts import ReportFacts
from vigie_audit.adapters.store import AuditStore
from vigie_audit.api import router
from vigie_audit.domain.identity_lexicon import IdentityLexicon
from vigie_audit.handlers import AuditHandler
from vigie_audit.report_facts import FactExtractor, ReportFactsHandler, start_facts_consumer
from vigie_audit.reports import router as reports_router
from vigie_audit.settings import AuditSettings


def create_app(settings: AuditSettings | None = None) -> FastAPI:
    settings = settings or AuditSettings.load()
    metrics = ServiceMetrics("audit")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with (
            open_store(AuditStore, settings.database_url) as store,
            bus_runtime(settings, metrics) as runtime,
        ):
            app.state.engine = store.engine
            app.state.audit = store
            handler = AuditHandler(store)
            start_consumer(
                runtime,
                settings,
                metrics,
                topics=list(ALL_TOPICS),
                handler=handler.handle,
                batch_handler=handler.handle_batch,
            )
            # Reports: their own consumer group writes text-free facts the report routes read.
            facts = ReportFacts(store.engine)
            app.state.report_facts = facts
            extractor = FactExtractor(
                harm_scores=settings.reports.harm_scores,
                moderator_key=settings.reports.moderator_key.get_secret_value().encode(),
                lexicon=IdentityLexicon(),
            )
            runtime.loops.append(
                start_facts_consumer(
                    runtime.bus, ReportFactsHandler(facts, extractor), group=settings.group, metrics=metrics
                )
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
    app.include_router(router)
    app.include_router(reports_router)
    return app

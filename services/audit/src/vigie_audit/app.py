from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from vigie_shared.db import open_store
from vigie_shared.events.v1 import ALL_TOPICS
from vigie_shared.metrics import ServiceMetrics
from vigie_shared.privacy import AccessRecorder, start_erasure_consumer
from vigie_shared.retention import RetentionJob
from vigie_shared.service import bus_runtime, new_app, start_consumer

from vigie_audit.adapters.checkpoints import Checkpointer, CheckpointFile
from vigie_audit.adapters.store import AuditStore
from vigie_audit.api import privacy_router, router
from vigie_audit.domain.chain import ChainKey
from vigie_audit.domain.checkpoint import CheckpointSigner
from vigie_audit.handlers import AuditHandler
from vigie_audit.metrics import AuditMetrics
from vigie_audit.privacy import AuditEraser
from vigie_audit.report_facts import start_reports
from vigie_audit.reports import report_templates
from vigie_audit.reports import router as reports_router
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
            store.configure(ChainKey(settings.chain_key_bytes()), settings.redaction_key_bytes())
            app.state.engine = store.engine
            app.state.audit = store
            app.state.access = AccessRecorder(runtime.bus, service="audit", source=runtime.publisher.source)
            checkpointer = Checkpointer(
                store,
                CheckpointSigner(settings.checkpoint_seed()),
                CheckpointFile(settings.checkpoint_path()),
                interval=settings.audit_checkpoint_interval_seconds,
            )
            app.state.checkpointer = checkpointer
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
            app.state.report_facts = start_reports(runtime, store.engine, settings, metrics)
            eraser = AuditEraser(store, runtime.bus, app.state.report_facts)
            start_erasure_consumer(
                runtime, service="audit", group=settings.group, erase=eraser.erase, metrics=metrics
            )
            retention = RetentionJob(
                "audit",
                # Through the eraser: the log, the topic facts and the embedded bus age out together.
                eraser.purge,
                settings.retention_days,
                interval=settings.retention_interval_seconds,
            )
            app.state.runtime = runtime
            checkpointer.start()
            retention.start()
            try:
                yield
            finally:
                await retention.stop()
                await checkpointer.stop()

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
    app.include_router(reports_router)
    app.state.report_templates = report_templates()
    app.include_router(privacy_router)
    return app

"""What every service's lifespan does the same way: logging, the bus, the publisher, the tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request

from vigie_shared.auth import TokenStore
from vigie_shared.bus import (
    BatchHandler,
    Bus,
    BusOptions,
    ConsumerLoop,
    EventPublisher,
    MessageHandler,
    open_bus,
)
from vigie_shared.bus.lag import open_lag_reader
from vigie_shared.db import SqlStore
from vigie_shared.http import DeclaredBodyLimit, ReadinessCheck, instrument
from vigie_shared.metrics import ServiceMetrics
from vigie_shared.outbox import OutboxRelay
from vigie_shared.sampling import Probe, Sampler, lag_probe
from vigie_shared.settings import CommonSettings


@dataclass
class BusRuntime:
    bus: Bus
    publisher: EventPublisher
    loops: list[ConsumerLoop] = field(default_factory=list)
    relays: list[OutboxRelay] = field(default_factory=list)
    sampler: Sampler | None = None
    # (group, topics) of every consumer loop, for the lag gauge.
    subscriptions: list[tuple[str, list[str]]] = field(default_factory=list)

    def add_probe(self, name: str, probe: Probe) -> None:
        """A gauge refreshed by the sampler every `metrics_sample_seconds` while the runtime lives."""
        if self.sampler is None:
            raise RuntimeError("the bus runtime has no sampler")
        self.sampler.add(name, probe)

    async def consumers_running(self) -> str | None:
        """None while every consumer keeps up and every outbox relay publishes; else why not."""
        reasons = [reason for loop in self.loops if (reason := loop.degraded())]
        for relay in self.relays:
            reason = await relay.check()
            if reason is not None:
                reasons.append(reason)
        return "; ".join(reasons) if reasons else None


def bus_options(settings: CommonSettings) -> BusOptions:
    return BusOptions(
        partitions=settings.bus_partitions,
        replication_factor=settings.bus_replication_factor,
        min_insync_replicas=settings.bus_min_insync_replicas,
        lease_seconds=settings.bus_lease_seconds,
        retention_days=settings.bus_retention_days,
    )


@asynccontextmanager
async def bus_runtime(settings: CommonSettings, metrics: ServiceMetrics) -> AsyncIterator[BusRuntime]:
    security = settings.kafka_security()
    bus = open_bus(
        settings.bus_url,
        client_id=f"vigie-{settings.service_name}",
        topic_prefix=settings.bus_topic_prefix,
        options=bus_options(settings),
        metrics=metrics,
        security=security,
    )
    await bus.start()
    runtime = BusRuntime(bus, EventPublisher(bus, source=f"vigie/{settings.service_name}", metrics=metrics))
    sampler = runtime.sampler = Sampler(metrics, settings.metrics_sample_seconds)
    lag = open_lag_reader(
        settings.bus_url,
        client_id=f"vigie-{settings.service_name}",
        topic_prefix=settings.bus_topic_prefix,
        client_options=security.client_options(),
    )
    sampler.add("consumer_lag", lag_probe(lag, metrics, lambda: runtime.subscriptions))
    # Probes a service adds later (queue depth...) are picked up from the next round on.
    sampler.start()
    try:
        yield runtime
    finally:
        await sampler.stop()
        await lag.close()
        for loop in runtime.loops:
            await loop.stop()
        for relay in runtime.relays:
            await relay.stop()
        await bus.close()


def new_app(
    settings: CommonSettings,
    *,
    title: str,
    description: str,
    metrics: ServiceMetrics,
    lifespan: object,
    database: bool = False,
    checks: dict[str, ReadinessCheck] | None = None,
) -> FastAPI:
    """The FastAPI app every service starts from: settings, metrics, tokens and the ops routes."""
    app = FastAPI(
        title=title,
        description=description,
        version="0.1.0",
        lifespan=lifespan,  # type: ignore[arg-type]
        # Prometheus metrics and structlog lines are ours; FastAPI's OpenTelemetry hooks would only
        # cost each request a provider lookup (about 80 us per webhook, measured with cProfile).
        telemetry={"tracing": False, "metrics": False, "logs": False},
        max_body_size=settings.http_max_body_bytes,
    )
    app.add_middleware(DeclaredBodyLimit, max_body_size=settings.http_max_body_bytes)
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.tokens = TokenStore.from_file(settings.api_tokens_file)
    all_checks = readiness_checks(app, database=database)
    all_checks.update(checks or {})
    instrument(app, metrics, all_checks)
    document_common_answers(app)
    return app


_PROBLEM = {
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {"detail": {"type": "string"}},
                "required": ["detail"],
            }
        }
    }
}
# What the shared pieces answer on any route they guard: the token check, the body parser and limit.
_TOKEN_ANSWERS = {
    "401": {"description": "missing or unknown bearer token", **_PROBLEM},
    "403": {"description": "the token lacks the role, or the community", **_PROBLEM},
}
_DEPENDENCY_ANSWER = {
    "description": "the database or the event bus is unavailable: retry after Retry-After",
    **_PROBLEM,
}
_BODY_ANSWERS = {
    "400": {"description": "the body could not be read (not UTF-8 JSON)", **_PROBLEM},
    "413": {"description": "body over VIGIE_HTTP_MAX_BODY_BYTES", **_PROBLEM},
}


def document_common_answers(app: FastAPI) -> None:
    """Adds the answers every guarded route can give to its OpenAPI entry, so the document (and the
    clients and fuzzers that trust it) knows of 400, 401, 403, 413 and 503 without each route repeating them.
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        for item in schema.get("paths", {}).values():
            for operation in item.values():
                if not isinstance(operation, dict):
                    continue
                answers = operation.setdefault("responses", {})
                if operation.get("security"):
                    for code, answer in _TOKEN_ANSWERS.items():
                        answers.setdefault(code, answer)
                    answers.setdefault("503", _DEPENDENCY_ANSWER)
                if "requestBody" in operation:
                    for code, answer in _BODY_ANSWERS.items():
                        answers.setdefault(code, answer)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def serve(create_app: Callable[[Any], FastAPI], settings: CommonSettings) -> None:
    """Console entry point of a service: logging first, then uvicorn on the configured port."""
    import uvicorn

    from vigie_shared.logging import configure_logging

    configure_logging(settings.log_level, settings.log_json)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)


def get_publisher(request: Request) -> EventPublisher:
    runtime: BusRuntime = request.app.state.runtime
    return runtime.publisher


PublisherDep = Annotated[EventPublisher, Depends(get_publisher)]


def start_consumer(
    runtime: BusRuntime,
    settings: CommonSettings,
    metrics: ServiceMetrics,
    *,
    topics: list[str],
    handler: MessageHandler,
    batch_handler: BatchHandler | None = None,
    max_records: int = 64,
    fetch_timeout: float = 0.2,
    group_suffix: str | None = None,
) -> ConsumerLoop:
    """Starts a consumer loop; a second loop in one service needs its own `group_suffix`."""
    loop = ConsumerLoop(
        runtime.bus,
        group=settings.group if group_suffix is None else f"{settings.group}-{group_suffix}",
        topics=topics,
        handler=handler,
        batch_handler=batch_handler,
        metrics=metrics,
        max_records=max_records,
        fetch_timeout=fetch_timeout,
    )
    runtime.loops.append(loop)
    runtime.subscriptions.append((loop.group, list(topics)))
    loop.start()
    return loop


def start_outbox(runtime: BusRuntime, store: SqlStore, metrics: ServiceMetrics) -> OutboxRelay:
    """The relay that publishes what `store` stages; stopped with the runtime, after the consumers."""
    if store.outbox is None:
        raise TypeError(f"{type(store).__name__} has no outbox table")
    relay = OutboxRelay(store.sessions, store.outbox, runtime.bus, metrics=metrics)
    store.on_staged = relay.notify
    runtime.relays.append(relay)
    relay.start()
    return relay


def readiness_checks(app: FastAPI, *, database: bool) -> dict[str, ReadinessCheck]:
    """Bus and consumers, plus the database when the service keeps one (app.state.engine)."""

    async def bus() -> str | None:
        runtime: BusRuntime | None = getattr(app.state, "runtime", None)
        if runtime is None:
            return "starting"
        return await runtime.bus.check()

    async def consumers() -> str | None:
        runtime: BusRuntime | None = getattr(app.state, "runtime", None)
        return None if runtime is None else await runtime.consumers_running()

    async def store() -> str | None:
        from vigie_shared.db import check_database

        engine = getattr(app.state, "engine", None)
        return "starting" if engine is None else await check_database(engine)

    checks: dict[str, ReadinessCheck] = {"bus": bus, "consumers": consumers}
    if database:
        checks["store"] = store
    return checks

"""What every service's lifespan does the same way: logging, the bus, the publisher, the tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from fastapi import FastAPI

from vigie_shared.auth import TokenStore
from vigie_shared.bus import Bus, ConsumerLoop, EventPublisher, open_bus
from vigie_shared.http import ReadinessCheck, instrument
from vigie_shared.metrics import ServiceMetrics
from vigie_shared.settings import CommonSettings


@dataclass
class BusRuntime:
    bus: Bus
    publisher: EventPublisher
    loops: list[ConsumerLoop] = field(default_factory=list)

    async def consumers_running(self) -> str | None:
        stopped = [loop.group for loop in self.loops if not loop.running]
        if stopped:
            return f"consumer not running: {', '.join(stopped)}"
        return None


@asynccontextmanager
async def bus_runtime(settings: CommonSettings, metrics: ServiceMetrics) -> AsyncIterator[BusRuntime]:
    bus = open_bus(
        settings.bus_url, client_id=f"vigie-{settings.service_name}", topic_prefix=settings.bus_topic_prefix
    )
    await bus.start()
    runtime = BusRuntime(bus, EventPublisher(bus, source=f"vigie/{settings.service_name}", metrics=metrics))
    try:
        yield runtime
    finally:
        for loop in runtime.loops:
            await loop.stop()
        await bus.close()


def new_app(
    settings: CommonSettings,
    *,
    title: str,
    description: str,
    metrics: ServiceMetrics,
    checks: dict[str, ReadinessCheck],
    lifespan: object,
) -> FastAPI:
    app = FastAPI(title=title, description=description, version="0.1.0", lifespan=lifespan)  # type: ignore[arg-type]
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.tokens = TokenStore.from_file(settings.api_tokens_file)
    instrument(app, metrics, checks)
    return app

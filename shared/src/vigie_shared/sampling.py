"""Gauges that describe stored state (queue depth, oldest item, consumer lag), refreshed on a timer.

Counting rows or asking the broker for offsets costs a query; doing it on every scrape would let a
scraper's rate set the database's load, and a slow query would stall /metrics. A sampler refreshes
them every few seconds instead, each probe on its own, so one failing probe leaves the others (and
its own last figures) in place.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence

import structlog

from vigie_shared.bus.lag import LagReader
from vigie_shared.metrics import ServiceMetrics

log = structlog.get_logger("vigie.sampling")

Probe = Callable[[], Awaitable[None]]


class Sampler:
    def __init__(self, metrics: ServiceMetrics, every: float) -> None:
        self._metrics = metrics
        self._every = every
        self._probes: dict[str, Probe] = {}
        self._task: asyncio.Task[None] | None = None

    def add(self, name: str, probe: Probe) -> None:
        if name in self._probes:
            raise ValueError(f"probe {name!r} added twice")
        self._probes[name] = probe

    async def sample(self) -> None:
        """Runs every probe once; a probe that fails or overruns is counted and logged, not raised."""
        for name, probe in list(self._probes.items()):
            try:
                await asyncio.wait_for(probe(), timeout=max(1.0, self._every))
            except Exception as error:
                self._metrics.sample_failures.labels(probe=name).inc()
                log.warning("metrics_probe_failed", probe=name, error=type(error).__name__)

    async def _run(self) -> None:
        while True:
            await self.sample()
            await asyncio.sleep(self._every)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="metrics-sampler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


def lag_probe(
    reader: LagReader,
    metrics: ServiceMetrics,
    subscriptions: Callable[[], Sequence[tuple[str, Sequence[str]]]],
) -> Probe:
    """Consumer lag of each (group, topics) this process consumes, per topic and partition."""

    async def probe() -> None:
        rows = []
        for group, topics in subscriptions():
            rows += await reader.lag(group, topics)
        # Replaced whole, without an await in between: a scrape sees the old set or the new one.
        metrics.consumer_lag.clear()
        for row in rows:
            metrics.consumer_lag.labels(group=row.group, topic=row.topic, partition=str(row.partition)).set(
                row.lag
            )

    return probe

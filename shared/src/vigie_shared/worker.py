"""A background loop that works in rounds, wakes early when told, and waits out its own failures.

The outbox relay and the responder's dispatcher are both this: do a round of work from the database,
sleep until the next poll unless `notify()` says there is more, and when a round fails (the database
or the bus is down) back off with jitter, say why on `/readyz`, and try again. Nothing is lost while
it waits: the work lives in rows, not in the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import random

import structlog

log = structlog.get_logger(__name__)


class BackgroundWorker:
    """Subclasses implement `work_round()`, returning True when another round should follow at once."""

    name = "worker"

    def __init__(
        self,
        *,
        poll_interval: float,
        base_backoff: float = 0.2,
        max_backoff: float = 30.0,
        stop_timeout: float = 10.0,
        rng: random.Random | None = None,
    ) -> None:
        self._poll_interval = poll_interval
        self._base_backoff = base_backoff
        self._max_backoff = max_backoff
        self._stop_timeout = stop_timeout
        self._rng = rng or random.Random()
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.last_error: str | None = None

    async def work_round(self) -> bool:
        raise NotImplementedError

    async def after_round(self, *, failed: bool) -> None:
        """Hook run after every round, failed or not (metrics that matter most during an outage)."""

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    def notify(self) -> None:
        """There is work now: start the next round rather than wait for the poll."""
        self._wake.set()

    async def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=self._stop_timeout)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            self._task = None

    async def check(self) -> str | None:
        """For /readyz: None while rounds succeed, else what keeps failing."""
        return None if self.last_error is None else f"{self.name} failing: {self.last_error}"

    async def _run(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                more = await self.work_round()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                failures += 1
                self.last_error = type(error).__name__
                await self.after_round(failed=True)
                delay = min(self._max_backoff, self._base_backoff * 2 ** min(failures, 10))
                delay *= self._rng.uniform(0.5, 1.0)
                log.warning(
                    "worker_round_failed",
                    worker=self.name,
                    error=type(error).__name__,
                    retry_in=round(delay, 2),
                )
                await self._sleep(delay)
                continue
            failures = 0
            self.last_error = None
            await self.after_round(failed=False)
            if not more:
                await self._sleep(self._poll_interval)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        self._wake.clear()

"""Works the platform jobs: claims due ones, calls the platform's client, records what happened.

Every attempt is bracketed by two commits. The claim marks the job in flight before the call; the
outcome, the draft's delivery and the events that announce it are recorded together after. A worker
killed between the platform's answer and that record leaves the job in flight: whoever claims it next
tells the client the last attempt was ambiguous, and the client uses the platform's idempotency key
or looks for what it already created before posting again.
"""

from __future__ import annotations

import asyncio
import random
import socket
import time
import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from datetime import time as dt_time
from typing import Protocol
from zoneinfo import ZoneInfo

import structlog
from aiolimiter import AsyncLimiter
from prometheus_client import Counter, Gauge, Histogram
from vigie_platforms.outbound.base import (
    Credentials,
    Failed,
    Limit,
    Operation,
    OutboundClient,
    Outcome,
    RetryAfter,
)
from vigie_shared.bus import EventPublisher
from vigie_shared.events import Envelope, event_id_for
from vigie_shared.events.v1 import (
    Keyed,
    Platform,
    PlatformAction,
    PlatformActionKind,
    PlatformActionStatus,
    ReplyFailed,
    ReplyPublished,
)
from vigie_shared.metrics import ServiceMetrics
from vigie_shared.privacy import ERASED_TEXT
from vigie_shared.worker import BackgroundWorker

from vigie_responder.adapters.store import (
    ClaimedJob,
    DraftStatus,
    DraftStore,
    JobKind,
    JobRow,
    JobStatus,
    now,
)
from vigie_responder.domain.delivery import (
    ERASED_BEFORE_DELIVERY,
    NO_CREDENTIALS,
    RetryPolicy,
    Step,
    transition,
)

log = structlog.get_logger("vigie.responder.dispatcher")

THROTTLED = "rate limit reached"

OPERATIONS = {
    JobKind.HIDE: Operation.HIDE,
    JobKind.UNHIDE: Operation.UNHIDE,
    JobKind.DELETE: Operation.DELETE,
}
ACTION_KINDS = {JobKind.HIDE: PlatformActionKind.HIDE, JobKind.DELETE: PlatformActionKind.DELETE}


class PlatformDirectory(Protocol):
    """Which client speaks to a platform, and the credentials a community gave for it."""

    def client(self, platform: Platform) -> OutboundClient | None: ...

    def credentials(self, platform: Platform, community: str) -> Credentials | None: ...


class DispatcherMetrics:
    def __init__(self, metrics: ServiceMetrics) -> None:
        prefix = f"vigie_{metrics.service}"
        registry = metrics.registry
        self.calls = Counter(
            f"{prefix}_platform_calls",
            "Platform calls by platform, operation and outcome",
            ["platform", "operation", "outcome"],
            registry=registry,
        )
        self.call_latency = Histogram(
            f"{prefix}_platform_call_duration_seconds",
            "Platform call latency",
            ["platform", "operation"],
            registry=registry,
        )
        self.jobs_finished = Counter(
            f"{prefix}_jobs_finished",
            "Jobs finished by kind and status",
            ["kind", "status"],
            registry=registry,
        )
        self.throttled = Counter(
            f"{prefix}_jobs_throttled",
            "Attempts put off because a documented rate limit was reached",
            ["platform"],
            registry=registry,
        )
        self.jobs_pending = Gauge(f"{prefix}_jobs_pending", "Jobs not finished yet", registry=registry)


class DailyBudgets:
    """Quotas that reset at a zone's midnight (YouTube's 10,000 units a day, Pacific time)."""

    def __init__(self) -> None:
        self._spent: dict[str, tuple[date, float]] = {}

    def _today(self, limit: Limit) -> tuple[date, datetime]:
        assert limit.resets_daily_in is not None
        local = datetime.now(ZoneInfo(limit.resets_daily_in))
        return local.date(), local

    def wait(self, limit: Limit) -> float | None:
        today, local = self._today(limit)
        day, spent = self._spent.get(limit.key, (today, 0.0))
        if day != today or spent + limit.cost <= limit.rate:
            return None
        midnight = datetime.combine(today + timedelta(days=1), dt_time(0), tzinfo=local.tzinfo)
        return max(1.0, (midnight - local).total_seconds())

    def spend(self, limit: Limit) -> None:
        today, _ = self._today(limit)
        day, spent = self._spent.get(limit.key, (today, 0.0))
        self._spent[limit.key] = (today, (spent if day == today else 0.0) + limit.cost)


class Dispatcher(BackgroundWorker):
    name = "dispatcher"

    def __init__(
        self,
        store: DraftStore,
        directory: PlatformDirectory,
        publisher: EventPublisher,
        *,
        metrics: ServiceMetrics | None = None,
        owner: str | None = None,
        lease: timedelta = timedelta(seconds=60),
        poll_interval: float = 0.5,
        concurrency: int = 8,
        retry: RetryPolicy | None = None,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__(poll_interval=poll_interval, base_backoff=0.5, stop_timeout=15.0, rng=rng)
        self._store = store
        self._directory = directory
        self._publisher = publisher
        self.owner = owner or f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"
        self._lease = lease
        self._concurrency = concurrency
        self._retry = retry or RetryPolicy()
        self._limiters: dict[str, AsyncLimiter] = {}
        self._daily = DailyBudgets()
        self._metrics = DispatcherMetrics(metrics) if metrics is not None else None

    async def work_round(self) -> bool:
        # The database is what fails here: jobs are rows, so a failed round loses nothing.
        return await self.run_once() >= self._concurrency

    async def run_once(self) -> int:
        """Claims the due jobs this worker has room for and works them; returns how many."""
        claimed = await self._store.claim_due(self.owner, lease=self._lease, limit=self._concurrency)
        if claimed:
            await asyncio.gather(*(self._work(job) for job in claimed))
        if self._metrics is not None:
            self._metrics.jobs_pending.set(await self._store.count_jobs(JobStatus.PENDING))
        return len(claimed)

    async def _work(self, job: ClaimedJob) -> None:
        row = job.row
        kind = JobKind(row.kind)
        platform = Platform(row.platform)
        with structlog.contextvars.bound_contextvars(
            job_id=row.id, correlation_id=row.correlation_id, platform=platform.value, kind=kind.value
        ):
            outcome = await self._attempt(job, kind, platform)
            await self._record(row, kind, outcome)

    async def _attempt(self, job: ClaimedJob, kind: JobKind, platform: Platform) -> Outcome:
        row = job.row
        if kind is JobKind.REPLY and row.text == ERASED_TEXT:
            return Failed(ERASED_BEFORE_DELIVERY)
        operation = Operation.REPLY if kind is JobKind.REPLY else OPERATIONS[kind]
        credentials = self._directory.credentials(platform, row.community)
        if credentials is None:
            return Failed(NO_CREDENTIALS)
        client = self._directory.client(platform)
        if client is None or not client.supports(operation):
            return Failed(f"unsupported: {platform.value} cannot {operation.value}")
        target = row.comment_ref()
        throttled = await self._throttle(client.limits(target, credentials))
        if throttled is not None:
            if self._metrics is not None:
                self._metrics.throttled.labels(platform=platform.value).inc()
            # Not the platform's answer: the last attempt's ambiguity still stands.
            return RetryAfter(throttled, THROTTLED, ambiguous=job.previously_ambiguous)
        started = time.perf_counter()
        try:
            if kind is JobKind.REPLY:
                outcome = await client.reply(
                    target,
                    row.text or "",
                    credentials=credentials,
                    idempotency_key=row.id,
                    previously_ambiguous=job.previously_ambiguous,
                )
            else:
                outcome = await client.moderate(
                    operation,
                    target,
                    credentials=credentials,
                    idempotency_key=row.id,
                    previously_ambiguous=job.previously_ambiguous,
                )
        except Exception as error:
            # A client bug or an unclassified transport error: the request may have gone out.
            log.warning("platform_call_raised", error=type(error).__name__)
            outcome = RetryAfter(5.0, f"client error: {type(error).__name__}", ambiguous=True)
        if self._metrics is not None:
            self._metrics.call_latency.labels(platform=platform.value, operation=operation.value).observe(
                time.perf_counter() - started
            )
            self._metrics.calls.labels(
                platform=platform.value, operation=operation.value, outcome=type(outcome).__name__.lower()
            ).inc()
        return outcome

    async def _throttle(self, limits: Sequence[Limit]) -> float | None:
        """Seconds to wait when a limit has no room; otherwise spends each limit's cost and returns None.

        In-process only: replicas each keep their own count, so a deployment of N responders should
        expect up to N times a platform's rate before the platform's own 429 takes over.
        """
        limiters = []
        for limit in limits:
            if limit.resets_daily_in is not None:
                wait = self._daily.wait(limit)
                if wait is not None:
                    return wait
                continue
            limiter = self._limiters.get(limit.key)
            if limiter is None:
                limiter = self._limiters[limit.key] = AsyncLimiter(limit.rate, limit.period)
            if not limiter.has_capacity(limit.cost):
                return limit.cost * limit.period / limit.rate
            limiters.append((limiter, limit.cost))
        for limiter, cost in limiters:
            # Every limiter said it has room, so this takes a slot without waiting; a job never
            # sits on a lease waiting for a window to open.
            await limiter.acquire(cost)
        for limit in limits:
            if limit.resets_daily_in is not None:
                self._daily.spend(limit)
        return None

    async def _record(self, row: JobRow, kind: JobKind, outcome: Outcome) -> None:
        current = now()
        step = transition(
            outcome,
            attempts=row.attempts,
            created_at=row.created_at,
            now=current,
            policy=self._retry,
            rng=self._rng,
        )
        draft_values: dict[str, object] | None = None
        events: list[Envelope[Keyed]] = []
        if isinstance(outcome, RetryAfter) and outcome.reason == THROTTLED:
            # Our own pacing, not a failure: no backoff growth, and the claim's attempt is given back.
            values: dict[str, object] = {
                "next_attempt_at": current + timedelta(seconds=outcome.seconds * self._rng.uniform(1.0, 1.1)),
                "attempts": max(0, row.attempts - 1),
                "ambiguous": outcome.ambiguous,
            }
        elif step.step is Step.RETRY:
            assert step.next_attempt_at is not None
            values = {
                "next_attempt_at": step.next_attempt_at,
                "last_error": step.reason,
                "ambiguous": step.ambiguous,
            }
            log.info("platform_job_retry", attempts=row.attempts, reason=step.reason)
        else:
            done = step.step is Step.DONE
            values = {
                "status": JobStatus.DONE.value if done else JobStatus.FAILED.value,
                "platform_id": step.platform_id,
                "last_error": step.reason,
                "ambiguous": False,
                "finished_at": current,
            }
            if kind is JobKind.REPLY:
                draft_values = {
                    "status": DraftStatus.PUBLISHED.value if done else DraftStatus.FAILED.value,
                    "platform_reply_id": step.platform_id,
                    "delivery_reason": step.reason,
                    "delivered_at": current,
                }
            events = self._announce(row, kind, done=done, platform_id=step.platform_id, reason=step.reason)
            if self._metrics is not None:
                self._metrics.jobs_finished.labels(kind=kind.value, status=values["status"]).inc()
            log.info(
                "platform_job_finished", status=values["status"], attempts=row.attempts, reason=step.reason
            )
        recorded = await self._store.settle_job(
            row.id, self.owner, values=values, draft_values=draft_values, events=lambda _row: events
        )
        if not recorded:
            log.warning("platform_job_lease_lost", attempts=row.attempts)

    def _announce(
        self, row: JobRow, kind: JobKind, *, done: bool, platform_id: str | None, reason: str | None
    ) -> list[Envelope[Keyed]]:
        ref = row.comment_ref()
        at = now()
        if kind is JobKind.REPLY:
            assert row.draft_id is not None
            if done:
                data: Keyed = ReplyPublished(
                    comment=ref,
                    draft_id=row.draft_id,
                    platform_reply_id=platform_id or "unknown",
                    published_at=at,
                )
                event_id = event_id_for("reply.published", row.draft_id)
            else:
                data = ReplyFailed(
                    comment=ref,
                    draft_id=row.draft_id,
                    error=reason or "failed",
                    retryable=False,
                    failed_at=at,
                )
                event_id = event_id_for("reply.failed", row.draft_id)
        else:
            action_kind = ACTION_KINDS.get(kind)
            if action_kind is None or row.action_id is None:
                return []
            status = PlatformActionStatus.DONE if done else PlatformActionStatus.FAILED
            data = PlatformAction(
                comment=ref,
                action_id=row.action_id,
                kind=action_kind,
                status=status,
                requested_by=row.requested_by or "vigie",
                error=None if done else reason,
                at=at,
            )
            event_id = event_id_for("platform.action", row.action_id, status.value)
        return [self._publisher.envelope(data, correlationid=row.correlation_id, id=event_id)]

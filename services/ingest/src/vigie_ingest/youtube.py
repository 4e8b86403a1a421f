"""The YouTube poller: reads each configured channel's new comment threads and publishes them.

Quota-aware (each page costs a unit; the pace spreads the day's units until the Pacific-time
reset), resumable (the cursor is stored after the comments it covers are on the bus), and safe to
re-read (idempotency keys absorb the overlap at the cursor's edge).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import structlog
from vigie_platforms.inbound.errors import MalformedPayload
from vigie_platforms.inbound.outcome import Item
from vigie_platforms.youtube import inbound as youtube
from vigie_shared.bus import BusUnavailable

from vigie_ingest.adapters.youtube_api import YouTubeApi, YouTubeUnavailable
from vigie_ingest.domain.ports import CursorStore, StoreUnavailable
from vigie_ingest.pipeline import Ingest, NotConfigured
from vigie_ingest.settings import IngestSettings

log = structlog.get_logger("vigie.ingest.youtube")

QUOTA_KEY = "youtube:quota"


class YouTubePoller:
    def __init__(
        self,
        api: YouTubeApi,
        ingest: Ingest,
        cursors: CursorStore,
        channels: list[str],
        *,
        daily_quota: int,
        reserve: int,
        interval: float,
        max_pages: int,
    ) -> None:
        self._api = api
        self._ingest = ingest
        self._cursors = cursors
        self._channels = channels
        self._limit = daily_quota
        self._reserve = reserve
        self._interval = interval
        self._max_pages = max_pages

    @classmethod
    def from_settings(
        cls, settings: IngestSettings, ingest: Ingest, cursors: CursorStore
    ) -> YouTubePoller | None:
        if (
            not settings.youtube_poller
            or settings.youtube_api_key is None
            or not settings.youtube_channel_ids
        ):
            return None
        api = YouTubeApi(
            settings.youtube_api_base_url,
            settings.youtube_api_key.get_secret_value(),
            timeout=settings.youtube_timeout_seconds,
        )
        return cls(
            api,
            ingest,
            cursors,
            list(settings.youtube_channel_ids),
            daily_quota=settings.youtube_daily_quota,
            reserve=settings.youtube_quota_reserve,
            interval=settings.youtube_poll_interval_seconds,
            max_pages=settings.youtube_max_pages_per_poll,
        )

    async def close(self) -> None:
        await self._api.close()

    async def run(self) -> None:
        while True:
            try:
                delay = await self.poll_once()
            except StoreUnavailable as error:
                # The quota record is unreadable: wait a full interval rather than spend blind.
                log.warning("youtube_state_unavailable", error=str(error))
                delay = self._interval
            await asyncio.sleep(delay)

    async def poll_once(self, now: datetime | None = None) -> float:
        """Polls every channel once; returns the seconds to wait before the next poll."""
        now = now or datetime.now(UTC)
        quota = youtube.Quota.loads(await self._cursors.get(QUOTA_KEY), now)
        for channel in self._channels:
            try:
                quota = await self._poll_channel(channel, quota, now)
                outcome = "ok"
            except QuotaSpent:
                quota = quota.exhausted(self._limit)
                outcome = "quota"
            except (YouTubeUnavailable, BusUnavailable, StoreUnavailable, MalformedPayload) as error:
                outcome = type(error).__name__
                log.warning("youtube_poll_failed", channel=channel, error=str(error))
            except NotConfigured as error:
                outcome = "not_configured"
                log.error("youtube_poll_failed", channel=channel, error=str(error))
            self._ingest.metrics.youtube_polls.labels(outcome=outcome).inc()
            await self._cursors.put(QUOTA_KEY, quota.dumps())
            if outcome == "quota":
                break
        return youtube.next_delay(
            quota,
            now,
            limit=self._limit,
            reserve=self._reserve,
            channels=len(self._channels),
            base_interval=self._interval,
        )

    async def _poll_channel(self, channel: str, quota: youtube.Quota, now: datetime) -> youtube.Quota:
        name = f"youtube:cursor:{channel}"
        cursor = youtube.Cursor.loads(await self._cursors.get(name))
        page_token = cursor.page_token
        newest: str | None = None
        collected: list[Item] = []
        reached_known = False
        next_page: str | None = None
        for _ in range(self._max_pages):
            if not youtube.may_spend(
                quota, now, limit=self._limit, reserve=self._reserve, units=youtube.UNITS_PER_PAGE
            ):
                break
            page = await self._api.comment_threads(channel, page_token)
            quota = quota.today(now).spend(youtube.UNITS_PER_PAGE)
            self._ingest.metrics.youtube_quota_units.inc(youtube.UNITS_PER_PAGE)
            if youtube.quota_exceeded(page.status_code, page.body):
                raise QuotaSpent
            if page.status_code != 200:
                raise YouTubeUnavailable(f"commentThreads.list answered {page.status_code}")
            for thread in page.body.get("items") or []:
                published = youtube.thread_published_at(thread)
                if youtube.is_older(published, cursor.seen_until):
                    reached_known = True
                    break
                if newest is None:
                    newest = published
                collected += youtube.thread_items(
                    thread, channel, received_at=now, pseudonymise=self._ingest.pseudonymise
                )
            next_page = page.body.get("nextPageToken") if not reached_known else None
            if reached_known or not next_page:
                break
            page_token = next_page
        # Oldest first, so each video's comments reach the bus in the order they were written.
        collected.sort(key=lambda item: item.comment.created_at)
        result = await self._ingest.publish(collected, "youtube")
        if next_page and not reached_known:
            updated = cursor.paused(next_page, newest)
        else:
            updated = cursor.finished(newest)
        # Stored only now: everything up to this cursor is on the bus.
        await self._cursors.put(name, updated.dumps())
        log.info(
            "youtube_polled",
            channel=channel,
            published=result.published,
            duplicates=result.duplicates,
            resumable=updated.page_token is not None,
        )
        return quota


class QuotaSpent(Exception):
    """YouTube said the day's quota is spent."""

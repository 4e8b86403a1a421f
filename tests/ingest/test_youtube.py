"""The YouTube poller against a local HTTP server that plays commentThreads.list."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from vigie_ingest.adapters.sqlite_state import SqliteState
from vigie_ingest.adapters.youtube_api import YouTubeApi
from vigie_ingest.metrics import IngestMetrics
from vigie_ingest.pipeline import Ingest
from vigie_ingest.youtube import YouTubePoller
from vigie_platforms.youtube import inbound as youtube
from vigie_shared.bus import BusUnavailable, EventPublisher, open_bus
from vigie_shared.metrics import ServiceMetrics

from tests.ingest import signing
from tests.ingest.conftest import comments, make_settings, published
from tests.ingest.fake_youtube import API_KEY, FakeYouTube, thread
from tests.ingest.servers import serve

CHANNEL = "UCchannel000000000000001"
NOW = datetime(2026, 11, 29, 18, 0, tzinfo=UTC)


@pytest.fixture
def fake() -> FakeYouTube:
    return FakeYouTube(page_size=2)


@pytest.fixture
def api_url(fake: FakeYouTube) -> Iterator[str]:
    with serve(fake.app) as base:
        yield f"{base}/youtube/v3"


class Rig:
    def __init__(self, tmp_path: Path, api_url: str) -> None:
        self.settings = make_settings(tmp_path)
        self.api_url = api_url
        self.state = SqliteState(tmp_path / "ingest-state.db")
        self.bus = open_bus(self.settings.bus_url, client_id="yt-test")
        self.metrics = IngestMetrics(ServiceMetrics("ingest"))
        self.ingest = Ingest(
            publisher=EventPublisher(self.bus, source="vigie/ingest"),
            store=self.state,
            metrics=self.metrics,
            pseudonym_key=signing.PSEUDONYM_KEY.encode(),
            ttl_seconds=3600,
        )

    def poller(self, max_pages: int = 5, quota: int = 10_000) -> YouTubePoller:
        api = YouTubeApi(self.api_url, API_KEY, timeout=5)
        return YouTubePoller(
            api,
            self.ingest,
            self.state,
            [CHANNEL],
            daily_quota=quota,
            reserve=0,
            interval=60,
            max_pages=max_pages,
        )


@pytest.fixture
async def rig(tmp_path: Path, api_url: str) -> AsyncIterator[Rig]:
    rig = Rig(tmp_path, api_url)
    await rig.state.start()
    await rig.bus.start()
    yield rig
    await rig.bus.close()
    await rig.state.close()


def seed(fake: FakeYouTube, count: int, start: int = 0, replies: int = 0) -> None:
    for n in range(start, start + count):
        fake.add(CHANNEL, thread(CHANNEL, "dQw4w9WgXcQ", n, f"2026-11-29T10:{n:02d}:00Z", replies=replies))


async def test_first_poll_reads_everything_oldest_first_then_only_new(rig: Rig, fake: FakeYouTube) -> None:
    seed(fake, 3, replies=1)
    poller = rig.poller()
    try:
        await poller.poll_once(NOW)
        got = comments(await published(rig.settings))
        assert [c.text for c in got] == [
            "comment 0",
            "reply 0.0",
            "comment 1",
            "reply 1.0",
            "comment 2",
            "reply 2.0",
        ]
        assert got[1].parent_id == "Ugz0000"
        assert got[0].comment.key() == f"youtube:{CHANNEL}:dQw4w9WgXcQ"
        assert got[0].permalink == "https://www.youtube.com/watch?v=dQw4w9WgXcQ&lc=Ugz0000"
        assert "UCviewer0000" not in got[0].model_dump_json()
        assert len(fake.requests) == 2  # 3 threads, 2 per page

        seed(fake, 1, start=3)
        fake.requests.clear()
        await poller.poll_once(NOW)
        got = comments(await published(rig.settings))
        assert [c.text for c in got][-1] == "comment 3"
        assert len(got) == 7
        # It reads on to the first thread strictly older than the cursor (threads of the cursor's
        # own second are re-read, and their keys absorb them): page two holds it here.
        assert len(fake.requests) == 2
        assert rig.metrics.duplicates.labels(platform="youtube")._value.get() == 2
    finally:
        await poller.close()


async def test_a_page_budget_cut_resumes_after_a_restart(rig: Rig, fake: FakeYouTube) -> None:
    seed(fake, 5)  # three pages of two
    first = rig.poller(max_pages=1)
    await first.poll_once(NOW)
    await first.close()
    assert [c.text for c in comments(await published(rig.settings))] == ["comment 3", "comment 4"]
    cursor = youtube.Cursor.loads(await rig.state.get(f"youtube:cursor:{CHANNEL}"))
    assert cursor.page_token == "2"

    # A new poller (a restarted ingest) on the same state file carries on from page two.
    second = rig.poller(max_pages=1)
    try:
        await second.poll_once(NOW)
        await second.poll_once(NOW)
        texts = [c.text for c in comments(await published(rig.settings))]
        assert sorted(texts) == [f"comment {n}" for n in range(5)]
        cursor = youtube.Cursor.loads(await rig.state.get(f"youtube:cursor:{CHANNEL}"))
        assert cursor == youtube.Cursor(seen_until="2026-11-29T10:04:00Z")
        fake.requests.clear()
        await second.poll_once(NOW)
        assert len(fake.requests) == 1
        assert len(await published(rig.settings)) == 5
    finally:
        await second.close()


async def test_quota_exceeded_waits_for_the_pacific_reset(rig: Rig, fake: FakeYouTube) -> None:
    seed(fake, 1)
    fake.out_of_quota = True
    poller = rig.poller()
    try:
        delay = await poller.poll_once(NOW)
        assert delay == youtube.seconds_until_reset(NOW)
        assert rig.metrics.youtube_polls.labels(outcome="quota")._value.get() == 1
        assert await published(rig.settings) == []
        quota = youtube.Quota.loads(await rig.state.get("youtube:quota"), NOW)
        assert quota.used >= 10_000
        # Spent: the next poll does not even call the API until the reset.
        fake.out_of_quota = False
        fake.requests.clear()
        await poller.poll_once(NOW)
        assert fake.requests == []
    finally:
        await poller.close()


async def test_quota_is_spent_per_page_and_persisted(rig: Rig, fake: FakeYouTube) -> None:
    seed(fake, 5)
    poller = rig.poller(quota=2)
    try:
        await poller.poll_once(NOW)
        assert len(fake.requests) == 2  # the budget allowed two pages, not three
        quota = youtube.Quota.loads(await rig.state.get("youtube:quota"), NOW)
        assert quota.used == 2
    finally:
        await poller.close()


async def test_server_errors_and_bus_outage_leave_the_cursor_alone(rig: Rig, fake: FakeYouTube) -> None:
    seed(fake, 2)
    fake.fail_with = 500
    poller = rig.poller()
    try:
        await poller.poll_once(NOW)
        assert await rig.state.get(f"youtube:cursor:{CHANNEL}") is None
        fake.fail_with = None

        class DownBus:
            async def publish_many(self, *args: Any) -> None:
                raise BusUnavailable("down (test)")

        real = rig.ingest.publisher
        rig.ingest.publisher = EventPublisher(DownBus(), source="vigie/ingest")  # type: ignore[arg-type]
        await poller.poll_once(NOW)
        assert await rig.state.get(f"youtube:cursor:{CHANNEL}") is None
        rig.ingest.publisher = real
        await poller.poll_once(NOW)
        assert len(await published(rig.settings)) == 2
    finally:
        await poller.close()


def test_pace_spreads_the_remaining_quota_until_the_reset() -> None:
    quota = youtube.Quota(youtube.Quota.day_of(NOW), used=0)
    until = youtube.seconds_until_reset(NOW)
    # 10:00 Pacific: 14 h left, 9,500 usable units, 2 channels -> 4,750 polls -> ~10.6 s apart,
    # but never faster than the configured interval.
    assert youtube.next_delay(quota, NOW, limit=10_000, reserve=500, channels=2, base_interval=60) == 60
    slow = youtube.next_delay(quota, NOW, limit=100, reserve=0, channels=2, base_interval=1)
    assert slow == pytest.approx(until / 50)
    spent = youtube.Quota(quota.day, used=100)
    assert youtube.next_delay(spent, NOW, limit=100, reserve=0, channels=1, base_interval=1) == until


def test_quota_day_turns_at_pacific_midnight() -> None:
    before = datetime(2026, 11, 30, 7, 59, tzinfo=UTC)  # 23:59 PST
    after = datetime(2026, 11, 30, 8, 1, tzinfo=UTC)  # 00:01 PST
    quota = youtube.Quota(youtube.Quota.day_of(before), used=9_000)
    assert quota.today(before).used == 9_000
    assert quota.today(after).used == 0
    assert youtube.seconds_until_reset(before) == pytest.approx(60)


async def test_a_replica_with_the_poller_off_builds_no_poller(tmp_path: Path) -> None:
    from vigie_ingest.youtube import YouTubePoller

    from tests.ingest.conftest import make_settings

    on = make_settings(tmp_path, youtube_api_key="k", youtube_channel_ids="UC1")
    off = make_settings(tmp_path, youtube_api_key="k", youtube_channel_ids="UC1", youtube_poller=False)
    ingest, cursors = object(), object()
    poller = YouTubePoller.from_settings(on, ingest, cursors)  # type: ignore[arg-type]
    assert poller is not None
    await poller.close()
    assert YouTubePoller.from_settings(off, ingest, cursors) is None  # type: ignore[arg-type]

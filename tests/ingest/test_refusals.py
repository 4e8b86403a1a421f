"""Bad input gets a clear answer, is counted by platform and reason, and publishes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs
from vigie_shared.bus import BusUnavailable, EventPublisher
from vigie_shared.bus.port import OutgoingRecord

from tests.ingest import signing
from tests.ingest.conftest import Running, make_settings, published
from tests.ingest.test_meta import PAGE, feed_change, page_delivery

SIGNERS = {
    "meta": lambda p: signing.meta(p),
    "slack": lambda p: signing.slack(p),
    "twitch": lambda p: signing.twitch(p),
    "telegram": lambda p: signing.telegram(p),
    "discord": lambda p: signing.discord(p),
    "mastodon": lambda p: signing.mastodon(p),
    "generic": lambda p: signing.generic(p),
}


@pytest.mark.parametrize("platform", sorted(SIGNERS))
async def test_wrong_content_type_is_415(ingest: Running, platform: str) -> None:
    body, headers = SIGNERS[platform]({"a": 1})
    response = await ingest.client.post(
        f"/webhooks/{platform}", content=body, headers={**headers, "content-type": "text/plain"}
    )
    assert response.status_code == 415
    assert (
        ingest.metric(
            "vigie_ingest_webhooks_rejected_total",
            platform=platform,
            reason="content type must be application/json",
        )
        == 1
    )


@pytest.mark.parametrize("platform", sorted(SIGNERS))
async def test_malformed_json_is_400_once_signed(ingest: Running, platform: str) -> None:
    # Signed as the platform would sign them: the signature holds, the JSON does not.
    body, headers = SIGNERS[platform](b'{"update_id": 1,')
    response = await ingest.client.post(f"/webhooks/{platform}", content=body, headers=headers)
    array_body, array_headers = SIGNERS[platform](b"[1, 2]")
    array = await ingest.client.post(f"/webhooks/{platform}", content=array_body, headers=array_headers)
    assert response.status_code == 400
    assert response.json()["detail"] == "malformed JSON"
    assert array.status_code == 400
    assert await published(ingest.settings) == []


@pytest.mark.parametrize("platform", sorted(SIGNERS))
async def test_oversized_body_is_413_without_reading_it_all(ingest: Running, platform: str) -> None:
    limit = ingest.settings.max_body_bytes
    declared = await ingest.client.post(
        f"/webhooks/{platform}", content=b"x" * (limit + 1), headers={"content-type": "application/json"}
    )
    assert declared.status_code == 413

    async def chunks() -> Any:
        # No Content-Length: the reader must stop as soon as the limit is passed.
        for _ in range(100):
            yield b"x" * 8192

    streamed = await ingest.client.post(
        f"/webhooks/{platform}", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413
    assert (
        ingest.metric("vigie_ingest_webhooks_rejected_total", platform=platform, reason="body too large") == 2
    )


async def test_unknown_platform_is_404_with_the_known_ones(ingest: Running) -> None:
    response = await ingest.client.post("/webhooks/myspace", json={"a": 1})
    assert response.status_code == 404
    assert response.json()["detail"] == (
        "unknown platform; known: discord, generic, mastodon, meta, slack, telegram, twitch"
    )
    assert (
        ingest.metric(
            "vigie_ingest_webhooks_rejected_total", platform="unknown", reason=response.json()["detail"]
        )
        == 1
    )


async def test_rejections_are_logged_without_body_or_secret(ingest: Running) -> None:
    body, headers = signing.meta(
        page_delivery(feed_change("add", f"{PAGE}_1_1", "very private words")), secret="wrong-secret"
    )
    with capture_logs() as logs:
        await ingest.client.post("/webhooks/meta", content=body, headers=headers)
    [line] = [entry for entry in logs if entry["event"] == "webhook_rejected"]
    assert line == {
        "event": "webhook_rejected",
        "platform": "meta",
        "reason": "bad signature",
        "status": 401,
        "log_level": "info",
    }
    text = repr(logs)
    for secret in ("very private words", "wrong-secret", signing.META_SECRET, headers["x-hub-signature-256"]):
        assert secret not in text


class FlakyBus:
    """The real embedded bus, made unavailable on demand."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.down = False

    async def publish_many(self, records: Sequence[OutgoingRecord]) -> None:
        if self.down:
            raise BusUnavailable("broker unreachable (test)")
        await self.inner.publish_many(records)


def make_flaky(ingest: Running) -> FlakyBus:
    state = ingest.app.state
    flaky = FlakyBus(state.runtime.bus)
    state.ingest.publisher = EventPublisher(flaky, source="vigie/ingest")  # type: ignore[arg-type]
    return flaky


async def test_bus_down_is_503_with_retry_after_and_the_retry_publishes(ingest: Running) -> None:
    flaky = make_flaky(ingest)
    flaky.down = True
    signed = signing.meta(page_delivery(feed_change("add", f"{PAGE}_1_1")))
    refused = await ingest.post("/webhooks/meta", signed)
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == str(ingest.settings.retry_after_seconds)
    assert await published(ingest.settings) == []
    flaky.down = False
    # The platform retries the same delivery: its key was never recorded, so it is published now.
    retried = await ingest.post("/webhooks/meta", signed)
    assert retried.json()["published"] == 1
    assert len(await published(ingest.settings)) == 1


async def test_a_refused_batch_is_published_whole_on_retry(ingest: Running) -> None:
    flaky = make_flaky(ingest)
    flaky.down = True
    signed = signing.meta(
        page_delivery(feed_change("add", f"{PAGE}_1_1", "a"), feed_change("add", f"{PAGE}_1_2", "b"))
    )
    assert (await ingest.post("/webhooks/meta", signed)).status_code == 503
    flaky.down = False
    retried = await ingest.post("/webhooks/meta", signed)
    assert retried.json() == {"published": 2, "duplicates": 0, "ignored": 0}
    assert [e.data.text for e in await published(ingest.settings)] == ["a", "b"]


async def test_idempotency_keys_survive_a_restart(tmp_path: Path, start: Any) -> None:
    settings = make_settings(tmp_path)
    signed = signing.telegram(
        {
            "update_id": 77,
            "message": {"message_id": 1, "chat": {"id": 5, "type": "private"}, "date": 1, "text": "hi"},
        }
    )
    async with start(settings) as first:
        assert (await first.post("/webhooks/telegram", signed)).json()["published"] == 1
    async with start(settings) as second:
        assert (await second.post("/webhooks/telegram", signed)).json()["duplicates"] == 1
    assert (tmp_path / "ingest-state.db").exists()
    assert len(await published(settings)) == 1


async def test_keys_expire_after_the_ttl(tmp_path: Path, start: Any) -> None:
    settings = make_settings(tmp_path, idempotency_ttl_seconds=1)
    signed = signing.telegram(
        {
            "update_id": 78,
            "message": {"message_id": 1, "chat": {"id": 5, "type": "private"}, "date": 1, "text": "hi"},
        }
    )
    async with start(settings) as ingest:
        await ingest.post("/webhooks/telegram", signed)
        import asyncio

        await asyncio.sleep(1.1)
        assert (await ingest.post("/webhooks/telegram", signed)).json()["published"] == 1

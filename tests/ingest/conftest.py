"""Ingest under test: the real app on the embedded bus in tmp_path, driven over ASGI."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from vigie_ingest.app import create_app
from vigie_ingest.settings import IngestSettings
from vigie_shared.bus import Message, open_bus
from vigie_shared.events import Envelope
from vigie_shared.events.v1 import TOPICS, CommentReceived

from tests.ingest import signing


def make_settings(tmp_path: Path, **overrides: Any) -> IngestSettings:
    values: dict[str, Any] = {
        "environment": "test",
        "bus_url": f"sqlite:///{tmp_path}/bus.db",
        "pseudonym_key": signing.PSEUDONYM_KEY,
        # Rotation: the previous secret stays valid until every sender has the new one.
        "meta_app_secret": f"{signing.META_SECRET},{signing.META_OLD_SECRET}",
        "meta_verify_token": signing.META_VERIFY_TOKEN,
        "slack_signing_secret": signing.SLACK_SECRET,
        "twitch_eventsub_secret": signing.TWITCH_SECRET,
        "telegram_secret_token": signing.TELEGRAM_TOKEN,
        "discord_public_key": signing.DISCORD_PUBLIC_HEX,
        "mastodon_webhook_secret": signing.MASTODON_SECRET,
        "generic_webhook_secret": signing.GENERIC_SECRET,
        "max_body_bytes": 64 * 1024,
        # These tests check display names travel; which communities may send them is tested apart.
        "display_name_communities": ["*"],
    }
    values.update(overrides)
    return IngestSettings(**values)


@pytest.fixture
def settings(tmp_path: Path) -> IngestSettings:
    return make_settings(tmp_path)


@dataclass
class Running:
    app: FastAPI
    client: httpx.AsyncClient
    settings: IngestSettings

    async def post(self, path: str, signed: tuple[bytes, dict[str, str]]) -> httpx.Response:
        body, headers = signed
        return await self.client.post(path, content=body, headers=headers)

    def metric(self, name: str, **labels: str) -> float:
        value = self.app.state.metrics.registry.get_sample_value(name, labels)
        return float(value or 0.0)


@pytest.fixture
def start() -> Callable[[IngestSettings], Any]:
    """Starts an ingest app with the given settings; use as `async with start(settings) as ingest`."""

    @asynccontextmanager
    async def run(settings: IngestSettings) -> AsyncIterator[Running]:
        app = create_app(settings)
        async with LifespanManager(app, startup_timeout=60) as manager:
            transport = httpx.ASGITransport(manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://ingest") as client:
                yield Running(app, client, settings)

    return run


@pytest.fixture
async def ingest(settings: IngestSettings, start: Callable[[IngestSettings], Any]) -> AsyncIterator[Running]:
    async with start(settings) as running:
        yield running


async def published(settings: IngestSettings) -> list[Envelope[Any]]:
    """Every comment.received on the bus file, read by a fresh consumer group."""
    bus = open_bus(settings.bus_url, client_id="test-reader", topic_prefix=settings.bus_topic_prefix)
    await bus.start()
    consumer = bus.consumer("test-reader", [TOPICS["comment.received"]])
    await consumer.start()
    out: list[Message] = []
    try:
        # Ingest answered only after the bus acknowledged, so everything is already there.
        while batch := await consumer.fetch(100, timeout=0.2):
            out += batch
    finally:
        await consumer.stop()
        await bus.close()
    return [Envelope.decode(m.headers, m.value) for m in out]


def comments(envelopes: list[Envelope[Any]]) -> list[CommentReceived]:
    data = [e.data for e in envelopes]
    assert all(isinstance(d, CommentReceived) for d in data)
    return data

"""The fakes on a real port, the clients over real sockets: timeouts as the network makes them."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
import uvicorn
from vigie_platforms.outbound import CredentialStore, Done, OutboundClients, PlatformSettings, RetryAfter
from vigie_shared.events.v1 import Platform

from tests.platforms.outbound.conftest import CASES
from tests.platforms.outbound.fakes import FakePlatforms


@pytest.fixture
async def served() -> AsyncIterator[tuple[FakePlatforms, str]]:
    fakes = FakePlatforms(hang_seconds=1.5)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(fakes.app(), lifespan="off", ws="none", log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    for _ in range(500):  # uvicorn offers no start event to wait on
        if server.started:
            break
        await asyncio.sleep(0.01)
    assert server.started
    try:
        yield fakes, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@pytest.mark.parametrize("platform", [Platform.SLACK, Platform.MASTODON, Platform.TELEGRAM])
async def test_a_real_timeout_is_ambiguous_and_a_retry_does_not_double_post_where_it_can(
    platform: Platform, served: tuple[FakePlatforms, str]
) -> None:
    fakes, origin = served
    case = next(c for c in CASES if c.platform is platform)
    case.setup(fakes)
    clients = OutboundClients.from_settings(
        PlatformSettings(**fakes.settings_values(origin), platform_timeout_seconds=0.5),  # type: ignore[arg-type]
        credentials=CredentialStore.from_data(fakes.credentials_entries(origin=origin)),
    )
    fake = fakes.for_platform(platform)
    credentials = clients.credentials.get(platform, case.ref.community)
    assert credentials is not None
    client = clients[platform]
    try:
        assert isinstance(
            await client.reply(case.ref, "un", credentials=credentials, idempotency_key="a"), Done
        )
        fake.fail_next("timeout", on="reply")
        lost = await client.reply(case.ref, "deux", credentials=credentials, idempotency_key="b")
        assert isinstance(lost, RetryAfter) and lost.ambiguous and lost.reason == "timeout"
        retried = await client.reply(
            case.ref, "deux", credentials=credentials, idempotency_key="b", previously_ambiguous=True
        )
        assert isinstance(retried, Done)
        texts = [p.text for p in fake.posted]
        assert texts == (["un", "deux"] if case.no_second_post else ["un", "deux", "deux"])
    finally:
        await clients.aclose()

"""Approved replies and moderation actions reach each platform's fake exactly once, through failures."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from vigie_platforms.outbound import CredentialStore, OutboundClients
from vigie_responder.app import create_app
from vigie_responder.settings import ResponderSettings
from vigie_shared.bus import open_bus
from vigie_shared.events import Envelope
from vigie_shared.events.v1 import (
    TOPICS,
    Action,
    Author,
    CommentRef,
    ErasureStatus,
    Keyed,
    ModerationDecided,
    Platform,
    PlatformAction,
    PlatformActionKind,
    PlatformActionStatus,
    PrivacyErasure,
)
from vigie_shared.privacy import ERASED_TEXT

from tests.conftest import Tokens
from tests.platforms.outbound.conftest import CASES, Case
from tests.platforms.outbound.fakes import FakePlatforms


@dataclass
class Responder:
    client: httpx.AsyncClient
    bus_url: str
    fakes: FakePlatforms
    tokens: Tokens

    async def publish(self, data: Keyed, correlation: str = "corr-dispatch") -> None:
        bus = open_bus(self.bus_url, client_id="test")
        await bus.start()
        try:
            envelope = Envelope.wrap(data, source="vigie/test", correlationid=correlation)
            await bus.publish(TOPICS[data.event_type], data.key(), envelope.body(), envelope.headers())
        finally:
            await bus.close()

    async def draft_for(self, ref: CommentRef, text: str = "How long does delivery take?") -> dict[str, Any]:
        await self.publish(decided(ref, text))
        for _ in range(200):
            listed = await self.client.get(
                "/v1/drafts", params={"status": "pending"}, headers=Tokens.header(self.tokens.moderator)
            )
            for draft in listed.json():
                if draft["comment_id"] == ref.comment_id and draft["platform"] == ref.platform.value:
                    return dict(draft)
            await asyncio.sleep(0.05)
        raise AssertionError("no draft appeared")

    async def delivered(self, draft_id: str, timeout: float = 20) -> dict[str, Any]:
        for _ in range(int(timeout / 0.05)):
            draft = (
                await self.client.get(f"/v1/drafts/{draft_id}", headers=Tokens.header(self.tokens.moderator))
            ).json()
            if draft["status"] in ("published", "failed"):
                return dict(draft)
            await asyncio.sleep(0.05)
        raise AssertionError(f"draft never delivered: {draft}")


def decided(ref: CommentRef, text: str) -> ModerationDecided:
    return ModerationDecided(
        comment=ref,
        author=Author(pseudonym="psn_dispatch"),
        text=text,
        language="en",
        scores={"toxicity": 0.01},
        action=Action.ALLOW,
        reasons=[],
        policy_version="test",
        model_versions={},
    )


def fast_settings(**values: Any) -> dict[str, Any]:
    return {
        "dispatch_poll_seconds": 0.05,
        "dispatch_retry_base_seconds": 0.05,
        "dispatch_retry_cap_seconds": 0.5,
        **values,
    }


@pytest.fixture
async def responder(tmp_path: Path, tokens: Tokens, database_url: str) -> AsyncIterator[Responder]:
    fakes = FakePlatforms(hang_seconds=2.0)
    bus_url = f"sqlite:///{tmp_path}/bus.db"
    settings = ResponderSettings(
        bus_url=bus_url,
        database_url=database_url,
        api_tokens_file=tokens.path,
        environment="test",
        **fakes.settings_values(),
        **fast_settings(platform_timeout_seconds=0.5),
    )
    clients = OutboundClients.from_settings(
        settings,
        transport=fakes.transport,
        credentials=CredentialStore.from_data(fakes.credentials_entries()),
    )
    app = create_app(settings, platforms=clients)
    try:
        async with (
            LifespanManager(app, startup_timeout=60) as manager,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(manager.app), base_url="http://responder"
            ) as client,
        ):
            yield Responder(client, bus_url, fakes, tokens)
    finally:
        await clients.aclose()


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
async def test_an_approved_edit_reaches_the_platform_once_in_the_comments_thread(
    responder: Responder, case: Case
) -> None:
    case.setup(responder.fakes)
    draft = await responder.draft_for(case.ref)
    words = f"Two to three working days. ({uuid.uuid4().hex[:6]})"
    approved = await responder.client.post(
        f"/v1/drafts/{draft['id']}/approve",
        json={"text": words},
        headers=Tokens.header(responder.tokens.moderator),
    )
    assert approved.status_code == 200, approved.text
    delivered = await responder.delivered(draft["id"])
    fake = responder.fakes.for_platform(case.platform)
    assert [(p.text, p.target, p.thread) for p in fake.posted] == [
        (words, case.reply_target, case.reply_thread)
    ]
    assert delivered["status"] == "published"
    assert delivered["platform_reply_id"] == fake.posted[0].id
    assert delivered["delivery"]["status"] == "published"


async def test_server_errors_and_rate_limits_are_waited_out_and_the_reply_posted_once(
    responder: Responder,
) -> None:
    case = next(c for c in CASES if c.platform is Platform.MASTODON)
    fake = responder.fakes.mastodon
    fake.fail_next(503, 2, on="reply")
    fake.fail_next(429, 1, retry_after=0.3, on="reply")
    draft = await responder.draft_for(case.ref)
    await responder.client.post(
        f"/v1/drafts/{draft['id']}/approve", headers=Tokens.header(responder.tokens.moderator)
    )
    delivered = await responder.delivered(draft["id"])
    assert delivered["status"] == "published"
    assert [p.text for p in fake.posted] == [draft["text"]]
    assert len(fake.calls_to("reply")) >= 4


async def test_a_lost_answer_is_checked_before_posting_again(responder: Responder) -> None:
    case = next(c for c in CASES if c.platform is Platform.FACEBOOK)
    fake = responder.fakes.graph
    fake.fail_next("timeout", 1, on="reply")  # the fake posts, then the answer never arrives
    draft = await responder.draft_for(case.ref)
    await responder.client.post(
        f"/v1/drafts/{draft['id']}/approve", headers=Tokens.header(responder.tokens.moderator)
    )
    delivered = await responder.delivered(draft["id"])
    assert delivered["status"] == "published"
    assert [p.text for p in fake.posted] == [draft["text"]]
    assert delivered["platform_reply_id"] == fake.posted[0].id


async def test_an_expired_token_fails_the_delivery_with_a_reason_and_no_token(responder: Responder) -> None:
    case = next(c for c in CASES if c.platform is Platform.SLACK)
    case.setup(responder.fakes)
    responder.fakes.slack.fail_next("expired_token", 1)
    draft = await responder.draft_for(case.ref)
    await responder.client.post(
        f"/v1/drafts/{draft['id']}/approve", headers=Tokens.header(responder.tokens.moderator)
    )
    delivered = await responder.delivered(draft["id"])
    assert delivered["status"] == "failed"
    assert delivered["delivery"]["reason"]
    assert "xox" not in json.dumps(delivered)
    assert responder.fakes.slack.posted == []


async def test_a_rejected_draft_sends_nothing(responder: Responder) -> None:
    case = next(c for c in CASES if c.platform is Platform.TELEGRAM)
    draft = await responder.draft_for(case.ref)
    rejected = await responder.client.post(
        f"/v1/drafts/{draft['id']}/reject",
        json={"reason": "not our tone"},
        headers=Tokens.header(responder.tokens.moderator),
    )
    assert rejected.status_code == 200
    await asyncio.sleep(0.5)
    assert responder.fakes.telegram.calls == []
    assert (
        await responder.client.get(
            f"/v1/drafts/{draft['id']}", headers=Tokens.header(responder.tokens.moderator)
        )
    ).json()["status"] == "rejected"


async def test_an_edit_too_long_for_the_platform_is_refused_with_the_limit(responder: Responder) -> None:
    case = next(c for c in CASES if c.platform is Platform.TWITCH)
    draft = await responder.draft_for(case.ref)
    assert draft["reply_limit"] == 500  # what the console counts against before sending
    refused = await responder.client.post(
        f"/v1/drafts/{draft['id']}/approve",
        json={"text": "x" * 501},
        headers=Tokens.header(responder.tokens.moderator),
    )
    assert refused.status_code == 422
    assert "500" in refused.json()["detail"]
    still = await responder.client.get(
        f"/v1/drafts/{draft['id']}", headers=Tokens.header(responder.tokens.moderator)
    )
    assert still.json()["status"] == "pending"


async def test_a_hide_request_makes_one_hide_call_and_announces_it_done(responder: Responder) -> None:
    case = next(c for c in CASES if c.platform is Platform.INSTAGRAM)
    action = PlatformAction(
        comment=case.ref,
        action_id=f"act-{uuid.uuid4().hex[:8]}",
        kind=PlatformActionKind.HIDE,
        status=PlatformActionStatus.REQUESTED,
        requested_by="policy:v1",
        at=datetime.now(UTC),
    )
    await responder.publish(action)
    await responder.publish(action)  # redelivered: still one call
    bus = open_bus(responder.bus_url, client_id="reader")
    await bus.start()
    consumer = bus.consumer("reader", [TOPICS["platform.action"]])
    await consumer.start()
    done: list[dict[str, Any]] = []
    for _ in range(100):
        for record in await consumer.fetch(50, 0.1):
            body = json.loads(record.value)
            if body["status"] != "requested":
                done.append(body)
        if done:
            break
    await consumer.stop()
    await bus.close()
    assert [(a.operation, a.target) for a in responder.fakes.graph.actions] == [("hide", case.ref.comment_id)]
    assert [(d["status"], d["action_id"]) for d in done] == [("done", action.action_id)]


async def test_a_community_without_credentials_gets_no_call(responder: Responder) -> None:
    ref = CommentRef(platform=Platform.DISCORD, community="not-configured", thread_id="1", comment_id="2")
    draft = await responder.draft_for(ref)
    await responder.client.post(
        f"/v1/drafts/{draft['id']}/approve", headers=Tokens.header(responder.tokens.moderator)
    )
    delivered = await responder.delivered(draft["id"])
    assert (delivered["status"], delivered["delivery"]["reason"]) == ("failed", "no_credentials")
    assert responder.fakes.discord.calls == []


async def test_a_reply_to_someone_erased_before_it_went_out_is_never_posted(responder: Responder) -> None:
    case = next(c for c in CASES if c.platform is Platform.MASTODON)
    fake = responder.fakes.mastodon
    fake.fail_next(503, 1_000, on="reply")  # the platform is down while the erasure arrives
    draft = await responder.draft_for(case.ref)
    await responder.client.post(
        f"/v1/drafts/{draft['id']}/approve", headers=Tokens.header(responder.tokens.moderator)
    )
    for _ in range(200):
        if fake.calls_to("reply"):
            break
        await asyncio.sleep(0.05)
    assert fake.calls_to("reply"), "the dispatcher never tried"
    await responder.publish(
        PrivacyErasure(
            request_id="erase-dispatch",
            platform=case.ref.platform,
            pseudonym="psn_dispatch",
            status=ErasureStatus.REQUESTED,
            at=datetime.now(UTC),
        )
    )
    for _ in range(200):  # the platform stays down until the erasure has landed, so no race decides it
        seen = await responder.client.get(
            f"/v1/drafts/{draft['id']}", headers=Tokens.header(responder.tokens.moderator)
        )
        if seen.json()["text"] == ERASED_TEXT:
            break
        await asyncio.sleep(0.05)
    fake.clear_faults()
    delivered = await responder.delivered(draft["id"])
    assert delivered["status"] == "failed"
    assert delivered["delivery"]["reason"] == "erased_before_delivery"
    assert fake.posted == []

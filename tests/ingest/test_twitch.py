"""Twitch EventSub webhooks, shapes from dev.twitch.tv (handling webhook events, channel.chat.message)."""

from __future__ import annotations

import time
from typing import Any

from tests.ingest import signing
from tests.ingest.conftest import Running, comments, published

SUBSCRIPTION = {
    "id": "f1c2a387-161a-49f9-a165-0f21d7a4e1c4",
    "status": "enabled",
    "type": "channel.chat.message",
    "version": "1",
    "condition": {"broadcaster_user_id": "1971641", "user_id": "2914196"},
    "transport": {"method": "webhook", "callback": "https://example.com/webhooks/twitch"},
    "created_at": "2023-11-06T18:11:47.492253549Z",
    "cost": 0,
}

CHAT = {
    "subscription": SUBSCRIPTION,
    "event": {
        "broadcaster_user_id": "1971641",
        "broadcaster_user_login": "streamer",
        "broadcaster_user_name": "streamer",
        "chatter_user_id": "4145994",
        "chatter_user_login": "viewer32",
        "chatter_user_name": "viewer32",
        "message_id": "cc106a89-1814-919d-454c-f4f2f970aae7",
        "message": {
            "text": "Hi chat",
            "fragments": [
                {"type": "text", "text": "Hi chat", "cheermote": None, "emote": None, "mention": None}
            ],
        },
        "color": "#00FF7F",
        "badges": [],
        "message_type": "text",
        "cheer": None,
        "reply": None,
        "channel_points_custom_reward_id": None,
    },
}


async def test_callback_verification_returns_the_bare_challenge(ingest: Running) -> None:
    payload = {
        "challenge": "pogchamp-kappa-360noscope-vohiyo",
        "subscription": {**SUBSCRIPTION, "status": "webhook_callback_verification_pending"},
    }
    response = await ingest.post(
        "/webhooks/twitch", signing.twitch(payload, message_type="webhook_callback_verification")
    )
    assert response.status_code == 200
    assert response.text == "pogchamp-kappa-360noscope-vohiyo"
    assert response.headers["content-type"].startswith("text/plain")


async def test_chat_message_published_and_redelivery_recognised(ingest: Running) -> None:
    signed = signing.twitch(CHAT)
    assert (await ingest.post("/webhooks/twitch", signed)).json()["published"] == 1
    # Twitch re-sends a delivery it saw no 2xx for with the same message id.
    again = signing.twitch(CHAT)
    assert (await ingest.post("/webhooks/twitch", again)).json()["duplicates"] == 1
    [comment] = comments(await published(ingest.settings))
    assert comment.comment.key() == "twitch:1971641:1971641"
    assert comment.comment.comment_id == "cc106a89-1814-919d-454c-f4f2f970aae7"
    assert comment.author.display_name == "viewer32"
    assert comment.delivery_id == "befa7b53-d79d-478f-86b9-120f112b044e"
    assert "4145994" not in comment.model_dump_json()


async def test_reply_carries_its_parent(ingest: Running) -> None:
    reply: dict[str, Any] = {
        **CHAT,
        "event": {
            **CHAT["event"],
            "message_id": "m2",
            "reply": {
                "parent_message_id": "cc106a89-1814-919d-454c-f4f2f970aae7",
                "parent_message_body": "Hi chat",
                "parent_user_id": "4145994",
                "parent_user_name": "viewer32",
                "parent_user_login": "viewer32",
                "thread_message_id": "cc106a89-1814-919d-454c-f4f2f970aae7",
                "thread_user_id": "4145994",
                "thread_user_name": "viewer32",
                "thread_user_login": "viewer32",
            },
        },
    }
    await ingest.post("/webhooks/twitch", signing.twitch(reply, message_id="other-delivery"))
    [comment] = comments(await published(ingest.settings))
    assert comment.parent_id == "cc106a89-1814-919d-454c-f4f2f970aae7"


async def test_revocation_is_counted_by_status(ingest: Running) -> None:
    payload = {"subscription": {**SUBSCRIPTION, "status": "authorization_revoked"}}
    response = await ingest.post(
        "/webhooks/twitch", signing.twitch(payload, message_type="revocation", message_id="rev-1")
    )
    assert response.status_code == 204
    assert (
        ingest.metric(
            "vigie_ingest_subscription_revocations_total", platform="twitch", status="authorization_revoked"
        )
        == 1
    )
    odd = {"subscription": {**SUBSCRIPTION, "status": "something_new"}}
    await ingest.post("/webhooks/twitch", signing.twitch(odd, message_type="revocation", message_id="rev-2"))
    assert (
        ingest.metric("vigie_ingest_subscription_revocations_total", platform="twitch", status="other") == 1
    )
    assert await published(ingest.settings) == []


async def test_other_subscription_types_are_ignored(ingest: Running) -> None:
    follow = {"subscription": {**SUBSCRIPTION, "type": "channel.follow"}, "event": {"user_id": "1"}}
    response = await ingest.post("/webhooks/twitch", signing.twitch(follow))
    assert response.json() == {"published": 0, "duplicates": 0, "ignored": 1}


async def test_old_message_tampered_and_missing_headers_are_401(ingest: Running) -> None:
    old = signing.twitch(CHAT, at=time.time() - 601)
    response = await ingest.post("/webhooks/twitch", old)
    assert (response.status_code, response.json()["detail"]) == (401, "stale timestamp")
    body, headers = signing.twitch(CHAT)
    tampered = await ingest.client.post(
        "/webhooks/twitch", content=body.replace(b"Hi chat", b"Hi chaT"), headers=headers
    )
    assert (tampered.status_code, tampered.json()["detail"]) == (401, "bad signature")
    del headers["twitch-eventsub-message-id"]
    missing = await ingest.client.post("/webhooks/twitch", content=body, headers=headers)
    assert (missing.status_code, missing.json()["detail"]) == (401, "missing signature")
    assert await published(ingest.settings) == []

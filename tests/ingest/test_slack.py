"""Slack Events API, shapes from api.slack.com/events/message and the url_verification doc."""

from __future__ import annotations

import time
from typing import Any

from tests.ingest import signing
from tests.ingest.conftest import Running, comments, published


def callback(event: dict[str, Any], event_id: str = "Ev08MFMKH6") -> dict[str, Any]:
    return {
        "token": "XXYYZZ",
        "team_id": "T061EG9R6",
        "api_app_id": "A0PNCHHK2",
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": 1732900000,
        "authed_users": ["U0LAN0Z89"],
    }


MESSAGE = {
    "type": "message",
    "channel": "C2147483705",
    "user": "U2147483697",
    "text": "Hello world",
    "ts": "1355517523.000005",
    "event_ts": "1355517523.000005",
    "channel_type": "channel",
}


def test_signature_matches_slacks_published_example() -> None:
    # The worked example in "Verifying requests from Slack" (a slash-command body, form-encoded).
    body = (
        b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
        b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
        b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
        b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    from vigie_platforms.slack import inbound as slack

    slack.verify(
        (signing.SLACK_SECRET.encode(),),
        body,
        "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
        "1531420618",
        now=1531420618,
        max_skew=300,
    )


async def test_url_verification_answers_the_challenge(ingest: Running) -> None:
    payload = {
        "token": "Jhj5dZrVaK7ZwHHjRyZWjbDl",
        "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
        "type": "url_verification",
    }
    response = await ingest.post("/webhooks/slack", signing.slack(payload))
    assert response.status_code == 200
    assert response.json() == {"challenge": payload["challenge"]}


async def test_message_published_and_retry_not_duplicated(ingest: Running) -> None:
    signed = signing.slack(callback(MESSAGE))
    first = await ingest.post("/webhooks/slack", signed)
    assert first.json() == {"published": 1, "duplicates": 0, "ignored": 0}
    # Slack's retry: same event_id, fresh timestamp and signature, X-Slack-Retry-Num set.
    body, headers = signing.slack(callback(MESSAGE))
    retry = await ingest.client.post(
        "/webhooks/slack",
        content=body,
        headers={**headers, "x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout"},
    )
    assert retry.status_code == 200
    assert retry.json()["duplicates"] == 1
    [comment] = comments(await published(ingest.settings))
    assert comment.comment.key() == "slack:T061EG9R6:C2147483705"
    assert comment.comment.comment_id == "1355517523.000005"
    assert comment.delivery_id == "Ev08MFMKH6"
    assert comment.text == "Hello world"
    assert comment.created_at.timestamp() == 1355517523.000005


async def test_thread_reply_edit_and_delete(ingest: Running) -> None:
    reply = {**MESSAGE, "ts": "1355517600.000001", "thread_ts": "1355517523.000005", "text": "a reply"}
    edited = {
        "type": "message",
        "subtype": "message_changed",
        "hidden": True,
        "channel": "C2147483705",
        "ts": "1355517700.000001",
        "message": {
            **reply,
            "text": "a reply, edited",
            "edited": {"user": "U2147483697", "ts": "1355517700.000000"},
        },
        "previous_message": reply,
    }
    deleted = {
        "type": "message",
        "subtype": "message_deleted",
        "hidden": True,
        "channel": "C2147483705",
        "ts": "1355517800.000001",
        "deleted_ts": "1355517600.000001",
        "previous_message": reply,
    }
    for index, event in enumerate((reply, edited, deleted)):
        response = await ingest.post("/webhooks/slack", signing.slack(callback(event, f"Ev{index}")))
        assert response.json()["published"] == 1
    got = comments(await published(ingest.settings))
    assert [(c.change.value, c.comment.comment_id, c.text) for c in got] == [
        ("created", "1355517600.000001", "a reply"),
        ("edited", "1355517600.000001", "a reply, edited"),
        ("deleted", "1355517600.000001", ""),
    ]
    assert {c.parent_id for c in got} == {"1355517523.000005"}


async def test_non_comment_events_are_acknowledged_and_counted(ingest: Running) -> None:
    events = [
        {
            "type": "reaction_added",
            "user": "U1",
            "reaction": "thumbsup",
            "item": {"type": "message", "channel": "C1", "ts": "1.2"},
        },
        {**MESSAGE, "subtype": "channel_join", "text": "<@U1> has joined the channel"},
        {**MESSAGE, "subtype": "bot_message", "bot_id": "B1"},
        {**MESSAGE, "bot_id": "B1"},
    ]
    for index, event in enumerate(events):
        response = await ingest.post("/webhooks/slack", signing.slack(callback(event, f"Ev{index}")))
        assert response.json() == {"published": 0, "duplicates": 0, "ignored": 1}
    rate_limited = {
        "token": "x",
        "type": "app_rate_limited",
        "team_id": "T1",
        "minute_rate_limited": 1,
        "api_app_id": "A1",
    }
    assert (await ingest.post("/webhooks/slack", signing.slack(rate_limited))).json()["ignored"] == 1
    assert ingest.metric("vigie_ingest_webhooks_ignored_total", platform="slack") == 5
    assert await published(ingest.settings) == []


async def test_stale_timestamp_and_bad_signature_are_401(ingest: Running) -> None:
    stale = signing.slack(callback(MESSAGE), at=time.time() - 301)
    response = await ingest.post("/webhooks/slack", stale)
    assert response.status_code == 401
    assert response.json()["detail"] == "stale timestamp"
    forged = signing.slack(callback(MESSAGE), secret="not-the-secret")
    assert (await ingest.post("/webhooks/slack", forged)).json()["detail"] == "bad signature"
    body, headers = signing.slack(callback(MESSAGE))
    headers["x-slack-request-timestamp"] = "yesterday"
    assert (await ingest.client.post("/webhooks/slack", content=body, headers=headers)).status_code == 401
    assert (
        ingest.metric("vigie_ingest_webhooks_rejected_total", platform="slack", reason="stale timestamp") == 1
    )
    assert await published(ingest.settings) == []

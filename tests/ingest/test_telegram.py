"""Telegram Bot API updates, shapes from core.telegram.org/bots/api#update."""

from __future__ import annotations

from typing import Any

from tests.ingest import signing
from tests.ingest.conftest import Running, comments, published

CHAT = {"id": -1001234567890, "title": "Vigie fans", "username": "vigiefans", "type": "supergroup"}
USER = {"id": 111222333, "is_bot": False, "first_name": "Camille", "last_name": "D.", "language_code": "fr"}


def update(update_id: int, kind: str = "message", **message: Any) -> dict[str, Any]:
    body = {
        "message_id": 42,
        "from": USER,
        "chat": CHAT,
        "date": 1732900000,
        "text": "Bonjour à tous",
        **message,
    }
    return {"update_id": update_id, kind: body}


async def test_message_with_language_hint_and_permalink(ingest: Running) -> None:
    response = await ingest.post("/webhooks/telegram", signing.telegram(update(10000)))
    assert response.json() == {"published": 1, "duplicates": 0, "ignored": 0}
    [comment] = comments(await published(ingest.settings))
    assert comment.comment.key() == "telegram:-1001234567890:-1001234567890"
    assert comment.language_hint == "fr"
    assert comment.author.display_name == "Camille D."
    assert comment.permalink == "https://t.me/vigiefans/42"
    assert comment.delivery_id == "10000"
    assert comment.text == "Bonjour à tous"


async def test_same_update_twice_is_one_event(ingest: Running) -> None:
    for _ in range(2):
        await ingest.post("/webhooks/telegram", signing.telegram(update(10001)))
    assert len(await published(ingest.settings)) == 1


async def test_edit_reply_and_caption(ingest: Running) -> None:
    await ingest.post(
        "/webhooks/telegram",
        signing.telegram(update(1, "edited_message", text="edited", edit_date=1732900100)),
    )
    await ingest.post(
        "/webhooks/telegram",
        signing.telegram(
            update(
                2,
                message_id=43,
                text=None,
                caption="look",
                reply_to_message={"message_id": 42, "chat": CHAT, "date": 1},
            )
        ),
    )
    got = comments(await published(ingest.settings))
    assert [(c.change.value, c.text, c.parent_id) for c in got] == [
        ("edited", "edited", None),
        ("created", "look", "42"),
    ]


async def test_non_comment_updates_are_ignored(ingest: Running) -> None:
    sticker = update(3, text=None, sticker={"file_id": "x", "width": 1, "height": 1})
    callback = {
        "update_id": 4,
        "callback_query": {"id": "1", "from": USER, "chat_instance": "1", "data": "x"},
    }
    for payload in (sticker, callback):
        response = await ingest.post("/webhooks/telegram", signing.telegram(payload))
        assert response.json()["ignored"] == 1
    assert await published(ingest.settings) == []


async def test_wrong_or_missing_secret_token_is_401(ingest: Running) -> None:
    body, headers = signing.telegram(update(5), token="wrong")
    assert (await ingest.client.post("/webhooks/telegram", content=body, headers=headers)).status_code == 401
    missing = await ingest.client.post(
        "/webhooks/telegram", content=body, headers={"content-type": "application/json"}
    )
    assert (missing.status_code, missing.json()["detail"]) == (401, "missing signature")
    assert await published(ingest.settings) == []

"""Discord interactions, shapes from discord.com/developers/docs/interactions/receiving-and-responding."""

from __future__ import annotations

import time
from typing import Any

from nacl.signing import SigningKey

from tests.ingest import signing
from tests.ingest.conftest import Running, comments, published

GUILD, CHANNEL = "290926798626357999", "645027906669510667"
MEMBER = {"user": {"id": "53908232506183680", "username": "mod", "global_name": "Moderator"}, "roles": []}


def interaction(kind: int, data: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": "786008729715212338",
        "application_id": "775799577604522054",
        "type": kind,
        "guild_id": GUILD,
        "channel_id": CHANNEL,
        "member": MEMBER,
        "token": "A_UNIQUE_TOKEN",
        "version": 1,
        "locale": "fr",
        **extra,
    }
    if data is not None:
        payload["data"] = data
    return payload


MESSAGE_COMMAND = {
    "id": "1000000000000000001",
    "name": "Report to Vigie",
    "type": 3,
    "target_id": "1100000000000000002",
    "resolved": {
        "messages": {
            "1100000000000000002": {
                "id": "1100000000000000002",
                "channel_id": CHANNEL,
                "author": {"id": "80351110224678912", "username": "nelly", "global_name": "Nelly"},
                "content": "you are all idiots",
                "timestamp": "2026-11-29T10:00:00.123000+00:00",
                "edited_timestamp": None,
                "type": 0,
            }
        }
    },
}


async def test_ping_gets_pong(ingest: Running) -> None:
    response = await ingest.post(
        "/webhooks/discord",
        signing.discord({"id": "1", "application_id": "2", "type": 1, "token": "t", "version": 1}),
    )
    assert response.status_code == 200
    assert response.json() == {"type": 1}


async def test_any_bad_signature_is_401(ingest: Running) -> None:
    ping = {"id": "1", "application_id": "2", "type": 1, "token": "t", "version": 1}
    # Discord's own probes: a signature by another key, a flipped byte, garbage, and no headers.
    other = signing.discord(ping, key=SigningKey(bytes(32)))
    body, headers = signing.discord(ping)
    flipped = {
        **headers,
        "x-signature-ed25519": ("0" if headers["x-signature-ed25519"][0] != "0" else "1")
        + headers["x-signature-ed25519"][1:],
    }
    cases = [
        other,
        (body, flipped),
        (body, {**headers, "x-signature-ed25519": "zz"}),
        (body, {**headers, "x-signature-ed25519": "ab" * 10}),
        (body, {"content-type": "application/json"}),
        (body, {**headers, "x-signature-timestamp": str(int(headers["x-signature-timestamp"]) + 1)}),
        signing.discord(ping, at=time.time() - 3600),
    ]
    for signed in cases:
        response = await ingest.post("/webhooks/discord", signed)
        assert response.status_code == 401, signed[1]


async def test_message_command_publishes_the_target_message(ingest: Running) -> None:
    response = await ingest.post("/webhooks/discord", signing.discord(interaction(2, MESSAGE_COMMAND)))
    assert response.status_code == 200
    assert response.json()["type"] == 4
    assert response.json()["data"]["flags"] == 64  # ephemeral: only the reporter sees it
    [comment] = comments(await published(ingest.settings))
    assert comment.comment.key() == f"discord:{GUILD}:{CHANNEL}"
    assert comment.comment.comment_id == "1100000000000000002"
    assert comment.text == "you are all idiots"
    assert comment.author.display_name == "Nelly"
    assert comment.permalink == f"https://discord.com/channels/{GUILD}/{CHANNEL}/1100000000000000002"
    assert "80351110224678912" not in comment.model_dump_json()


async def test_slash_command_text_and_locale(ingest: Running) -> None:
    data = {
        "id": "1",
        "name": "feedback",
        "type": 1,
        "options": [{"name": "text", "type": 3, "value": "Le stream coupe"}],
    }
    await ingest.post("/webhooks/discord", signing.discord(interaction(2, data)))
    [comment] = comments(await published(ingest.settings))
    assert (comment.text, comment.language_hint, comment.author.display_name) == (
        "Le stream coupe",
        "fr",
        "Moderator",
    )


async def test_components_and_autocomplete_are_acknowledged(ingest: Running) -> None:
    component = await ingest.post(
        "/webhooks/discord", signing.discord(interaction(3, {"custom_id": "b", "component_type": 2}))
    )
    assert component.json() == {"type": 6}
    auto = await ingest.post(
        "/webhooks/discord",
        signing.discord(interaction(4, {"id": "1", "name": "x", "type": 1, "options": []})),
    )
    assert auto.json() == {"type": 8, "data": {"choices": []}}
    user_command = await ingest.post(
        "/webhooks/discord",
        signing.discord(interaction(2, {"id": "1", "name": "u", "type": 2, "target_id": "5"})),
    )
    assert user_command.json()["type"] == 4
    assert ingest.metric("vigie_ingest_webhooks_ignored_total", platform="discord") == 3
    assert await published(ingest.settings) == []

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from vigie_responder.app import create_app
from vigie_responder.domain.drafting import draft_for, wants_reply
from vigie_responder.settings import ResponderSettings
from vigie_shared.bus import open_bus
from vigie_shared.events import Envelope
from vigie_shared.events.v1 import (
    TOPICS,
    Action,
    Author,
    CommentRef,
    ModerationDecided,
    Platform,
)

from tests.conftest import Tokens


def decision(
    text: str, action: Action = Action.ALLOW, language: str = "fr", comment_id: str = "c1"
) -> ModerationDecided:
    return ModerationDecided(
        comment=CommentRef(
            platform=Platform.INSTAGRAM, community="brand", thread_id="m1", comment_id=comment_id
        ),
        author=Author(pseudonym="psn_1"),
        text=text,
        language=language,
        scores={"toxicity": 0.01},
        action=action,
        reasons=[],
        policy_version="default-1",
        model_versions={"profanity": "1"},
    )


@pytest.mark.parametrize(
    ("text", "action", "expected"),
    [
        ("Quand ouvre la boutique ?", Action.ALLOW, True),
        ("Comment on s'inscrit", Action.ALLOW, True),
        ("What time does it start", Action.ALLOW, True),
        ("Great video, thanks", Action.ALLOW, False),
        ("Why are you all idiots?", Action.HIDE, False),
        ("Is this a scam?", Action.REVIEW, False),
    ],
)
def test_only_questions_left_up_get_a_draft(text: str, action: Action, expected: bool) -> None:
    assert wants_reply(decision(text, action)) is expected


def test_the_draft_speaks_the_comment_language() -> None:
    assert "Merci" in draft_for(decision("Où ?", language="fr")).text
    assert "Thanks" in draft_for(decision("Where?", language="en")).text
    assert "Thanks" in draft_for(decision("¿Dónde?", language="und")).text


@pytest.fixture
async def responder(
    tmp_path: Path, tokens: Tokens, database_url: str
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    bus_url = f"sqlite:///{tmp_path}/bus.db"
    settings = ResponderSettings(
        bus_url=bus_url, database_url=database_url, api_tokens_file=tokens.path, environment="test"
    )
    app = create_app(settings)
    async with (
        LifespanManager(app, startup_timeout=60) as manager,
        httpx.AsyncClient(transport=httpx.ASGITransport(manager.app), base_url="http://responder") as client,
    ):
        yield client, bus_url


async def publish_decision(bus_url: str, data: ModerationDecided) -> None:
    bus = open_bus(bus_url, client_id="test")
    await bus.start()
    envelope = Envelope.wrap(data, source="vigie/test", correlationid="corr-1")
    await bus.publish(TOPICS["moderation.decided"], data.key(), envelope.body(), envelope.headers())
    await bus.publish(TOPICS["moderation.decided"], data.key(), envelope.body(), envelope.headers())
    await bus.close()


async def wait_drafts(client: httpx.AsyncClient, token: str, want: int) -> list[dict[str, object]]:
    import asyncio

    for _ in range(100):
        response = await client.get("/v1/drafts", headers=Tokens.header(token))
        assert response.status_code == 200
        if len(response.json()) >= want:
            return list(response.json())
        await asyncio.sleep(0.1)
    raise AssertionError("no draft appeared")


async def wait_delivery(client: httpx.AsyncClient, token: str, draft_id: str) -> dict[str, Any]:
    for _ in range(100):
        draft: dict[str, Any] = (
            await client.get(f"/v1/drafts/{draft_id}", headers=Tokens.header(token))
        ).json()
        if draft["status"] in ("published", "failed"):
            return draft
        await asyncio.sleep(0.1)
    raise AssertionError("the draft was never delivered")


async def test_drafts_need_a_token_with_the_right_role_and_community(
    responder: tuple[httpx.AsyncClient, str], tokens: Tokens
) -> None:
    client, bus_url = responder
    await publish_decision(bus_url, decision("Quand ouvre la boutique ?"))
    [draft] = await wait_drafts(client, tokens.moderator, 1)  # delivered twice, drafted once
    assert draft["status"] == "pending"
    assert (await client.get("/v1/drafts")).status_code == 401
    assert (await client.get("/v1/drafts", headers=Tokens.header("vgt_nope"))).status_code == 401
    assert (await client.get("/v1/drafts", headers=Tokens.header(tokens.auditor))).status_code == 403
    assert (await client.get("/v1/drafts", headers=Tokens.header(tokens.moderator_elsewhere))).json() == []
    hidden = await client.get(f"/v1/drafts/{draft['id']}", headers=Tokens.header(tokens.moderator_elsewhere))
    assert hidden.status_code == 404
    assert (await client.get("/v1/drafts/nope", headers=Tokens.header(tokens.moderator))).status_code == 404


async def test_one_verdict_per_draft_and_bad_bodies_are_refused(
    responder: tuple[httpx.AsyncClient, str], tokens: Tokens
) -> None:
    client, bus_url = responder
    await publish_decision(bus_url, decision("Is the shop open on Sunday?", language="en"))
    [draft] = await wait_drafts(client, tokens.moderator, 1)
    assert draft["reply_limit"] == 2_200  # Instagram's, from the platform client
    auth = Tokens.header(tokens.moderator)
    assert (await client.post(f"/v1/drafts/{draft['id']}/reject", json={}, headers=auth)).status_code == 422
    assert (
        await client.post(f"/v1/drafts/{draft['id']}/approve", json={"text": ""}, headers=auth)
    ).status_code == 422
    approved = await client.post(f"/v1/drafts/{draft['id']}/approve", headers=auth)
    assert approved.status_code == 200
    assert approved.json()["status"] == "approved"
    assert approved.json()["final_text"] == draft["text"]
    conflict = await client.post(f"/v1/drafts/{draft['id']}/reject", json={"reason": "no"}, headers=auth)
    assert conflict.status_code == 409
    assert "approved" in conflict.json()["detail"]
    # No credentials for this community: no platform call, and the draft says so.
    delivered = await wait_delivery(client, tokens.moderator, draft["id"])
    assert delivered["status"] == "failed"
    assert delivered["verdict"] == "approved"
    assert delivered["delivery"] == {
        "status": "failed",
        "platform_reply_id": None,
        "reason": "no_credentials",
        "delivered_at": delivered["delivery"]["delivered_at"],
    }
    listed = await client.get("/v1/drafts", params={"status": "failed"}, headers=auth)
    assert [d["id"] for d in listed.json()] == [draft["id"]]

    bus = open_bus(bus_url, client_id="reader")
    await bus.start()
    consumer = bus.consumer("reader", [TOPICS["reply.reviewed"]])
    await consumer.start()
    records = await consumer.fetch(10, 2.0)
    await consumer.stop()
    await bus.close()
    assert len(records) == 1
    assert records[0].headers["ce_type"] == "reply.reviewed"
    assert datetime.now(UTC).year >= 2026

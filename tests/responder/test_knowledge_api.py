"""The knowledge-base routes and the drafts they feed, with the real encoder and intent model."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from vigie_responder.app import create_app
from vigie_responder.settings import ResponderSettings
from vigie_shared.bus import open_bus
from vigie_shared.events import Envelope
from vigie_shared.events.v1 import TOPICS, Action, Author, CommentRef, ModerationDecided, Platform

from tests.conftest import Tokens
from tests.e2e.system import serve_asgi
from tests.responder.fake_llm import FakeChat

COMMUNITY = "atelier"
SHIPPING = {
    "questions": {"en": ["How long does delivery take?", "When will my order arrive?"]},
    "answers": {"en": "We deliver in 2 to 3 working days across France and Belgium."},
    "tags": ["delivery"],
}
RETURNS = {
    "questions": {"fr": ["Comment retourner un article ?", "Puis-je renvoyer ma commande ?"]},
    "answers": {"fr": "Vous avez 30 jours pour nous renvoyer un article, le retour est gratuit."},
    "tags": ["retours"],
}


@dataclass
class Responder:
    client: httpx.AsyncClient
    bus_url: str
    tokens: Tokens

    def auth(self, token: str | None = None) -> dict[str, str]:
        return Tokens.header(token or self.tokens.moderator)

    async def decided(self, text: str, language: str, comment_id: str, action: Action = Action.ALLOW) -> None:
        ref = CommentRef(
            platform=Platform.FACEBOOK, community=COMMUNITY, thread_id="p1", comment_id=comment_id
        )
        data = ModerationDecided(
            comment=ref,
            author=Author(pseudonym="psn_kb"),
            text=text,
            language=language,
            scores={},
            action=action,
            reasons=[],
            policy_version="t",
            model_versions={},
        )
        bus = open_bus(self.bus_url, client_id="test")
        await bus.start()
        envelope = Envelope.wrap(data, source="vigie/test", correlationid=comment_id)
        await bus.publish(TOPICS["moderation.decided"], data.key(), envelope.body(), envelope.headers())
        await bus.close()

    async def drafts(self, want: int) -> dict[str, dict[str, Any]]:
        for _ in range(300):
            listed = (await self.client.get("/v1/drafts", headers=self.auth())).json()
            if len(listed) >= want:
                return {d["comment_id"]: d for d in listed}
            await asyncio.sleep(0.05)
        raise AssertionError(f"{want} drafts expected, got {len(listed)}")


async def start(
    tmp_path: Path, tokens: Tokens, database_url: str, **settings: Any
) -> AsyncIterator[Responder]:
    bus_url = f"sqlite:///{tmp_path}/bus.db"
    app = create_app(
        ResponderSettings(
            bus_url=bus_url,
            database_url=database_url,
            api_tokens_file=tokens.path,
            environment="test",
            **settings,
        )
    )
    async with (
        LifespanManager(app, startup_timeout=120) as manager,
        httpx.AsyncClient(transport=httpx.ASGITransport(manager.app), base_url="http://responder") as client,
    ):
        yield Responder(client, bus_url, tokens)


@pytest.fixture
async def responder(tmp_path: Path, tokens: Tokens, database_url: str) -> AsyncIterator[Responder]:
    async for started in start(tmp_path, tokens, database_url):
        yield started


async def test_entries_are_created_replaced_listed_and_deleted(responder: Responder) -> None:
    url = f"/v1/kb/{COMMUNITY}/entries/shipping-times"
    created = await responder.client.put(url, json=SHIPPING, headers=responder.auth())
    assert created.status_code == 201, created.text
    replaced = await responder.client.put(
        url, json={**SHIPPING, "tags": ["delivery", "faq"]}, headers=responder.auth()
    )
    assert replaced.status_code == 200
    assert (await responder.client.get(url, headers=responder.auth())).json()["tags"] == ["delivery", "faq"]
    listed = await responder.client.get(f"/v1/kb/{COMMUNITY}/entries", headers=responder.auth())
    assert [e["entry_id"] for e in listed.json()["entries"]] == ["shipping-times"]
    assert (await responder.client.delete(url, headers=responder.auth())).status_code == 204
    assert (await responder.client.get(url, headers=responder.auth())).status_code == 404
    assert (await responder.client.delete(url, headers=responder.auth())).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"questions": {}, "answers": {"en": "a"}},
        {"questions": {"en": ["q?"]}, "answers": {}},
        {"questions": {"de": ["Wie lange?"]}, "answers": {"en": "a"}},
        {"questions": {"en": [""]}, "answers": {"en": "a"}},
        {
            "questions": {"en": ["q?"]},
            "answers": {"en": "a"},
            "valid_from": "2026-01-02T00:00:00Z",
            "valid_until": "2026-01-01T00:00:00Z",
        },
        {"questions": {"en": ["q?"]}, "answers": {"en": "a"}, "surprise": 1},
    ],
)
async def test_an_incomplete_entry_is_refused_without_echoing_it(
    responder: Responder, body: dict[str, Any]
) -> None:
    refused = await responder.client.put(
        f"/v1/kb/{COMMUNITY}/entries/e1", json=body, headers=responder.auth()
    )
    assert refused.status_code == 422


async def test_scopes_are_those_of_the_drafts(responder: Responder) -> None:
    url = f"/v1/kb/{COMMUNITY}/entries/shipping-times"
    assert (await responder.client.put(url, json=SHIPPING, headers=responder.auth())).status_code == 201
    other = responder.auth(responder.tokens.moderator_elsewhere)
    assert (await responder.client.get(url, headers=other)).status_code == 404
    assert (await responder.client.put(url, json=SHIPPING, headers=other)).status_code == 404
    search = await responder.client.post(
        f"/v1/kb/{COMMUNITY}/search", json={"text": "delivery?"}, headers=other
    )
    assert search.status_code == 404
    assert (
        await responder.client.get(url, headers=responder.auth(responder.tokens.auditor))
    ).status_code == 403
    assert (await responder.client.get(url)).status_code == 401


async def test_search_crosses_languages_and_abstains_off_topic(responder: Responder) -> None:
    for entry_id, body in (("shipping-times", SHIPPING), ("returns", RETURNS)):
        await responder.client.put(
            f"/v1/kb/{COMMUNITY}/entries/{entry_id}", json=body, headers=responder.auth()
        )

    async def search(text: str) -> list[dict[str, Any]]:
        found = await responder.client.post(
            f"/v1/kb/{COMMUNITY}/search", json={"text": text, "limit": 5}, headers=responder.auth()
        )
        assert found.status_code == 200
        return list(found.json()["results"])

    french = await search("vous livrez en combien de jours svp")
    assert [r["entry_id"] for r in french][:1] == ["shipping-times"]
    assert french[0]["matched_question"] in SHIPPING["questions"]["en"]
    english = await search("can I send my order back?")
    assert [r["entry_id"] for r in english][:1] == ["returns"]
    assert await search("Super vidéo, merci beaucoup ! Vivement la suite") == []
    assert await search("What is the capital of Australia?") == []


async def test_an_entry_outside_its_dates_is_not_found(responder: Responder) -> None:
    past = {**SHIPPING, "valid_until": (datetime.now(UTC) - timedelta(days=1)).isoformat()}
    await responder.client.put(f"/v1/kb/{COMMUNITY}/entries/old", json=past, headers=responder.auth())
    found = await responder.client.post(
        f"/v1/kb/{COMMUNITY}/search", json={"text": "How long does delivery take?"}, headers=responder.auth()
    )
    assert found.json()["results"] == []


async def test_drafts_cite_the_entry_in_the_commenters_language_and_say_why(responder: Responder) -> None:
    for entry_id, body in (("shipping-times", SHIPPING), ("returns", RETURNS)):
        await responder.client.put(
            f"/v1/kb/{COMMUNITY}/entries/{entry_id}", json=body, headers=responder.auth()
        )
    await responder.client.put(
        f"/v1/tone/{COMMUNITY}",
        json={"french_address": "vous", "signature": {"fr": "L'équipe Atelier"}},
        headers=responder.auth(),
    )
    await responder.decided("Je peux renvoyer mon colis si ça ne me va pas ?", "fr", "c-returns")
    await responder.decided("vous livrez en combien de jours svp", "fr", "c-shipping")
    await responder.decided("Merci beaucoup, la lampe est magnifique !", "fr", "c-praise")
    await responder.decided("BUY FOLLOWERS cheap at my profile", "en", "c-spam", action=Action.REVIEW)
    drafts = await responder.drafts(3)
    assert "c-spam" not in drafts

    returns = drafts["c-returns"]
    assert (returns["kb_entry_id"], returns["language"], returns["source"]) == ("returns", "fr", "faq")
    assert returns["text"].startswith("Vous avez 30 jours")
    assert returns["text"].endswith("L'équipe Atelier")
    assert returns["provenance"]["intent"] in ("question", "request")
    assert returns["provenance"]["model_versions"]["encoder"]

    shipping = drafts["c-shipping"]
    assert shipping["kb_entry_id"] == "shipping-times"
    # Only an English answer exists and no LLM is configured: the draft says it needs translating.
    assert shipping["needs_translation"] is True
    assert shipping["language"] == "fr"

    praise = drafts["c-praise"]
    assert (praise["intent"], praise["kb_entry_id"], praise["source"]) == ("praise", None, "template")
    assert "Merci" in praise["text"]


async def test_with_an_llm_the_french_comment_gets_a_french_draft_from_the_english_entry(
    tmp_path: Path, tokens: Tokens, database_url: str
) -> None:
    fake = FakeChat()
    fake.reply("Nous livrons en 2 à 3 jours ouvrés en France et en Belgique.")
    async with serve_asgi(fake.app) as origin:
        async for responder in start(
            tmp_path, tokens, database_url, llm_url=f"{origin}/v1", llm_model="local"
        ):
            await responder.client.put(
                f"/v1/kb/{COMMUNITY}/entries/shipping-times", json=SHIPPING, headers=responder.auth()
            )
            await responder.decided("vous livrez en combien de jours svp", "fr", "c-llm")
            draft = (await responder.drafts(1))["c-llm"]
    assert draft["text"] == "Nous livrons en 2 à 3 jours ouvrés en France et en Belgique."
    assert (draft["source"], draft["kb_entry_id"], draft["needs_translation"]) == (
        "llm",
        "shipping-times",
        False,
    )
    assert draft["provenance"]["llm_used"] is True
    assert len(fake.requests) == 1

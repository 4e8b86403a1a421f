from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from pydantic import ValidationError
from vigie_moderator.app import create_app
from vigie_moderator.domain.policy import DEFAULT_POLICY, Policy, Thresholds, decide, default_policy
from vigie_moderator.domain.scores import CATEGORIES, KeywordScorer, TextScores
from vigie_moderator.settings import ModeratorSettings
from vigie_shared.bus import Bus, Message, decode, open_bus
from vigie_shared.events import Envelope
from vigie_shared.events.v1 import TOPICS, Action, Author, CommentReceived, CommentRef, Platform

from tests.conftest import Tokens


def scored(language: str = "en", **scores: float) -> TextScores:
    values = dict.fromkeys(CATEGORIES, 0.0) | {"sentiment": 0.0} | scores
    return TextScores(language=language, scores=values, top_terms={"toxicity": ["idiot"]})


def test_the_most_severe_action_wins_and_says_why() -> None:
    decision = decide(DEFAULT_POLICY, scored(toxicity=0.95, spam=0.75))
    assert decision.action is Action.HIDE
    assert any(r.startswith("toxicity 0.95 >= hide") and "idiot" in r for r in decision.reasons)
    assert any(r.startswith("spam 0.75 >= review") for r in decision.reasons)
    assert decide(DEFAULT_POLICY, scored(threat=0.93)).action is Action.REMOVE
    assert decide(DEFAULT_POLICY, scored(toxicity=0.1)).action is Action.ALLOW


def test_language_thresholds_override_the_general_ones() -> None:
    policy = Policy(
        version="p2",
        thresholds={"toxicity": Thresholds(review=0.5)},
        language_thresholds={"fr": {"toxicity": Thresholds(review=0.8)}},
    )
    assert decide(policy, scored("en", toxicity=0.6)).action is Action.REVIEW
    assert decide(policy, scored("fr", toxicity=0.6)).action is Action.ALLOW


@pytest.mark.parametrize(
    "bad",
    [
        {"thresholds": {"toxicity": {"review": 0.9, "hide": 0.5}}},
        {"thresholds": {"toxicity": {"review": 1.5}}},
        {"thresholds": {"rudeness": {"review": 0.5}}},
        {"thresholds": {"toxicity": {"review": 0.5, "delete": 0.9}}},
    ],
    ids=["unordered", "out-of-range", "unknown-category", "unknown-action"],
)
def test_an_invalid_policy_is_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Policy.model_validate(bad)


TEST_POLICY = Policy(
    version="test-1",
    thresholds={
        "toxicity": Thresholds(review=0.5, hide=0.9),
        "threat": Thresholds(remove=0.5),
        "spam": Thresholds(review=0.5),
    },
)


@pytest.fixture
async def moderator(
    tmp_path: Path, tokens: Tokens, bus_url: str, topic_prefix: str
) -> AsyncIterator[tuple[httpx.AsyncClient, Bus]]:
    """The moderator app on the embedded bus and on Kafka, with a bus client to feed and read it."""
    settings = ModeratorSettings(
        bus_url=bus_url,
        bus_topic_prefix=topic_prefix,
        consumer_group=f"{topic_prefix}moderator",
        database_url=f"sqlite+aiosqlite:///{tmp_path}/moderator.db",
        api_tokens_file=tokens.path,
        environment="test",
    )
    app = create_app(settings, scorer=KeywordScorer())
    bus = open_bus(bus_url, client_id="test", topic_prefix=topic_prefix)
    async with (
        LifespanManager(app, startup_timeout=60) as manager,
        httpx.AsyncClient(transport=httpx.ASGITransport(manager.app), base_url="http://moderator") as client,
    ):
        await bus.start()
        put = await client.put(
            "/v1/policies/guild", json=TEST_POLICY.model_dump(), headers=Tokens.header(tokens.admin)
        )
        assert put.status_code == 200, put.text
        yield client, bus
        await bus.close()


async def test_score_endpoint_explains_and_guards(
    moderator: tuple[httpx.AsyncClient, Bus], tokens: Tokens
) -> None:
    client, _ = moderator
    auth = Tokens.header(tokens.moderator)
    response = await client.post(
        "/v1/score",
        json={"texts": ["you are an idiot", "merci pour la vidéo"], "community": "c"},
        headers=auth,
    )
    assert response.status_code == 200
    body = response.json()
    assert [r["action"] for r in body["results"]] == ["hide", "allow"]
    assert body["results"][0]["top_terms"]["toxicity"] == ["idiot"]
    assert body["results"][1]["language"] == "fr"
    assert body["model_versions"] == {"keyword": "test"}
    assert body["policy_version"] == "default-1"
    assert set(body["results"][0]["scores"]) >= {*CATEGORIES, "sentiment"}
    guild = await client.post(
        "/v1/score", json={"texts": ["you are an idiot"], "community": "guild"}, headers=auth
    )
    assert guild.json()["policy_version"] == "guild/live/1"
    assert guild.json()["results"][0]["action"] == "hide"
    assert (
        await client.post("/v1/score", json={"texts": [], "community": "c"}, headers=auth)
    ).status_code == 422
    assert (await client.post("/v1/score", json={"texts": ["x"]}, headers=auth)).status_code == 422
    assert (await client.post("/v1/score", json={"texts": ["x"], "community": "c"})).status_code == 401
    elsewhere = Tokens.header(tokens.moderator_elsewhere)
    assert (
        await client.post("/v1/score", json={"texts": ["x"], "community": "c"}, headers=elsewhere)
    ).status_code == 403


def received(n: int, text: str) -> Envelope[CommentReceived]:
    now = datetime.now(UTC)
    return Envelope.wrap(
        CommentReceived(
            comment=CommentRef(
                platform=Platform.DISCORD, community="guild", thread_id="chan", comment_id=str(n)
            ),
            author=Author(pseudonym="psn_9"),
            text=text,
            created_at=now,
            received_at=now,
        ),
        source="vigie/test",
        correlationid=f"corr-{n}",
    )


async def feed(bus: Bus, *events: Envelope[CommentReceived]) -> None:
    for event in events:
        await bus.publish(TOPICS["comment.received"], event.data.key(), event.body(), event.headers())


async def read(
    bus: Bus, topic: str, want: int, group: str = "reader", attempts: int = 150
) -> list[Envelope[Any]]:
    consumer = bus.consumer(group, [topic])
    await consumer.start()
    got: list[Message] = []
    try:
        for _ in range(attempts):
            got += await consumer.fetch(50, 0.2)
            if len(got) >= want:
                break
    finally:
        await consumer.stop()
    return [decode(m) for m in got]


async def test_the_consumer_decides_queues_reviews_and_requests_platform_actions(
    moderator: tuple[httpx.AsyncClient, Bus], tokens: Tokens
) -> None:
    client, bus = moderator
    events = [
        received(1, "have a nice day"),
        received(2, "subscribe to my channel"),
        received(3, "I will kill you"),
    ]
    await feed(bus, *events, events[1])  # the spam one is delivered twice
    decisions = await read(bus, TOPICS["moderation.decided"], 4)
    assert [d.data.action for d in decisions] == [Action.ALLOW, Action.REVIEW, Action.REMOVE, Action.REVIEW]
    assert [d.correlationid for d in decisions] == ["corr-1", "corr-2", "corr-3", "corr-2"]
    assert decisions[1].id == decisions[3].id  # a redelivery re-publishes the same event
    assert all(d.data.policy_version == "guild/live/1" for d in decisions)
    assert all(d.data.model_versions == {"keyword": "test"} for d in decisions)
    assert decisions[1].data.review_id == decisions[1].id

    [removal] = await read(bus, TOPICS["platform.action"], 1)
    assert removal.data.kind == "delete"
    assert removal.data.status == "requested"
    assert removal.data.comment.comment_id == "3"

    reviews = await client.get("/v1/reviews", headers=Tokens.header(tokens.moderator))
    assert reviews.status_code == 200
    [held] = reviews.json()  # one item although the comment arrived twice
    assert held["id"] == decisions[1].id
    assert held["comment_id"] == "2"
    assert held["categories"] == ["spam"]
    assert any(r.startswith("spam") for r in held["reasons"])
    for params, expected in [
        ({"category": "spam"}, 1),
        ({"category": "toxicity"}, 0),
        ({"language": "en"}, 1),
        ({"language": "fr"}, 0),
        ({"min_age_seconds": 3600}, 0),
        ({"max_age_seconds": 3600}, 1),
        ({"community": "guild"}, 1),
    ]:
        listed = await client.get("/v1/reviews", params=params, headers=Tokens.header(tokens.moderator))
        assert len(listed.json()) == expected, params
    assert (await client.get("/v1/reviews", headers=Tokens.header(tokens.moderator_elsewhere))).json() == []


async def test_two_moderators_deciding_the_same_item_get_one_winner(
    moderator: tuple[httpx.AsyncClient, Bus], tokens: Tokens
) -> None:
    client, bus = moderator
    await feed(bus, received(7, "subscribe to my channel"))
    [decision] = await read(bus, TOPICS["moderation.decided"], 1)
    review_id = decision.data.review_id
    first, second = await asyncio.gather(
        client.post(
            f"/v1/reviews/{review_id}/decision",
            json={"verdict": "remove", "reason": "spam"},
            headers=Tokens.header(tokens.moderator),
        ),
        client.post(
            f"/v1/reviews/{review_id}/decision",
            json={"verdict": "approve"},
            headers=Tokens.header(tokens.admin),
        ),
    )
    assert sorted([first.status_code, second.status_code]) == [200, 409]
    winner = first if first.status_code == 200 else second
    assert winner.json()["status"] == "decided"
    assert (await client.get("/v1/reviews", headers=Tokens.header(tokens.moderator))).json() == []
    bad = await client.post(
        f"/v1/reviews/{review_id}/decision",
        json={"verdict": "maybe"},
        headers=Tokens.header(tokens.moderator),
    )
    assert bad.status_code == 422
    missing = await client.post(
        "/v1/reviews/nope/decision", json={"verdict": "approve"}, headers=Tokens.header(tokens.moderator)
    )
    assert missing.status_code == 404

    [reviewed] = await read(bus, TOPICS["moderation.reviewed"], 1)
    assert reviewed.correlationid == "corr-7"
    assert reviewed.data.verdict == winner.json()["verdict"]
    if winner.json()["verdict"] == "remove":
        [action] = await read(bus, TOPICS["platform.action"], 1)
        assert action.data.kind == "delete"
        assert action.data.requested_by.startswith("reviewer:")


async def test_a_bad_policy_is_refused_and_the_old_one_stays(
    moderator: tuple[httpx.AsyncClient, Bus], tokens: Tokens
) -> None:
    client, _ = moderator
    admin = Tokens.header(tokens.admin)
    bad = {"thresholds": {"toxicity": {"review": 0.9, "hide": 0.2}}}
    refused = await client.put("/v1/policies/guild", json=bad, headers=admin)
    assert refused.status_code == 422
    assert "below" in refused.text
    bad_pattern = {
        "thresholds": {},
        "term_rules": [{"name": "x", "action": "hide", "patterns": ["(unclosed"]}],
    }
    assert (await client.put("/v1/policies/guild", json=bad_pattern, headers=admin)).status_code == 422
    current = await client.get("/v1/policies/guild", headers=Tokens.header(tokens.moderator))
    assert current.json()["live"]["version"] == "guild/live/1"
    assert current.json()["shadow"] is None
    as_moderator = await client.put(
        "/v1/policies/guild", json=TEST_POLICY.model_dump(), headers=Tokens.header(tokens.moderator)
    )
    assert as_moderator.status_code == 403


async def test_a_shadow_policy_is_recorded_beside_the_live_one_but_does_not_act(
    moderator: tuple[httpx.AsyncClient, Bus], tokens: Tokens
) -> None:
    client, bus = moderator
    candidate = {
        "thresholds": {"spam": {"review": 0.5}},
        "term_rules": [{"name": "no-bananas", "action": "remove", "terms": ["banana"], "languages": ["en"]}],
    }
    put = await client.put(
        "/v1/policies/guild", params={"mode": "shadow"}, json=candidate, headers=Tokens.header(tokens.admin)
    )
    assert put.status_code == 200
    assert put.json()["shadow"]["version"] == "guild/shadow/1"
    await feed(bus, received(11, "the b4n4nnna is the answer"))
    [decision] = await read(bus, TOPICS["moderation.decided"], 1)
    assert decision.data.action == Action.ALLOW
    assert decision.data.policy_version == "guild/live/1"
    assert decision.data.shadow.policy_version == "guild/shadow/1"
    assert decision.data.shadow.action == Action.REMOVE
    assert "no-bananas" in decision.data.shadow.reasons[0]
    assert await read(bus, TOPICS["platform.action"], 1, group="actions", attempts=15) == []


async def test_a_held_comment_shows_what_the_shadow_policy_would_have_done(
    moderator: tuple[httpx.AsyncClient, Bus], tokens: Tokens
) -> None:
    client, bus = moderator
    candidate = {"thresholds": {"spam": {"hide": 0.5}}}
    put = await client.put(
        "/v1/policies/guild", params={"mode": "shadow"}, json=candidate, headers=Tokens.header(tokens.admin)
    )
    assert put.status_code == 200
    await feed(bus, received(12, "subscribe to my channel"))
    [decision] = await read(bus, TOPICS["moderation.decided"], 1)
    assert decision.data.action == Action.REVIEW
    reviews = await client.get("/v1/reviews", headers=Tokens.header(tokens.moderator))
    [held] = reviews.json()
    assert held["shadow"] == {
        "policy_version": "guild/shadow/1",
        "action": "hide",
        "reasons": decision.data.shadow.reasons,
    }
    assert held["shadow"]["reasons"][0].startswith("spam 1.00 >= hide")


async def test_a_held_comment_without_a_shadow_policy_has_no_shadow(
    moderator: tuple[httpx.AsyncClient, Bus], tokens: Tokens
) -> None:
    client, bus = moderator
    await feed(bus, received(13, "subscribe to my channel"))
    await read(bus, TOPICS["moderation.decided"], 1)
    [held] = (await client.get("/v1/reviews", headers=Tokens.header(tokens.moderator))).json()
    assert held["shadow"] is None


def test_the_default_policy_follows_the_models_thresholds_and_holds_threat_phrases() -> None:
    policy = default_policy({"toxicity": {"en": 0.6, "fr": 0.76}, "threat": {"fr": 0.15}})
    assert policy.thresholds_for("toxicity", "en") == Thresholds(review=0.6, hide=0.84)
    assert policy.thresholds_for("toxicity", "fr").review == 0.76  # type: ignore[union-attr]
    # A language without its own threshold gets the strictest known one.
    assert policy.thresholds_for("toxicity", "und").review == 0.76  # type: ignore[union-attr]
    assert policy.thresholds_for("threat", "fr") == Thresholds(review=0.15, remove=0.66)
    assert decide(policy, scored("en", toxicity=0.7)).action is Action.REVIEW
    assert decide(policy, scored("fr", toxicity=0.7)).action is Action.ALLOW
    threat = decide(policy, scored("en"), "I will find you after school")
    assert threat.action is Action.REVIEW
    assert threat.reasons == ["rule 'threat-phrases' matched: 'i will find you'"]
    assert decide(policy, scored("fr"), "je vais te retrouver").action is Action.REVIEW
    # A phrase that only looks like a threat is held for a human, never removed by the rule alone.
    assert decide(policy, scored("en"), "I will find you a better deal").action is Action.REVIEW
    assert decide(policy, scored("en"), "you will find it on our site").action is Action.ALLOW
    assert default_policy(None) is DEFAULT_POLICY

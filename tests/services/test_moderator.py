from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from pydantic import ValidationError
from vigie_moderator.app import create_app
from vigie_moderator.domain.policies import StaticPolicies
from vigie_moderator.domain.policy import DEFAULT_POLICY, Policy, Thresholds, decide
from vigie_moderator.domain.scores import CATEGORIES, KeywordScorer, TextScores
from vigie_moderator.settings import ModeratorSettings
from vigie_shared.bus import decode, open_bus
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


@pytest.fixture
async def moderator(tmp_path: Path, tokens: Tokens) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    bus_url = f"sqlite:///{tmp_path}/bus.db"
    settings = ModeratorSettings(
        bus_url=bus_url,
        database_url=f"sqlite+aiosqlite:///{tmp_path}/moderator.db",
        api_tokens_file=tokens.path,
        environment="test",
    )
    policy = Policy(
        version="test-1",
        thresholds={
            "toxicity": Thresholds(review=0.5, hide=0.9),
            "threat": Thresholds(remove=0.5),
            "spam": Thresholds(review=0.5),
        },
    )
    app = create_app(settings, scorer=KeywordScorer(), policies=StaticPolicies(policy))
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(transport=httpx.ASGITransport(manager.app), base_url="http://moderator") as client,
    ):
        yield client, bus_url


async def test_score_endpoint_explains_and_guards(
    moderator: tuple[httpx.AsyncClient, str], tokens: Tokens
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
    assert set(body["results"][0]["scores"]) >= {*CATEGORIES, "sentiment"}
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


async def test_the_consumer_decides_and_queues_reviews_once_per_event(
    moderator: tuple[httpx.AsyncClient, str], tokens: Tokens
) -> None:
    client, bus_url = moderator
    bus = open_bus(bus_url, client_id="test")
    await bus.start()
    events = [
        received(1, "have a nice day"),
        received(2, "subscribe to my channel"),
        received(3, "I will kill you"),
    ]
    for event in [*events, events[1]]:  # the spam one is delivered twice
        await bus.publish(TOPICS["comment.received"], event.data.key(), event.body(), event.headers())
    consumer = bus.consumer("reader", [TOPICS["moderation.decided"]])
    await consumer.start()
    decided = []
    for _ in range(50):
        decided += await consumer.fetch(10, 0.2)
        if len(decided) >= 4:
            break
    await consumer.stop()
    await bus.close()
    decisions = [decode(m) for m in decided]
    assert [d.data.action for d in decisions] == [Action.ALLOW, Action.REVIEW, Action.REMOVE, Action.REVIEW]  # type: ignore[attr-defined]
    assert [d.correlationid for d in decisions] == ["corr-1", "corr-2", "corr-3", "corr-2"]
    assert decisions[1].id == decisions[3].id  # a redelivery re-publishes the same event
    assert all(d.data.policy_version == "test-1" for d in decisions)  # type: ignore[attr-defined]
    assert decisions[1].data.review_id == decisions[1].id  # type: ignore[attr-defined]

    reviews = await client.get("/v1/reviews", headers=Tokens.header(tokens.moderator))
    assert reviews.status_code == 200
    [held] = reviews.json()  # one item although the comment arrived twice
    assert held["id"] == decisions[1].id
    assert held["comment_id"] == "2"
    assert held["status"] == "pending"
    assert any(r.startswith("spam") for r in held["reasons"])

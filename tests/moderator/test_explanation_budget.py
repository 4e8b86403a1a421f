"""Explanations after the policy: only for comments it acts on, within a budget when behind."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from vigie_moderator.domain.explain import ExplanationBudget
from vigie_moderator.domain.policy import Policy, Thresholds
from vigie_moderator.domain.scores import ExplainingScorer, KeywordScorer, TextScores
from vigie_moderator.handlers import ModerationHandler
from vigie_shared.bus import Message
from vigie_shared.events import Envelope
from vigie_shared.events.v1 import TOPICS, Action, Author, CommentReceived, CommentRef, Platform


def test_without_a_backlog_everything_is_explained() -> None:
    budget = ExplanationBudget(0.0)
    assert budget.allows(10.0, backlog=False)


def test_with_a_backlog_explanations_get_their_share_of_scoring_time() -> None:
    budget = ExplanationBudget(0.1, cap=0.5)
    assert not budget.allows(0.01, backlog=True)  # no credit yet
    budget.grant(1.0)  # 0.1 s of credit
    assert budget.allows(0.08, backlog=True)
    assert budget.allows(0.08, backlog=True)  # the last one may overdraw...
    assert not budget.allows(0.01, backlog=True)  # ...and the next waits
    budget.grant(100.0)
    assert budget.credit == pytest.approx(0.5)  # capped: a quiet spell does not bank a burst


def test_a_negative_share_is_refused() -> None:
    with pytest.raises(ValueError, match="share"):
        ExplanationBudget(-0.1)


class ExplainingKeywords(KeywordScorer):
    """Keyword scores without terms; `explain` records what it was asked."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[tuple[str, list[str]]] = []

    def score_only(self, texts: Sequence[str]) -> list[TextScores]:
        return [TextScores(r.language, r.scores, {}) for r in self.score(texts)]

    def explanation_cost(self, text: str, categories: Sequence[str]) -> int:
        return len(text.split())

    def explain(
        self, texts: Sequence[str], scored: Sequence[TextScores], categories: Sequence[Sequence[str]]
    ) -> list[dict[str, list[str]]]:
        full = self.score(texts)
        self.asked += [(t, list(c)) for t, c in zip(texts, categories, strict=True)]
        return [{c: f.top_terms[c] for c in cs} for f, cs in zip(full, categories, strict=True)]


POLICY = Policy(
    version="t-1",
    thresholds={
        "toxicity": Thresholds(review=0.5),
        "threat": Thresholds(remove=0.5),
        "spam": Thresholds(review=0.5),
    },
)


class Policies:
    async def live(self, community: str) -> Policy:
        return POLICY

    async def shadow(self, community: str) -> Policy | None:
        return None


class Reviews:
    def __init__(self) -> None:
        self.rows: list[Any] = []

    async def add_if_absent(self, *rows: Any) -> None:
        self.rows += rows


class Publisher:
    source = "vigie/test"

    def __init__(self) -> None:
        self.events: list[Envelope[Any]] = []

    def envelope(self, data: Any, *, correlationid: str, id: str | None = None) -> Envelope[Any]:
        return Envelope[Any].wrap(data, source=self.source, correlationid=correlationid, id=id)

    async def publish_all(self, events: Sequence[Envelope[Any]]) -> None:
        self.events += events


def message(n: int, text: str) -> Message:
    now = datetime.now(UTC)
    event = Envelope.wrap(
        CommentReceived(
            comment=CommentRef(platform=Platform.DISCORD, community="g", thread_id="c", comment_id=str(n)),
            author=Author(pseudonym="psn_1"),
            text=text,
            created_at=now,
            received_at=now,
        ),
        source="vigie/test",
        correlationid=f"corr-{n}",
    )
    headers = {k: v.decode() for k, v in event.headers()}
    return Message(TOPICS["comment.received"], event.data.key(), event.body(), headers)


def handler(scorer: ExplainingKeywords, share: float, full_batch: int) -> tuple[ModerationHandler, Publisher]:
    publisher = Publisher()
    built = ModerationHandler(
        scorer,
        Policies(),  # type: ignore[arg-type]
        Reviews(),  # type: ignore[arg-type]
        publisher,  # type: ignore[arg-type]
        explain_share=share,
        full_batch=full_batch,
    )
    return built, publisher


def decided(publisher: Publisher) -> dict[str, Any]:
    return {e.data.comment.comment_id: e.data for e in publisher.events if e.type == "moderation.decided"}


async def test_only_comments_the_policy_acts_on_are_explained() -> None:
    scorer = ExplainingKeywords()
    assert isinstance(scorer, ExplainingScorer)
    moderation, publisher = handler(scorer, share=0.0, full_batch=64)
    await moderation.handle_batch([message(1, "have a nice day"), message(2, "you stupid idiot")])
    assert scorer.asked == [("you stupid idiot", ["toxicity"])]  # insult has no threshold here
    out = decided(publisher)
    assert out["1"].action is Action.ALLOW
    assert out["2"].action is Action.REVIEW
    assert "terms: idiot, stupid" in out["2"].reasons[0]


async def test_behind_with_no_budget_the_decision_stands_without_terms() -> None:
    scorer = ExplainingKeywords()
    moderation, publisher = handler(scorer, share=0.0, full_batch=2)
    await moderation.handle_batch([message(1, "you stupid idiot"), message(2, "I will kill you")])
    assert scorer.asked == []
    out = decided(publisher)
    assert out["1"].action is Action.REVIEW and "terms" not in out["1"].reasons[0]
    assert out["2"].action is Action.REMOVE


async def test_behind_the_most_severe_decision_is_explained_first() -> None:
    scorer = ExplainingKeywords()
    # A large share: the first explanation is affordable whatever the scoring took; it overdraws.
    moderation, publisher = handler(scorer, share=1e6, full_batch=2)
    moderation._budget.cap = 1e-9
    await moderation.handle_batch([message(1, "you stupid idiot"), message(2, "I will kill you")])
    assert [t for t, _ in scorer.asked] == ["I will kill you"]
    assert "terms: kill" in decided(publisher)["2"].reasons[0]

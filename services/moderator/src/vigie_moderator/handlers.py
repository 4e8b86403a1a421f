"""Consumes `comment.received`, scores in batches, applies the policy, publishes `moderation.decided`."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import structlog
from vigie_shared.bus import EventPublisher, Message, decode
from vigie_shared.events import Envelope, EventData, event_id_for
from vigie_shared.events.v1 import Action, CommentChange, CommentReceived, ModerationDecided

from vigie_moderator.adapters.store import ReviewRow, ReviewStore, now
from vigie_moderator.domain.policies import PolicySource
from vigie_moderator.domain.policy import decide
from vigie_moderator.domain.scores import Scorer, TextScores

log = structlog.get_logger("vigie.moderator")


class ModerationHandler:
    def __init__(
        self,
        scorer: Scorer,
        policies: PolicySource,
        reviews: ReviewStore,
        publisher: EventPublisher,
    ) -> None:
        self._scorer = scorer
        self._policies = policies
        self._reviews = reviews
        self._publisher = publisher

    async def handle(self, message: Message) -> None:
        await self.handle_batch([message])

    async def handle_batch(self, messages: Sequence[Message]) -> None:
        comments: list[Envelope[EventData]] = []
        for message in messages:
            event = decode(message)
            if (
                isinstance(event.data, CommentReceived)
                and event.data.change is not CommentChange.DELETED
            ):
                comments.append(event)
        if not comments:
            return
        texts = [event.data.text for event in comments]  # type: ignore[attr-defined]
        # onnxruntime releases the GIL: scoring in a thread keeps the HTTP side answering.
        scored = await asyncio.to_thread(self._scorer.score, texts)
        for event, scores in zip(comments, scored, strict=True):
            assert isinstance(event.data, CommentReceived)
            await self._decide(event, event.data, scores)

    async def _decide(
        self, event: Envelope[EventData], comment: CommentReceived, scores: TextScores
    ) -> None:
        policy = await self._policies.live(comment.comment.community)
        decision = decide(policy, scores)
        # Derived from the incoming event id, so a redelivery re-publishes the same event.
        decided_id = event_id_for("moderation.decided", event.id)
        review_id = decided_id if decision.action is Action.REVIEW else None
        if review_id is not None:
            await self._reviews.add_if_absent(
                ReviewRow(
                    id=review_id,
                    platform=comment.comment.platform.value,
                    community=comment.comment.community,
                    thread_id=comment.comment.thread_id,
                    comment_id=comment.comment.comment_id,
                    correlation_id=event.correlationid,
                    author_pseudonym=comment.author.pseudonym,
                    text=comment.text,
                    language=scores.language,
                    scores=dict(scores.scores),
                    reasons=decision.reasons,
                    policy_version=decision.policy_version,
                    status="pending",
                    created_at=now(),
                )
            )
        decided = ModerationDecided(
            comment=comment.comment,
            author=comment.author,
            text=comment.text,
            language=scores.language,
            scores={k: round(v, 4) for k, v in scores.scores.items()},
            action=decision.action,
            reasons=decision.reasons,
            policy_version=decision.policy_version,
            model_versions=dict(self._scorer.model_versions),
            review_id=review_id,
        )
        await self._publisher.publish(
            self._publisher.envelope(decided, correlationid=event.correlationid, id=decided_id)
        )
        log.info("comment_decided", action=decision.action.value, language=scores.language)

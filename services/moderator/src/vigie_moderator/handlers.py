"""Consumes `comment.received`, scores in batches, applies the policies, publishes what follows.

For each comment: `moderation.decided` (with the shadow policy's verdict beside the live one), a
review-queue entry when the live policy holds it, and a `platform.action` request when it hides or
removes it. Every id derives from the incoming event id, so a redelivery repeats the same events.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import structlog
from vigie_shared.bus import EventPublisher, Message, decode
from vigie_shared.events import Envelope, EventData, event_id_for
from vigie_shared.events.v1 import (
    Action,
    CommentChange,
    CommentReceived,
    Keyed,
    ModerationDecided,
    PlatformAction,
    PlatformActionKind,
    PlatformActionStatus,
    ShadowDecision,
)

from vigie_moderator.adapters.store import ReviewRow, ReviewStore, now
from vigie_moderator.domain.policies import PolicySource
from vigie_moderator.domain.policy import Policy, decide
from vigie_moderator.domain.scores import Scorer, TextScores
from vigie_moderator.metrics import ModeratorMetrics

log = structlog.get_logger("vigie.moderator")

PLATFORM_ACTIONS = {Action.HIDE: PlatformActionKind.HIDE, Action.REMOVE: PlatformActionKind.DELETE}


class ModerationHandler:
    def __init__(
        self,
        scorer: Scorer,
        policies: PolicySource,
        reviews: ReviewStore,
        publisher: EventPublisher,
        metrics: ModeratorMetrics | None = None,
    ) -> None:
        self._metrics = metrics
        self._scorer = scorer
        self._policies = policies
        self._reviews = reviews
        self._publisher = publisher

    async def handle(self, message: Message) -> None:
        await self.handle_batch([message])

    async def handle_batch(self, messages: Sequence[Message]) -> None:
        comments: list[tuple[Envelope[EventData], CommentReceived]] = []
        for message in messages:
            event = decode(message)
            if isinstance(event.data, CommentReceived) and event.data.change is not CommentChange.DELETED:
                comments.append((event, event.data))
        if not comments:
            return
        # onnxruntime releases the GIL: scoring in a thread keeps the HTTP side answering.
        started = time.perf_counter()
        scored = await asyncio.to_thread(self._scorer.score, [c.text for _, c in comments])
        if self._metrics is not None:
            self._metrics.inference.observe(time.perf_counter() - started)
            self._metrics.batch_size.observe(len(comments))
        policies: dict[str, tuple[Policy, Policy | None]] = {}
        reviews: list[ReviewRow] = []
        outgoing: list[Envelope[Keyed]] = []
        for (event, comment), scores in zip(comments, scored, strict=True):
            community = comment.comment.community
            if community not in policies:
                policies[community] = (
                    await self._policies.live(community),
                    await self._policies.shadow(community),
                )
            live, candidate = policies[community]
            with structlog.contextvars.bound_contextvars(
                event_id=event.id, correlation_id=event.correlationid
            ):
                review, events = self._decide(event, comment, scores, live, candidate)
            if review is not None:
                reviews.append(review)
            outgoing += events
        # The queue entries are durable before the decisions that point at them are announced.
        await self._reviews.add_if_absent(*reviews)
        await self._publisher.publish_all(outgoing)

    def _decide(
        self,
        event: Envelope[EventData],
        comment: CommentReceived,
        scores: TextScores,
        policy: Policy,
        candidate: Policy | None,
    ) -> tuple[ReviewRow | None, list[Envelope[Keyed]]]:
        decision = decide(policy, scores, comment.text, comment.author.pseudonym)
        if self._metrics is not None:
            self._metrics.decided(decision.action.value, decision.categories, scores.language)
        shadow = None
        if candidate is not None:
            tried = decide(candidate, scores, comment.text, comment.author.pseudonym)
            shadow = ShadowDecision(
                policy_version=tried.policy_version, action=tried.action, reasons=tried.reasons
            )
        decided_id = event_id_for("moderation.decided", event.id)
        review_id = decided_id if decision.action is Action.REVIEW else None
        review = None
        if review_id is not None:
            review = ReviewRow(
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
                categories=decision.categories,
                policy_version=decision.policy_version,
                shadow=shadow.model_dump(mode="json") if shadow is not None else None,
                status="pending",
                created_at=now(),
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
            shadow=shadow,
            review_id=review_id,
            embedding=scores.embedding,
        )
        events: list[Envelope[Keyed]] = [
            self._publisher.envelope(decided, correlationid=event.correlationid, id=decided_id)
        ]
        kind = PLATFORM_ACTIONS.get(decision.action)
        if kind is not None:
            action_id = event_id_for("platform.action", decided_id)
            events.append(
                self._publisher.envelope(
                    PlatformAction(
                        comment=comment.comment,
                        action_id=action_id,
                        kind=kind,
                        status=PlatformActionStatus.REQUESTED,
                        requested_by=decision.policy_version,
                        at=now(),
                    ),
                    correlationid=event.correlationid,
                    id=action_id,
                )
            )
        log.info(
            "comment_decided",
            action=decision.action.value,
            shadow_action=shadow.action.value if shadow else None,
            language=scores.language,
        )
        return review, events

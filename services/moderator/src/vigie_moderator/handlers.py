"""Consumes `comment.received`, scores in batches, applies the policies, publishes what follows.

For each comment: `moderation.decided` (with the shadow policy's verdict beside the live one), a
review-queue entry when the live policy holds it, and a `platform.action` request when it hides or
removes it. Every id derives from the incoming event id, so a redelivery repeats the same events.

Explanations (the words behind a score) cost an encoder pass per word with `ExplainingScorer`: they
are computed after the policy, only for comments it does not allow, within `ExplanationBudget` when
the consumer is behind.
"""

from __future__ import annotations

import asyncio
import dataclasses
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
from vigie_moderator.domain.explain import ExplanationBudget
from vigie_moderator.domain.policies import PolicySource
from vigie_moderator.domain.policy import SEVERITY, Policy, decide
from vigie_moderator.domain.scores import CATEGORIES, ExplainingScorer, Scorer, TextScores
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
        *,
        explain_share: float = 0.05,
        full_batch: int = 64,
    ) -> None:
        self._metrics = metrics
        self._budget = ExplanationBudget(explain_share)
        # A batch this large means more comments are waiting: the budget applies.
        self._full_batch = full_batch
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
        texts = [c.text for _, c in comments]
        scorer = self._scorer
        started = time.perf_counter()
        if isinstance(scorer, ExplainingScorer):
            scored = await asyncio.to_thread(scorer.score_only, texts)
        else:
            scored = await asyncio.to_thread(scorer.score, texts)
        elapsed = time.perf_counter() - started
        if self._metrics is not None:
            self._metrics.inference.observe(elapsed)
            self._metrics.batch_size.observe(len(comments))
        policies: dict[str, tuple[Policy, Policy | None]] = {}
        for _, comment in comments:
            community = comment.comment.community
            if community not in policies:
                policies[community] = (
                    await self._policies.live(community),
                    await self._policies.shadow(community),
                )
        if isinstance(scorer, ExplainingScorer):
            scored = await self._explain(
                scorer, comments, scored, policies, elapsed, backlog=len(messages) >= self._full_batch
            )
        reviews: list[ReviewRow] = []
        outgoing: list[Envelope[Keyed]] = []
        for (event, comment), scores in zip(comments, scored, strict=True):
            live, candidate = policies[comment.comment.community]
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

    async def _explain(
        self,
        scorer: ExplainingScorer,
        comments: Sequence[tuple[Envelope[EventData], CommentReceived]],
        scored: list[TextScores],
        policies: dict[str, tuple[Policy, Policy | None]],
        scoring_seconds: float,
        *,
        backlog: bool,
    ) -> list[TextScores]:
        """`scored` with the words behind the categories that made the live policy act."""
        wanted: list[tuple[int, int, list[str]]] = []
        for i, ((_, comment), scores) in enumerate(zip(comments, scored, strict=True)):
            live, _ = policies[comment.comment.community]
            decision = decide(live, scores, comment.text, comment.author.pseudonym)
            categories = [c for c in decision.categories if c in CATEGORIES]
            if categories:
                wanted.append((SEVERITY.index(decision.action), i, categories))
        if not wanted:
            return scored
        self._budget.grant(scoring_seconds)
        per_pass = scoring_seconds / len(comments)
        chosen: list[tuple[int, list[str]]] = []
        # Most severe first: a removal's reasons matter more than a hold's.
        for _, i, categories in sorted(wanted, key=lambda w: -w[0]):
            cost = scorer.explanation_cost(comments[i][1].text, categories) * per_pass
            if self._budget.allows(cost, backlog=backlog):
                chosen.append((i, categories))
        if self._metrics is not None:
            self._metrics.explanations.labels(outcome="explained").inc(len(chosen))
            self._metrics.explanations.labels(outcome="over_budget").inc(len(wanted) - len(chosen))
        if not chosen:
            return scored
        terms = await asyncio.to_thread(
            scorer.explain,
            [comments[i][1].text for i, _ in chosen],
            [scored[i] for i, _ in chosen],
            [categories for _, categories in chosen],
        )
        out = list(scored)
        for (i, _), found in zip(chosen, terms, strict=True):
            out[i] = dataclasses.replace(scored[i], top_terms={**scored[i].top_terms, **found})
        return out

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

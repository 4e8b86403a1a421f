"""A second consumer of the audit service: turns events into the text-free facts the reports read.

It runs in its own consumer group beside the audit log's, so the log and the facts advance and
commit independently, and neither depends on the other's storage format. The text of a decided
comment is read once, here, to find which identity groups it mentions (only the group ids are
kept) and its content words for topic labels (kept with the comment's embedding in
`report_topics`, the one facts table that holds personal data, erased and purged with the texts).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from datetime import UTC, datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine
from vigie_shared.bus import Bus, ConsumerLoop, Message, decode
from vigie_shared.events.v1 import (
    TOPICS,
    CommentChange,
    CommentReceived,
    ModerationDecided,
    ModerationReviewed,
    ReplyPublished,
    ReplyReviewed,
    ReviewVerdict,
)
from vigie_shared.metrics import ServiceMetrics
from vigie_shared.privacy import subject
from vigie_shared.service import BusRuntime

from vigie_audit.adapters.facts import (
    CommentFact,
    DecisionFact,
    ReportFacts,
    TopicFact,
    Upsert,
    WorkFact,
    encode_groups,
    encode_words,
)
from vigie_audit.domain.bias import Verdict
from vigie_audit.domain.identity_lexicon import IdentityLexicon
from vigie_audit.domain.topics import topic_words
from vigie_audit.settings import AuditSettings

log = structlog.get_logger("vigie.audit.reports")

FACT_EVENTS = (
    "comment.received",
    "moderation.decided",
    "moderation.reviewed",
    "reply.reviewed",
    "reply.published",
)
FACT_TOPICS = tuple(dict.fromkeys(TOPICS[event_type] for event_type in FACT_EVENTS))

VERDICTS = {ReviewVerdict.REMOVE: Verdict.HARMFUL, ReviewVerdict.APPROVE: Verdict.ACCEPTABLE}


def utc(moment: datetime) -> datetime:
    """Facts are stored in UTC: SQLite keeps the wall time without its offset."""
    return moment.astimezone(UTC)


def moderator_pseudonym(key: bytes, reviewer: str) -> str:
    return "mod_" + hmac.new(key, reviewer.encode(), hashlib.sha256).hexdigest()[:12]


class FactExtractor:
    """Event in, partial rows out. No I/O, so it is tested without a database."""

    def __init__(self, *, harm_scores: Sequence[str], moderator_key: bytes, lexicon: IdentityLexicon) -> None:
        self._harm_scores = tuple(harm_scores)
        self._key = moderator_key
        self._lexicon = lexicon

    def facts(self, message: Message) -> list[Upsert]:
        event = decode(message)
        data = event.data
        if isinstance(data, ModerationDecided):
            return [self._decided(event.id, event.time, data), *self._topic(event.id, event.time, data)]
        if isinstance(data, ModerationReviewed):
            return self._reviewed(event.id, data)
        if isinstance(data, CommentReceived):
            return self._received(event.correlationid, data)
        if isinstance(data, ReplyReviewed):
            return [self._work(event.id, data.comment.community, "reply", data.reviewer, data.reviewed_at)]
        if isinstance(data, ReplyPublished):
            return [
                Upsert(
                    CommentFact,
                    {
                        "correlation_id": event.correlationid,
                        "community": data.comment.community,
                        "platform": data.comment.platform.value,
                        "first_reply_at": utc(data.published_at),
                    },
                )
            ]
        return []

    def _decided(self, event_id: str, at: datetime, data: ModerationDecided) -> Upsert:
        harm = [data.scores[name] for name in self._harm_scores if name in data.scores]
        return Upsert(
            DecisionFact,
            {
                "decision_id": event_id,
                "community": data.comment.community,
                "platform": data.comment.platform.value,
                "decided_at": utc(at),
                "language": data.language[:16],
                "identity_groups": encode_groups(self._lexicon.mentions(data.text)),
                "action": data.action.value,
                "policy_version": data.policy_version[:128],
                "shadow_action": data.shadow.action.value if data.shadow else None,
                "shadow_policy_version": data.shadow.policy_version[:128] if data.shadow else None,
                "harm_score": max(harm, default=0.0),
                "sentiment": data.scores.get("sentiment"),
            },
        )

    def _topic(self, event_id: str, at: datetime, data: ModerationDecided) -> list[Upsert]:
        """Only with an embedding: without one there is nothing to cluster the words by."""
        if data.embedding is None:
            return []
        return [
            Upsert(
                TopicFact,
                {
                    "decision_id": event_id,
                    "community": data.comment.community,
                    "subject": subject(data.comment.platform.value, data.author.pseudonym),
                    "decided_at": utc(at),
                    "language": data.language[:16],
                    "encoder": data.embedding.encoder,
                    "vector": base64.b64decode(data.embedding.float16, validate=True),
                    "words": encode_words(topic_words(data.text)),
                },
            )
        ]

    def _reviewed(self, event_id: str, data: ModerationReviewed) -> list[Upsert]:
        verdict = Upsert(
            DecisionFact,
            {
                # The moderator names the review after the decision event, so both land on one row.
                "decision_id": data.review_id,
                "community": data.comment.community,
                "platform": data.comment.platform.value,
                "verdict": VERDICTS[data.verdict].value,
                "reviewed_at": utc(data.decided_at),
            },
        )
        work = self._work(event_id, data.comment.community, "review", data.reviewer, data.decided_at)
        return [verdict, work]

    def _received(self, correlation_id: str, data: CommentReceived) -> list[Upsert]:
        if data.change is not CommentChange.CREATED:
            return []
        return [
            Upsert(
                CommentFact,
                {
                    "correlation_id": correlation_id,
                    "community": data.comment.community,
                    "platform": data.comment.platform.value,
                    "created_at": utc(data.created_at),
                    "received_at": utc(data.received_at),
                },
            )
        ]

    def _work(self, event_id: str, community: str, kind: str, reviewer: str, at: datetime) -> Upsert:
        return Upsert(
            WorkFact,
            {
                "event_id": event_id,
                "community": community,
                "kind": kind,
                "moderator": moderator_pseudonym(self._key, reviewer),
                "at": utc(at),
            },
        )


class ReportFactsHandler:
    def __init__(self, facts: ReportFacts, extractor: FactExtractor) -> None:
        self._facts = facts
        self._extractor = extractor

    async def handle(self, message: Message) -> None:
        await self.handle_batch([message])

    async def handle_batch(self, messages: Sequence[Message]) -> None:
        """One transaction per batch; a record that does not decode fails the batch and the loop
        replays it singly, dead-lettering only that record (as the audit log's handler does)."""
        upserts = [upsert for message in messages for upsert in self._extractor.facts(message)]
        await self._facts.apply(upserts)
        log.debug("report_facts_written", records=len(messages), rows=len(upserts))


def start_reports(
    runtime: BusRuntime, engine: AsyncEngine, settings: AuditSettings, metrics: ServiceMetrics
) -> ReportFacts:
    """Called from the audit lifespan: the facts store, and its consumer in the runtime's loops
    (so readiness covers it and shutdown stops it)."""
    facts = ReportFacts(engine)
    extractor = FactExtractor(
        harm_scores=settings.reports.harm_scores,
        moderator_key=settings.reports.moderator_key.get_secret_value().encode(),
        lexicon=IdentityLexicon(),
    )
    runtime.loops.append(
        start_facts_consumer(
            runtime.bus, ReportFactsHandler(facts, extractor), group=settings.group, metrics=metrics
        )
    )
    return facts


def start_facts_consumer(
    bus: Bus, handler: ReportFactsHandler, *, group: str, metrics: ServiceMetrics
) -> ConsumerLoop:
    loop = ConsumerLoop(
        bus,
        group=f"{group}-reports",
        topics=list(FACT_TOPICS),
        handler=handler.handle,
        batch_handler=handler.handle_batch,
        metrics=metrics,
        max_records=256,
    )
    loop.start()
    return loop

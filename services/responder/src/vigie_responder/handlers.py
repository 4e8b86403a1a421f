"""Consumers of the responder.

`moderation.decided` becomes a draft for comments that want a reply. `platform.action` requests and
`reply.reviewed` verdicts become platform jobs; a verdict given through this service's own API has
already created its job in the verdict's transaction, so its event finds the job there (same id).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import structlog
from vigie_shared.bus import EventPublisher, Message, decode
from vigie_shared.events import Envelope, EventData, event_id_for
from vigie_shared.events.v1 import (
    DraftSource,
    ModerationDecided,
    PlatformAction,
    PlatformActionStatus,
    ReplyDrafted,
    ReplyReviewed,
    ReplyVerdict,
)
from vigie_shared.redact import redact_text

from vigie_responder.adapters.store import DraftNotFound, DraftRow, DraftStatus, DraftStore, JobRow
from vigie_responder.domain.drafting import draft_for, wants_reply
from vigie_responder.drafter import Drafted, Drafter

log = structlog.get_logger("vigie.responder")


def draft_id_for(decision: ModerationDecided) -> str:
    """One draft per comment: a redelivered or repeated decision finds the draft already there."""
    ref = decision.comment
    return event_id_for("draft", ref.platform.value, ref.community, ref.comment_id)


class DraftingHandler:
    """Drafts a reply for each decided comment a reply helps; a batch shares one embedding pass."""

    def __init__(
        self,
        drafts: DraftStore,
        publisher: EventPublisher,
        drafter: Drafter | None,
        *,
        redaction_key: bytes | None = None,
    ) -> None:
        self._redaction_key = redaction_key
        self._drafts = drafts
        self._publisher = publisher
        self._drafter = drafter

    async def handle(self, message: Message) -> None:
        await self.handle_batch([message])

    async def handle_batch(self, messages: Sequence[Message]) -> None:
        decided: list[tuple[Envelope[EventData], ModerationDecided]] = []
        for message in messages:
            event = decode(message)
            if isinstance(event.data, ModerationDecided):
                decided.append((event, event.data))
        if not decided:
            return
        if self._drafter is not None:
            made = await self._drafter.draft_all([d for _, d in decided])
        else:
            made = [Drafted(draft_for(d), {}) if wants_reply(d) else None for _, d in decided]
        rows: list[DraftRow] = []
        for (event, decision), drafted in zip(decided, made, strict=True):
            if drafted is None:
                continue
            ref = decision.comment
            draft = drafted.draft
            rows.append(
                DraftRow(
                    id=draft_id_for(decision),
                    platform=ref.platform.value,
                    community=ref.community,
                    thread_id=ref.thread_id,
                    comment_id=ref.comment_id,
                    correlation_id=event.correlationid,
                    # Contact and payment details never reach the table; the drafter read them in memory.
                    comment_text=redact_text(decision.text, self._redaction_key) or "",
                    author_pseudonym=decision.author.pseudonym,
                    language=draft.language,
                    text=draft.text,
                    source=draft.source.value,
                    status=DraftStatus.PENDING.value,
                    created_at=datetime.now(UTC),
                    intent=draft.intent.value,
                    kb_entry_id=draft.kb_entry_id,
                    kb_score=draft.kb_score,
                    needs_translation=draft.needs_translation,
                    provenance=drafted.provenance,
                )
            )
        if not rows:
            return
        await self._drafts.add_many_if_absent(rows)
        # A redelivery re-announces what is stored, not what was just drafted (the same, unless the
        # base changed in between): one draft per comment, one story on the topic.
        stored = await self._drafts.get_many([row.id for row in rows])
        events = []
        for row in rows:
            current = stored[row.id]
            events.append(
                self._publisher.envelope(
                    ReplyDrafted(
                        comment=current.comment_ref(),
                        draft_id=current.id,
                        text=current.text,
                        source=DraftSource(current.source),
                        language=current.language,
                        intent=current.intent,
                        kb_entry_id=current.kb_entry_id,
                    ),
                    correlationid=current.correlation_id,
                    id=event_id_for("reply.drafted", current.id),
                )
            )
        await self._publisher.publish_all(events)
        for row in rows:
            log.info("draft_stored", source=row.source, language=row.language, intent=row.intent)


class JobsHandler:
    """Turns requests for platform work into jobs; the dispatcher carries them out."""

    def __init__(self, drafts: DraftStore, on_jobs: Callable[[], None] | None = None) -> None:
        self._drafts = drafts
        self._on_jobs = on_jobs

    async def handle(self, message: Message) -> None:
        await self.handle_batch([message])

    async def handle_batch(self, messages: Sequence[Message]) -> None:
        jobs: list[JobRow] = []
        for message in messages:
            event = decode(message)
            data = event.data
            if isinstance(data, PlatformAction) and data.status is PlatformActionStatus.REQUESTED:
                jobs.append(JobRow.for_action(data, event.correlationid))
            elif isinstance(data, ReplyReviewed) and data.verdict is not ReplyVerdict.REJECTED:
                job = await self._reply_job(data)
                if job is not None:
                    jobs.append(job)
        if jobs:
            await self._drafts.add_jobs_if_absent(jobs)
            if self._on_jobs is not None:
                self._on_jobs()

    async def _reply_job(self, verdict: ReplyReviewed) -> JobRow | None:
        try:
            draft = await self._drafts.get(verdict.draft_id)
        except DraftNotFound:
            # A verdict on a draft this responder never made (another deployment's): not ours to post.
            log.warning("verdict_for_unknown_draft")
            return None
        if draft.verdict is None:
            return None
        return JobRow.for_reply(draft)

"""Consumes `moderation.decided`; stores a draft for comments that want a reply and announces it."""

from __future__ import annotations

from datetime import UTC, datetime

import structlog
from vigie_shared.bus import EventPublisher, Message, decode
from vigie_shared.events import event_id_for
from vigie_shared.events.v1 import DraftSource, ModerationDecided, ReplyDrafted

from vigie_responder.adapters.store import DraftRow, DraftStatus, DraftStore
from vigie_responder.domain.drafting import draft_for, wants_reply

log = structlog.get_logger("vigie.responder")


def draft_id_for(decision: ModerationDecided) -> str:
    """One draft per comment: a redelivered or repeated decision finds the draft already there."""
    ref = decision.comment
    return event_id_for("draft", ref.platform.value, ref.community, ref.comment_id)


class DraftingHandler:
    def __init__(self, drafts: DraftStore, publisher: EventPublisher) -> None:
        self._drafts = drafts
        self._publisher = publisher

    async def handle(self, message: Message) -> None:
        event = decode(message)
        decision = event.data
        if not isinstance(decision, ModerationDecided) or not wants_reply(decision):
            return
        draft = draft_for(decision)
        draft_id = draft_id_for(decision)
        ref = decision.comment
        await self._drafts.add_if_absent(
            DraftRow(
                id=draft_id,
                platform=ref.platform.value,
                community=ref.community,
                thread_id=ref.thread_id,
                comment_id=ref.comment_id,
                correlation_id=event.correlationid,
                comment_text=decision.text,
                author_pseudonym=decision.author.pseudonym,
                language=draft.language,
                text=draft.text,
                source=draft.source.value,
                status=DraftStatus.PENDING.value,
                created_at=datetime.now(UTC),
            )
        )
        stored = await self._drafts.get(draft_id)
        await self._publisher.publish(
            self._publisher.envelope(
                ReplyDrafted(
                    comment=ref,
                    draft_id=draft_id,
                    text=stored.text,
                    source=DraftSource(stored.source),
                    language=stored.language,
                ),
                correlationid=event.correlationid,
                id=event_id_for("reply.drafted", draft_id),
            )
        )
        log.info("draft_stored", source=stored.source, language=stored.language)

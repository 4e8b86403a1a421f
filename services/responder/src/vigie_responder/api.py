"""Moderators read drafts and approve, edit or reject them; the verdict is published as `reply.reviewed`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import DBAPIError
from vigie_shared.auth import Principal, Role, require
from vigie_shared.bus import EventPublisher
from vigie_shared.events import Envelope, event_id_for
from vigie_shared.events.v1 import Keyed, Platform, ReplyReviewed, ReplyVerdict
from vigie_shared.privacy import AccessRecorder, subject
from vigie_shared.service import PublisherDep

from vigie_responder.adapters.store import (
    DraftAlreadyReviewed,
    DraftNotFound,
    DraftRow,
    DraftStatus,
    DraftStore,
    JobRow,
)
from vigie_responder.dispatcher import PlatformDirectory

router = APIRouter(prefix="/v1/drafts", tags=["drafts"])
Moderator = Annotated[Principal, Depends(require(Role.MODERATOR))]


def get_drafts(request: Request) -> DraftStore:
    drafts: DraftStore = request.app.state.drafts
    return drafts


DraftsDep = Annotated[DraftStore, Depends(get_drafts)]
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such draft (or not one of the token's communities)"}
}
REVIEW_ANSWERS: dict[int | str, dict[str, Any]] = {
    **NOT_FOUND,
    409: {"description": "the draft was already reviewed"},
    422: {"description": "invalid body, or an edit too long for the platform (the limit is named)"},
    503: {"description": "database unavailable, nothing was changed; retry later"},
}


class Delivery(BaseModel):
    """What became of an approved draft on the platform."""

    status: str = Field(description="pending, published or failed")
    platform_reply_id: str | None = None
    reason: str | None = Field(default=None, description="why it failed, e.g. no_credentials")
    delivered_at: datetime | None = None


class DraftOut(BaseModel):
    id: str
    platform: str
    community: str
    thread_id: str
    comment_id: str
    comment_text: str
    language: str
    text: str
    source: str
    status: str = Field(description="pending, approved, edited, rejected, then published or failed")
    verdict: str | None = Field(default=None, description="approved, edited or rejected")
    kb_entry_id: str | None = None
    kb_score: float | None = None
    intent: str | None = Field(default=None, description="question, complaint, request or praise")
    needs_translation: bool = Field(
        default=False,
        description="the entry has no answer in the comment's language and no LLM translated it",
    )
    provenance: dict[str, Any] | None = Field(
        default=None, description="why the draft exists: intent, entry and score, template, models, LLM"
    )
    created_at: datetime
    reviewed_at: datetime | None
    reviewer: str | None
    final_text: str | None
    reject_reason: str | None
    platform_reply_id: str | None = None
    reason: str | None = Field(default=None, description="why delivery failed, or why it was rejected")
    delivery: Delivery | None = None
    reply_limit: int | None = Field(
        default=None, description="the longest reply the comment's platform takes in its community"
    )

    @classmethod
    def of(cls, row: DraftRow, reply_limit: int | None = None) -> DraftOut:
        delivery = None
        if row.verdict in (DraftStatus.APPROVED, DraftStatus.EDITED):
            delivery = Delivery(
                status=row.status if row.status in DELIVERED else "pending",
                platform_reply_id=row.platform_reply_id,
                reason=row.delivery_reason,
                delivered_at=row.delivered_at,
            )
        out = cls.model_validate(row, from_attributes=True)
        return out.model_copy(
            update={
                "delivery": delivery,
                "reason": row.delivery_reason or row.reject_reason,
                "reply_limit": reply_limit,
            }
        )


DELIVERED = frozenset({DraftStatus.PUBLISHED.value, DraftStatus.FAILED.value})


class ApproveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(
        default=None,
        min_length=1,
        max_length=10_000,
        description="edited reply; omit to approve as drafted",
    )


class RejectBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2_000)


async def _accessible(drafts: DraftStore, draft_id: str, principal: Principal) -> DraftRow:
    try:
        row = await drafts.get(draft_id)
    except DraftNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such draft") from None
    if not principal.can_access(row.community):
        # Same answer as a missing draft: a token limited to some communities learns nothing of others.
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such draft")
    return row


@router.get("", summary="Reply drafts, oldest first")
async def list_drafts(
    request: Request,
    principal: Moderator,
    drafts: DraftsDep,
    draft_status: Annotated[DraftStatus | None, Query(alias="status")] = DraftStatus.PENDING,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DraftOut]:
    rows = await drafts.find(
        status=draft_status.value if draft_status else None,
        communities=principal.community_filter(),
        limit=limit,
    )
    await record_read(request, principal, "/v1/drafts", rows)
    return [DraftOut.of(row, reply_limit(request, row)) for row in rows]


@router.get("/{draft_id}", summary="One draft", responses=NOT_FOUND)
async def get_draft(request: Request, draft_id: str, principal: Moderator, drafts: DraftsDep) -> DraftOut:
    row = await _accessible(drafts, draft_id, principal)
    await record_read(request, principal, "/v1/drafts/{draft_id}", [row])
    return DraftOut.of(row, reply_limit(request, row))


async def record_read(request: Request, principal: Principal, route: str, rows: list[DraftRow]) -> None:
    """Drafts show comment texts: who looked at whose is kept in audit's access log."""
    recorder: AccessRecorder | None = getattr(request.app.state, "access", None)
    if recorder is None or not rows:
        return
    await recorder.record(
        principal=principal.name,
        route=route,
        purpose="reply drafts",
        subjects=[subject(row.platform, row.author_pseudonym) for row in rows if row.author_pseudonym],
        records=len(rows),
    )


def reply_limit(request: Request, row: DraftRow) -> int | None:
    """The longest reply the comment's platform takes in its community, when a client is configured."""
    directory: PlatformDirectory | None = getattr(request.app.state, "platforms", None)
    if directory is None:
        return None
    platform = Platform(row.platform)
    client = directory.client(platform)
    if client is None:
        return None
    return client.max_reply_length(directory.credentials(platform, row.community))


async def _review(
    request: Request,
    draft_id: str,
    principal: Principal,
    drafts: DraftStore,
    publisher: EventPublisher,
    *,
    verdict: ReplyVerdict,
    final_text: str | None,
    reason: str | None,
) -> DraftOut:
    current = await _accessible(drafts, draft_id, principal)
    if final_text is not None:
        limit = reply_limit(request, current)
        if limit is not None and len(final_text) > limit:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                f"reply is {len(final_text)} characters; {current.platform} takes at most {limit}",
            )

    def announce(row: DraftRow) -> list[Envelope[Keyed]]:
        event = ReplyReviewed(
            comment=row.comment_ref(),
            draft_id=row.id,
            verdict=verdict,
            final_text=row.final_text,
            reason=reason,
            reviewer=principal.name,
            reviewed_at=row.reviewed_at or datetime.now(UTC),
        )
        return [
            publisher.envelope(
                event, correlationid=row.correlation_id, id=event_id_for("reply.reviewed", row.id)
            )
        ]

    status_for = {
        ReplyVerdict.APPROVED: DraftStatus.APPROVED,
        ReplyVerdict.EDITED: DraftStatus.EDITED,
        ReplyVerdict.REJECTED: DraftStatus.REJECTED,
    }
    try:
        row = await drafts.review(
            draft_id,
            status=status_for[verdict],
            reviewer=principal.name,
            final_text=final_text,
            reason=reason,
            announce=announce,
            job=JobRow.for_reply if verdict is not ReplyVerdict.REJECTED else lambda _row: None,
        )
    except DraftAlreadyReviewed as done:
        raise HTTPException(status.HTTP_409_CONFLICT, f"draft was already {done.status}") from None
    except DBAPIError:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "database unavailable, nothing was changed; retry later",
            headers={"Retry-After": "5"},
        ) from None
    dispatcher = getattr(request.app.state, "dispatcher", None)
    if dispatcher is not None:
        dispatcher.notify()
    return DraftOut.of(row, reply_limit(request, row))


@router.post(
    "/{draft_id}/approve",
    summary="Approve the draft, optionally with an edited text",
    responses=REVIEW_ANSWERS,
)
async def approve(
    request: Request,
    draft_id: str,
    principal: Moderator,
    drafts: DraftsDep,
    publisher: PublisherDep,
    body: ApproveBody | None = None,
) -> DraftOut:
    edited = body.text if body is not None else None
    if edited is None:
        current = await _accessible(drafts, draft_id, principal)
        final, verdict = current.text, ReplyVerdict.APPROVED
    else:
        final, verdict = edited, ReplyVerdict.EDITED
    return await _review(
        request, draft_id, principal, drafts, publisher, verdict=verdict, final_text=final, reason=None
    )


@router.post("/{draft_id}/reject", summary="Reject the draft with a reason", responses=REVIEW_ANSWERS)
async def reject(
    request: Request,
    draft_id: str,
    body: RejectBody,
    principal: Moderator,
    drafts: DraftsDep,
    publisher: PublisherDep,
) -> DraftOut:
    return await _review(
        request,
        draft_id,
        principal,
        drafts,
        publisher,
        verdict=ReplyVerdict.REJECTED,
        final_text=None,
        reason=body.reason,
    )

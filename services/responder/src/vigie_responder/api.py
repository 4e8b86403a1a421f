"""Moderators read drafts and approve, edit or reject them; the verdict is published as `reply.reviewed`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field
from vigie_shared.auth import Principal, Role, require
from vigie_shared.bus import BusUnavailable, EventPublisher
from vigie_shared.events import event_id_for
from vigie_shared.events.v1 import ReplyReviewed, ReplyVerdict
from vigie_shared.service import PublisherDep

from vigie_responder.adapters.store import (
    DraftAlreadyReviewed,
    DraftNotFound,
    DraftRow,
    DraftStatus,
    DraftStore,
)

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
    503: {"description": "event bus unavailable, nothing was changed; retry later"},
}


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
    status: str
    created_at: datetime
    reviewed_at: datetime | None
    reviewer: str | None
    final_text: str | None
    reject_reason: str | None


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
    principal: Moderator,
    drafts: DraftsDep,
    draft_status: Annotated[DraftStatus | None, Query(alias="status")] = DraftStatus.PENDING,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DraftOut]:
    rows = await drafts.list(
        status=draft_status.value if draft_status else None,
        communities=principal.community_filter(),
        limit=limit,
    )
    return [DraftOut.model_validate(row, from_attributes=True) for row in rows]


@router.get("/{draft_id}", summary="One draft", responses=NOT_FOUND)
async def get_draft(draft_id: str, principal: Moderator, drafts: DraftsDep) -> DraftOut:
    return DraftOut.model_validate(await _accessible(drafts, draft_id, principal), from_attributes=True)


async def _review(
    draft_id: str,
    principal: Principal,
    drafts: DraftStore,
    publisher: EventPublisher,
    *,
    verdict: ReplyVerdict,
    final_text: str | None,
    reason: str | None,
) -> DraftOut:
    await _accessible(drafts, draft_id, principal)

    async def announce(row: DraftRow) -> None:
        event = ReplyReviewed(
            comment=row.comment_ref(),
            draft_id=row.id,
            verdict=verdict,
            final_text=row.final_text,
            reason=reason,
            reviewer=principal.name,
            reviewed_at=row.reviewed_at or datetime.now(UTC),
        )
        await publisher.publish(
            publisher.envelope(
                event, correlationid=row.correlation_id, id=event_id_for("reply.reviewed", row.id)
            )
        )

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
        )
    except DraftAlreadyReviewed as done:
        raise HTTPException(status.HTTP_409_CONFLICT, f"draft was already {done.status}") from None
    except BusUnavailable:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "event bus unavailable, nothing was changed; retry later",
            headers={"Retry-After": "5"},
        ) from None
    return DraftOut.model_validate(row, from_attributes=True)


@router.post(
    "/{draft_id}/approve",
    summary="Approve the draft, optionally with an edited text",
    responses=REVIEW_ANSWERS,
)
async def approve(
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
        draft_id, principal, drafts, publisher, verdict=verdict, final_text=final, reason=None
    )


@router.post("/{draft_id}/reject", summary="Reject the draft with a reason", responses=REVIEW_ANSWERS)
async def reject(
    draft_id: str,
    body: RejectBody,
    principal: Moderator,
    drafts: DraftsDep,
    publisher: PublisherDep,
) -> DraftOut:
    return await _review(
        draft_id,
        principal,
        drafts,
        publisher,
        verdict=ReplyVerdict.REJECTED,
        final_text=None,
        reason=body.reason,
    )

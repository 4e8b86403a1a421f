"""Integrator and moderator routes: synchronous scoring, policies, the review queue."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import DBAPIError
from vigie_shared.auth import Principal, Role, require
from vigie_shared.events import Envelope, event_id_for
from vigie_shared.events.v1 import (
    Action,
    Keyed,
    ModerationReviewed,
    PlatformAction,
    PlatformActionKind,
    PlatformActionStatus,
    ReviewVerdict,
    ShadowDecision,
)
from vigie_shared.privacy import AccessRecorder, subject
from vigie_shared.service import PublisherDep

from vigie_moderator.adapters.policies import ConcurrentPolicyChange, PolicyMode, SqlPolicies
from vigie_moderator.adapters.store import ReviewAlreadyDecided, ReviewNotFound, ReviewRow, ReviewStore
from vigie_moderator.domain.policies import PolicySource
from vigie_moderator.domain.policy import Policy, decide
from vigie_moderator.domain.scores import Scorer

router = APIRouter(prefix="/v1", tags=["moderation"])
Moderator = Annotated[Principal, Depends(require(Role.MODERATOR))]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]

MAX_TEXT_CHARS = 10_000


def get_scorer(request: Request) -> Scorer:
    scorer: Scorer = request.app.state.scorer
    return scorer


def get_policies(request: Request) -> PolicySource:
    policies: PolicySource = request.app.state.policies
    return policies


def get_reviews(request: Request) -> ReviewStore:
    reviews: ReviewStore = request.app.state.reviews
    return reviews


ScorerDep = Annotated[Scorer, Depends(get_scorer)]
PoliciesDep = Annotated[PolicySource, Depends(get_policies)]
ReviewsDep = Annotated[ReviewStore, Depends(get_reviews)]


def ensure_access(principal: Principal, community: str) -> None:
    if not principal.can_access(community):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"token has no access to community {community!r}")


class ScoreRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    texts: list[Annotated[str, Field(max_length=MAX_TEXT_CHARS)]] = Field(min_length=1, max_length=256)
    community: str = Field(min_length=1, max_length=512)


class ScoredText(BaseModel):
    language: str
    scores: dict[str, float]
    action: Action
    reasons: list[str]
    top_terms: dict[str, list[str]]


class ScoreResponse(BaseModel):
    results: list[ScoredText]
    policy_version: str
    model_versions: dict[str, str]


@router.post("/score", summary="Score texts and say what the community's policy would do")
async def score(
    body: ScoreRequest, principal: Moderator, scorer: ScorerDep, policies: PoliciesDep
) -> ScoreResponse:
    ensure_access(principal, body.community)
    policy = await policies.live(body.community)
    scored = await asyncio.to_thread(scorer.score, body.texts)
    results = []
    for text, item in zip(body.texts, scored, strict=True):
        decision = decide(policy, item, text)
        results.append(
            ScoredText(
                language=item.language,
                scores={k: round(v, 4) for k, v in item.scores.items()},
                action=decision.action,
                reasons=decision.reasons,
                top_terms={k: v for k, v in item.top_terms.items() if v},
            )
        )
    return ScoreResponse(
        results=results, policy_version=policy.version, model_versions=dict(scorer.model_versions)
    )


class PolicyView(BaseModel):
    live: Policy
    shadow: Policy | None


class PolicyModeParam(StrEnum):
    LIVE = "live"
    SHADOW = "shadow"


@router.get("/policies/{community}", summary="The community's live policy and its shadow candidate")
async def get_policy(community: str, principal: Moderator, policies: PoliciesDep) -> PolicyView:
    ensure_access(principal, community)
    return PolicyView(live=await policies.live(community), shadow=await policies.shadow(community))


@router.put(
    "/policies/{community}",
    summary="Store a new policy version",
    description="`mode=live` acts from the next comment on; `mode=shadow` only records what it would do "
    "beside the live decision. A policy that does not validate gets 422 and the previous one stays.",
)
async def put_policy(
    community: str,
    policy: Policy,
    principal: Admin,
    policies: PoliciesDep,
    mode: PolicyModeParam = PolicyModeParam.LIVE,
) -> PolicyView:
    ensure_access(principal, community)
    if not isinstance(policies, SqlPolicies):
        raise HTTPException(
            status.HTTP_409_CONFLICT, "policies are fixed by configuration in this deployment"
        )
    try:
        await policies.put(community, PolicyMode(mode.value), policy, principal.name)
    except ConcurrentPolicyChange as race:
        raise HTTPException(status.HTTP_409_CONFLICT, str(race)) from None
    return PolicyView(live=await policies.live(community), shadow=await policies.shadow(community))


class ReviewItem(BaseModel):
    id: str
    platform: str
    community: str
    thread_id: str
    comment_id: str
    language: str
    text: str
    scores: dict[str, float]
    reasons: list[str]
    categories: list[str]
    policy_version: str
    shadow: ShadowDecision | None = Field(
        default=None, description="what the shadow policy would have done, when one is set"
    )
    status: str
    created_at: datetime
    verdict: str | None = None
    reviewer: str | None = None
    decided_at: datetime | None = None


NEXT_CURSOR_HEADER = "X-Next-Cursor"


def encode_cursor(row: ReviewRow) -> str:
    raw = json.dumps([row.created_at.isoformat(), row.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        created, review_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return datetime.fromisoformat(created), str(review_id)
    except (ValueError, TypeError, UnicodeDecodeError):
        # Shaped like any other invalid parameter, as the document promises for 422.
        raise RequestValidationError(
            [{"type": "value_error", "loc": ("query", "cursor"), "msg": "not a cursor this service gave out"}]
        ) from None


@router.get(
    "/reviews",
    summary="Comments held for a human decision, oldest first",
    description=f"One page of at most `limit` items. When more follow, the `{NEXT_CURSOR_HEADER}` "
    "response header holds the `cursor` to ask for the next page with the same filters.",
    responses={
        200: {
            "headers": {
                NEXT_CURSOR_HEADER: {
                    "description": "cursor of the next page; absent on the last one",
                    "schema": {"type": "string"},
                }
            }
        }
    },
)
async def list_reviews(
    request: Request,
    principal: Moderator,
    reviews: ReviewsDep,
    response: Response,
    community: Annotated[str | None, Query(max_length=512)] = None,
    language: Annotated[str | None, Query(max_length=8)] = None,
    category: Annotated[
        str | None, Query(max_length=100, description="a score category or rule:<name>")
    ] = None,
    min_age_seconds: Annotated[int | None, Query(ge=0, le=10 * 365 * 86_400)] = None,
    max_age_seconds: Annotated[int | None, Query(ge=0, le=10 * 365 * 86_400)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[
        str | None, Query(max_length=1_000, description=f"from the previous page's {NEXT_CURSOR_HEADER}")
    ] = None,
) -> list[ReviewItem]:
    communities = principal.community_filter()
    if community is not None:
        ensure_access(principal, community)
        communities = frozenset({community})
    rows = await reviews.pending(
        communities=communities,
        language=language,
        category=category,
        min_age=timedelta(seconds=min_age_seconds) if min_age_seconds is not None else None,
        max_age=timedelta(seconds=max_age_seconds) if max_age_seconds is not None else None,
        after=decode_cursor(cursor) if cursor is not None else None,
        limit=limit + 1,
    )
    if len(rows) > limit:
        rows = rows[:limit]
        response.headers[NEXT_CURSOR_HEADER] = encode_cursor(rows[-1])
    if rows:
        # The queue shows comment texts: who looked at whose is kept in audit's access log.
        recorder: AccessRecorder = request.app.state.access
        await recorder.record(
            principal=principal.name,
            route="/v1/reviews",
            purpose="review queue",
            subjects=[subject(row.platform, row.author_pseudonym) for row in rows],
            records=len(rows),
        )
    return [ReviewItem.model_validate(row, from_attributes=True) for row in rows]


class ReviewDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    verdict: ReviewVerdict
    reason: str | None = Field(default=None, max_length=2_000)


@router.post(
    "/reviews/{review_id}/decision",
    summary="Approve or remove a held comment",
    responses={
        404: {"description": "no such review (or not one of the token's communities)"},
        409: {"description": "another moderator decided first"},
        503: {"description": "event bus unavailable, nothing was changed; retry later"},
    },
)
async def decide_review(
    review_id: str,
    body: ReviewDecision,
    principal: Moderator,
    reviews: ReviewsDep,
    publisher: PublisherDep,
) -> ReviewItem:
    try:
        current = await reviews.get(review_id)
    except ReviewNotFound:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such review") from None
    if not principal.can_access(current.community):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such review")

    def announce(row: ReviewRow) -> list[Envelope[Keyed]]:
        ref = row.comment_ref()
        reviewed_id = event_id_for("moderation.reviewed", row.id)
        decided_at = row.decided_at or datetime.now(UTC)
        events: list[Envelope[Keyed]] = [
            publisher.envelope(
                ModerationReviewed(
                    comment=ref,
                    review_id=row.id,
                    verdict=body.verdict,
                    reason=body.reason,
                    reviewer=principal.name,
                    decided_at=decided_at,
                ),
                correlationid=row.correlation_id,
                id=reviewed_id,
            )
        ]
        if body.verdict is ReviewVerdict.REMOVE:
            action_id = event_id_for("platform.action", reviewed_id)
            events.append(
                publisher.envelope(
                    PlatformAction(
                        comment=ref,
                        action_id=action_id,
                        kind=PlatformActionKind.DELETE,
                        status=PlatformActionStatus.REQUESTED,
                        requested_by=f"reviewer:{principal.name}",
                        at=decided_at,
                    ),
                    correlationid=row.correlation_id,
                    id=action_id,
                )
            )
        return events

    try:
        row = await reviews.decide(
            review_id,
            verdict=body.verdict.value,
            reviewer=principal.name,
            reason=body.reason,
            announce=announce,
        )
    except ReviewAlreadyDecided as done:
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"already decided by another moderator: {done.verdict}"
        ) from None
    except DBAPIError:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "database unavailable, nothing was changed; retry later",
            headers={"Retry-After": "5"},
        ) from None
    return ReviewItem.model_validate(row, from_attributes=True)

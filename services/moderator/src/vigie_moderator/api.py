"""Integrator and moderator routes: synchronous scoring, policies, the review queue."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field
from vigie_shared.auth import Principal, Role, require
from vigie_shared.events.v1 import Action

from vigie_moderator.adapters.store import ReviewStore
from vigie_moderator.domain.policies import PolicySource
from vigie_moderator.domain.policy import Policy, decide
from vigie_moderator.domain.scores import Scorer

router = APIRouter(prefix="/v1", tags=["moderation"])
Moderator = Annotated[Principal, Depends(require(Role.MODERATOR))]

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
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, f"token has no access to community {community!r}"
        )


class ScoreRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    texts: list[Annotated[str, Field(max_length=MAX_TEXT_CHARS)]] = Field(
        min_length=1, max_length=256
    )
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
    for item in scored:
        decision = decide(policy, item)
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


@router.get("/policies/{community}", summary="The community's live policy")
async def get_policy(community: str, principal: Moderator, policies: PoliciesDep) -> Policy:
    ensure_access(principal, community)
    return await policies.live(community)


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
    policy_version: str
    status: str
    created_at: datetime


@router.get("/reviews", summary="Comments held for a human decision")
async def list_reviews(
    principal: Moderator,
    reviews: ReviewsDep,
    community: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[ReviewItem]:
    if community is not None:
        ensure_access(principal, community)
    rows = await reviews.pending(community, limit)
    return [
        ReviewItem.model_validate(row, from_attributes=True)
        for row in rows
        if principal.can_access(row.community)
    ]

"""The knowledge base replies draw on, and each community's reply tone (CONTRACT.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator
from vigie_shared.auth import Principal, Role, require

from vigie_responder.adapters.knowledge import KbEntryRow, KnowledgeStore
from vigie_responder.domain.knowledge import Entry
from vigie_responder.drafter import Drafter

router = APIRouter(
    prefix="/v1",
    tags=["knowledge base"],
    responses={404: {"description": "no such entry, or a community the token does not reach"}},
)
Moderator = Annotated[Principal, Depends(require(Role.MODERATOR))]
Community = Annotated[str, Field(min_length=1, max_length=512)]
EntryId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")]
Question = Annotated[str, Field(min_length=1, max_length=1_000)]
Answer = Annotated[str, Field(min_length=1, max_length=10_000)]


def get_knowledge(request: Request) -> KnowledgeStore:
    knowledge: KnowledgeStore = request.app.state.knowledge
    return knowledge


def get_drafter(request: Request) -> Drafter:
    drafter: Drafter = request.app.state.drafter
    return drafter


KnowledgeDep = Annotated[KnowledgeStore, Depends(get_knowledge)]
DrafterDep = Annotated[Drafter, Depends(get_drafter)]


def visible(principal: Principal, community: str) -> None:
    # A token limited to other communities learns nothing of this one: the same 404 as no entry.
    if not principal.can_access(community):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such knowledge-base entry")


class EntryBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    questions: dict[Literal["fr", "en"], list[Question]] = Field(default_factory=dict)
    answers: dict[Literal["fr", "en"], Answer] = Field(default_factory=dict)
    tags: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=32
    )
    valid_from: AwareDatetime | None = None
    valid_until: AwareDatetime | None = None

    @model_validator(mode="after")
    def _complete(self) -> EntryBody:
        if not any(questions for questions in self.questions.values()):
            raise ValueError("at least one question, in French or English")
        if sum(len(v) for v in self.questions.values()) > 50:
            raise ValueError("at most 50 questions per entry")
        if not self.answers:
            raise ValueError("at least one answer, in French or English")
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")
        return self


class EntryOut(BaseModel):
    community: str
    entry_id: str
    questions: dict[str, list[str]]
    answers: dict[str, str]
    tags: list[str]
    valid_from: datetime | None
    valid_until: datetime | None
    updated_at: datetime
    updated_by: str

    @classmethod
    def of(cls, row: KbEntryRow) -> EntryOut:
        return cls.model_validate(row, from_attributes=True)


class EntryPage(BaseModel):
    entries: list[EntryOut]
    next_after: str | None = Field(description="pass as `after` for the next page; null on the last")


class SearchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=5_000)
    limit: int = Field(default=5, ge=1, le=50)


class SearchResult(BaseModel):
    entry_id: str
    score: float
    matched_question: str


class SearchOut(BaseModel):
    results: list[SearchResult]


@router.put(
    "/kb/{community}/entries/{entry_id}",
    summary="Create or replace a knowledge-base entry",
    responses={201: {"description": "created"}, 200: {"description": "replaced"}},
)
async def put_entry(
    community: Community,
    entry_id: EntryId,
    body: EntryBody,
    principal: Moderator,
    knowledge: KnowledgeDep,
    response: Response,
) -> EntryOut:
    visible(principal, community)
    entry = Entry(
        entry_id=entry_id,
        questions={str(k): list(v) for k, v in body.questions.items() if v},
        answers={str(k): v for k, v in body.answers.items()},
        tags=tuple(body.tags),
        valid_from=body.valid_from,
        valid_until=body.valid_until,
    )
    row, created = await knowledge.put(community, entry, principal.name)
    if created:
        response.status_code = status.HTTP_201_CREATED
    return EntryOut.of(row)


@router.get("/kb/{community}/entries", summary="A community's entries, by id")
async def list_entries(
    community: Community,
    principal: Moderator,
    knowledge: KnowledgeDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    after: Annotated[str | None, Query(max_length=128)] = None,
) -> EntryPage:
    visible(principal, community)
    rows = await knowledge.entries(community, limit=limit, after=after)
    return EntryPage(
        entries=[EntryOut.of(row) for row in rows],
        next_after=rows[-1].entry_id if len(rows) == limit else None,
    )


@router.get("/kb/{community}/entries/{entry_id}", summary="One entry")
async def get_entry(
    community: Community, entry_id: EntryId, principal: Moderator, knowledge: KnowledgeDep
) -> EntryOut:
    visible(principal, community)
    row = await knowledge.get(community, entry_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such knowledge-base entry")
    return EntryOut.of(row)


@router.delete(
    "/kb/{community}/entries/{entry_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete an entry"
)
async def delete_entry(
    community: Community, entry_id: EntryId, principal: Moderator, knowledge: KnowledgeDep
) -> None:
    visible(principal, community)
    if not await knowledge.delete(community, entry_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such knowledge-base entry")


@router.post(
    "/kb/{community}/search", summary="The entries a text asks about, best first; none when none fits"
)
async def search(
    community: Community, body: SearchBody, principal: Moderator, drafter: DrafterDep
) -> SearchOut:
    visible(principal, community)
    hits = await drafter.search(community, body.text, body.limit)
    return SearchOut(
        results=[
            SearchResult(entry_id=h.entry_id, score=round(h.score, 4), matched_question=h.matched_question)
            for h in hits
        ]
    )


class ToneBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    french_address: Literal["vous", "tu"] = "vous"
    greeting: dict[Literal["fr", "en"], Annotated[str, Field(max_length=200)]] = Field(default_factory=dict)
    signature: dict[Literal["fr", "en"], Annotated[str, Field(max_length=200)]] = Field(default_factory=dict)
    emoji: bool = False


@router.get("/tone/{community}", summary="How replies in a community speak")
async def get_tone(community: Community, principal: Moderator, knowledge: KnowledgeDep) -> ToneBody:
    visible(principal, community)
    return ToneBody.model_validate(await knowledge.tone(community) or {})


@router.put("/tone/{community}", summary="Set how replies in a community speak")
async def put_tone(
    community: Community, body: ToneBody, principal: Moderator, knowledge: KnowledgeDep
) -> ToneBody:
    visible(principal, community)
    await knowledge.put_tone(community, body.model_dump(), principal.name)
    return body

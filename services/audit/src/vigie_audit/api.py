"""Auditors read the decision log and check that nobody rewrote it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from vigie_shared.auth import Principal, Role, require

from vigie_audit.adapters.store import AuditStore
from vigie_audit.domain.chain import Verification, verify

router = APIRouter(prefix="/v1/audit", tags=["audit"])
Auditor = Annotated[Principal, Depends(require(Role.AUDITOR))]


def get_store(request: Request) -> AuditStore:
    store: AuditStore = request.app.state.audit
    return store


StoreDep = Annotated[AuditStore, Depends(get_store)]


class AuditEvent(BaseModel):
    seq: int
    event_id: str
    event_type: str
    topic: str
    source: str
    time: str
    correlation_id: str
    community: str | None
    body: dict[str, Any]
    hash: str


class AuditPage(BaseModel):
    events: list[AuditEvent]
    next_after: int | None


@router.get("/events", summary="Recorded events in log order")
async def list_events(
    principal: Auditor,
    store: StoreDep,
    correlation_id: Annotated[str | None, Query(max_length=64)] = None,
    event_type: Annotated[str | None, Query(alias="type", max_length=64)] = None,
    after: Annotated[int, Query(ge=0, description="return entries after this sequence number")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AuditPage:
    rows = await store.events(
        correlation_id=correlation_id,
        event_type=event_type,
        communities=principal.community_filter(),
        after=after,
        limit=limit,
    )
    events = [AuditEvent.model_validate(row, from_attributes=True) for row in rows]
    return AuditPage(events=events, next_after=events[-1].seq if len(events) == limit else None)


class VerifyResult(BaseModel):
    ok: bool
    checked: int
    first_bad_seq: int | None
    problem: str | None


@router.get("/verify", summary="Recompute the hash chain over the whole log")
async def verify_chain(principal: Auditor, store: StoreDep, request: Request) -> VerifyResult:
    entries = [entry async for entry in store.stream()]
    result: Verification = verify(entries)
    request.app.state.audit_metrics.verified(result.ok, result.checked)
    return VerifyResult(
        ok=result.ok,
        checked=result.checked,
        first_bad_seq=result.first_bad_seq,
        problem=result.problem,
    )

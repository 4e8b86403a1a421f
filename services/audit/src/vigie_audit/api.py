"""Auditors read the decision log and check that nobody rewrote it; privacy officers answer people.

Every answer that carries personal data (log entries with their texts, a subject's export) is
itself recorded first: a `personal_data.accessed` event naming the token, the route, whose data and
how many records. Every service publishes those events the same way (vigie_shared.privacy
.AccessRecorder); audit keeps them in its access log table (`GET /v1/audit/access`).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from vigie_shared.auth import Principal, Role, require
from vigie_shared.events import Envelope
from vigie_shared.events.v1 import ErasureStatus, Platform, PrivacyErasure
from vigie_shared.privacy import AccessRecorder, pseudonymise, publish_event, subject
from vigie_shared.service import BusRuntime

from vigie_audit.adapters.checkpoints import Checkpointer
from vigie_audit.adapters.store import AuditStore, PrivacyRequestRow, StoredEvent
from vigie_audit.domain.checkpoint import Checkpoint, signature_ok
from vigie_audit.settings import AuditSettings
from vigie_audit.verification import Anchor, verify_log

router = APIRouter(prefix="/v1/audit", tags=["audit"])
privacy_router = APIRouter(prefix="/v1/privacy", tags=["privacy"])
Auditor = Annotated[Principal, Depends(require(Role.AUDITOR))]
PrivacyOfficer = Annotated[Principal, Depends(require(Role.PRIVACY))]


def get_store(request: Request) -> AuditStore:
    store: AuditStore = request.app.state.audit
    return store


def get_access(request: Request) -> AccessRecorder:
    recorder: AccessRecorder = request.app.state.access
    return recorder


def get_checkpointer(request: Request) -> Checkpointer:
    checkpointer: Checkpointer = request.app.state.checkpointer
    return checkpointer


def get_settings(request: Request) -> AuditSettings:
    settings: AuditSettings = request.app.state.settings
    return settings


def get_runtime(request: Request) -> BusRuntime:
    runtime: BusRuntime = request.app.state.runtime
    return runtime


StoreDep = Annotated[AuditStore, Depends(get_store)]
AccessDep = Annotated[AccessRecorder, Depends(get_access)]
CheckpointerDep = Annotated[Checkpointer, Depends(get_checkpointer)]
SettingsDep = Annotated[AuditSettings, Depends(get_settings)]
RuntimeDep = Annotated[BusRuntime, Depends(get_runtime)]


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
    erased: bool = Field(description="the entry's personal fields were erased (request or retention)")


class AuditPage(BaseModel):
    events: list[AuditEvent]
    next_after: int | None


def _event(stored: StoredEvent) -> AuditEvent:
    return AuditEvent(
        seq=stored.seq,
        event_id=stored.event_id,
        event_type=stored.event_type,
        topic=stored.topic,
        source=stored.source,
        time=stored.time,
        correlation_id=stored.correlation_id,
        community=stored.community,
        body=stored.body,
        hash=stored.hash,
        erased=stored.erased,
    )


@router.get("/events", summary="Recorded events in log order")
async def list_events(
    principal: Auditor,
    store: StoreDep,
    access: AccessDep,
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
    subjects = [row.subject for row in rows if row.subject]
    if any(row.personal for row in rows):
        await access.record(
            principal=principal.name,
            route="/v1/audit/events",
            purpose="audit log read",
            subjects=subjects,
            records=len(rows),
        )
    events = [_event(row) for row in rows]
    return AuditPage(events=events, next_after=events[-1].seq if len(events) == limit else None)


class CheckpointCheck(BaseModel):
    seq: int
    source: str = Field(description="file: the newest signed checkpoint; request: the one passed in")
    ok: bool
    signature_ok: bool | None
    problem: str | None


class VerifyResult(BaseModel):
    ok: bool
    checked: int
    first_bad_seq: int | None
    problem: str | None
    last_seq: int | None
    head_hash: str | None
    erased: int = Field(description="entries whose personal fields were erased; their digests still hold")
    checkpoint: CheckpointCheck | None


@router.get("/verify", summary="Recompute the keyed hash chain, streamed, optionally over a range")
async def verify_chain(
    principal: Auditor,
    store: StoreDep,
    request: Request,
    checkpointer: CheckpointerDep,
    settings: SettingsDep,
    from_seq: Annotated[int, Query(ge=1)] = 1,
    to_seq: Annotated[int | None, Query(ge=1)] = None,
    checkpoint_seq: Annotated[
        int | None, Query(ge=1, description="a head you kept: its sequence number")
    ] = None,
    checkpoint_hash: Annotated[
        str | None, Query(pattern=r"^[0-9a-f]{64}$", description="and its hash")
    ] = None,
) -> VerifyResult:
    if (checkpoint_seq is None) != (checkpoint_hash is None):
        raise RequestValidationError(
            [
                {
                    "type": "value_error",
                    "loc": ("query", "checkpoint_hash" if checkpoint_hash is None else "checkpoint_seq"),
                    "msg": "checkpoint_seq and checkpoint_hash go together",
                }
            ]
        )
    anchor: Anchor | None = None
    if checkpoint_seq is not None and checkpoint_hash is not None:
        anchor = Anchor(checkpoint_seq, checkpoint_hash, "request")
    else:
        latest = checkpointer.file.latest()
        if latest is not None:
            anchor = Anchor(
                latest.seq,
                latest.hash,
                "file",
                signature_ok=signature_ok(latest, checkpointer.signer.public_key),
            )
    report = await verify_log(
        store, from_seq=from_seq, to_seq=to_seq, anchor=anchor, page=settings.audit_verify_page
    )
    result = report.verification
    anchor_check = report.anchor
    ok = result.ok and (anchor_check is None or anchor_check.ok)
    request.app.state.audit_metrics.verified(ok, result.checked)
    return VerifyResult(
        ok=ok,
        checked=result.checked,
        first_bad_seq=result.first_bad_seq,
        problem=result.problem or (anchor_check.problem if anchor_check and not anchor_check.ok else None),
        last_seq=result.last_seq,
        head_hash=result.head_hash,
        erased=result.erased,
        checkpoint=CheckpointCheck(
            seq=anchor_check.seq,
            source=anchor_check.source,
            ok=anchor_check.ok,
            signature_ok=anchor_check.signature_ok,
            problem=anchor_check.problem,
        )
        if anchor_check
        else None,
    )


class AccessOut(BaseModel):
    event_id: str
    at: datetime
    service: str
    principal: str
    route: str
    purpose: str
    subjects: list[str]
    records: int


@router.get("/access", summary="Who read whose personal data, through which API, when")
async def access_log(
    principal: Auditor,
    store: StoreDep,
    by: Annotated[str | None, Query(max_length=128, description="only this token's reads")] = None,
    after: Annotated[datetime | None, Query(description="only reads after this instant")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AccessOut]:
    rows = await store.access_log(principal=by, after=after, limit=limit)
    return [
        AccessOut(
            event_id=row.event_id,
            at=row.at,
            service=row.service,
            principal=row.principal,
            route=row.route,
            purpose=row.purpose,
            subjects=row.subjects,
            records=row.records,
        )
        for row in rows
    ]


class CheckpointOut(BaseModel):
    seq: int
    hash: str
    at: str
    key_id: str
    public_key: str
    signature: str


@router.post("/checkpoint", summary="Sign the current head now and append it to the checkpoint file")
async def make_checkpoint(principal: Auditor, checkpointer: CheckpointerDep) -> CheckpointOut | None:
    checkpoint = await checkpointer.checkpoint()
    return _checkpoint(checkpoint) if checkpoint else None


@router.get("/checkpoint", summary="The newest signed checkpoint, to keep somewhere else")
async def latest_checkpoint(principal: Auditor, checkpointer: CheckpointerDep) -> CheckpointOut | None:
    checkpoint = checkpointer.latest
    return _checkpoint(checkpoint) if checkpoint else None


def _checkpoint(checkpoint: Checkpoint) -> CheckpointOut:
    return CheckpointOut(
        seq=checkpoint.seq,
        hash=checkpoint.hash,
        at=checkpoint.at,
        key_id=checkpoint.key_id,
        public_key=checkpoint.public_key,
        signature=checkpoint.signature,
    )


# Privacy ---------------------------------------------------------------------------------------


def _pseudonym(settings: AuditSettings, platform: Platform, user_id: str) -> str:
    if settings.pseudonym_key is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "VIGIE_PSEUDONYM_KEY is not set")
    return pseudonymise(settings.pseudonym_key.get_secret_value().encode(), platform.value, user_id)


class ErasureRequestOut(BaseModel):
    id: str
    requested_at: datetime
    requested_by: str


class SubjectExport(BaseModel):
    platform: str
    pseudonym: str
    generated_at: datetime
    events: list[AuditEvent] = Field(
        description="every event about the person or their comments, as recorded by the audit log"
    )
    erasure_requests: list[ErasureRequestOut]
    scope: str


EXPORT_SCOPE = (
    "Every service publishes what it does with a comment as an event, and the audit log keeps each "
    "event: the comment and its author's display name as received (ingest), the scores and decision "
    "(moderator), a reviewer's verdict, the reply drafts and their fate (responder). Services keep "
    "no personal data that did not travel as one of these events, so this export is complete for "
    "what Vigie holds, up to erasures and retention: erased fields are shown as absent."
)


@privacy_router.get(
    "/subjects/{platform}/{user_id}", summary="Everything Vigie holds about one person (export)"
)
async def export_subject(
    platform: Platform,
    user_id: Annotated[str, Path(max_length=256)],
    principal: PrivacyOfficer,
    store: StoreDep,
    access: AccessDep,
    settings: SettingsDep,
) -> SubjectExport:
    pseudonym = _pseudonym(settings, platform, user_id)
    name = subject(platform.value, pseudonym)
    events = await store.subject_events(name)
    requests = await store.requests_for(pseudonym)
    await access.record(
        principal=principal.name,
        route="/v1/privacy/subjects/{platform}/{user_id}",
        purpose="subject access export",
        subjects=[name],
        records=len(events),
    )
    return SubjectExport(
        platform=platform.value,
        pseudonym=pseudonym,
        generated_at=datetime.now(UTC),
        events=[_event(event) for event in events],
        erasure_requests=[
            ErasureRequestOut(id=r.id, requested_at=r.requested_at, requested_by=r.requested_by)
            for r in requests
        ],
        scope=EXPORT_SCOPE,
    )


class ErasureAccepted(BaseModel):
    id: str
    status: str


@privacy_router.delete(
    "/subjects/{platform}/{user_id}",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Erase one person's data in every service",
)
async def erase_subject(
    platform: Platform,
    user_id: Annotated[str, Path(max_length=256)],
    principal: PrivacyOfficer,
    store: StoreDep,
    settings: SettingsDep,
    runtime: RuntimeDep,
) -> ErasureAccepted:
    pseudonym = _pseudonym(settings, platform, user_id)
    request_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    event = PrivacyErasure(
        request_id=request_id,
        platform=platform,
        pseudonym=pseudonym,
        status=ErasureStatus.REQUESTED,
        requested_by=principal.name,
        at=now,
    )
    row = PrivacyRequestRow(
        id=request_id,
        platform=platform.value,
        pseudonym=pseudonym,
        requested_by=principal.name,
        requested_at=now,
        expected=list(settings.privacy_services),
    )

    async def announce() -> None:
        envelope = Envelope[PrivacyErasure].wrap(
            event, source=runtime.publisher.source, correlationid=request_id, id=request_id
        )
        await publish_event(runtime.bus, envelope)

    await store.add_request(row, announce=announce)
    return ErasureAccepted(id=request_id, status="pending")


class ServiceAnswer(BaseModel):
    status: str
    erased: dict[str, int] | None
    at: datetime | None


class ErasureStatusOut(BaseModel):
    id: str
    status: str
    requested_at: datetime
    services: dict[str, ServiceAnswer]


@privacy_router.get(
    "/requests/{request_id}",
    summary="Where an erasure stands, service by service",
    responses={404: {"description": "no such request"}},
)
async def erasure_status(
    request_id: Annotated[str, Path(max_length=64)], principal: PrivacyOfficer, store: StoreDep
) -> ErasureStatusOut:
    found = await store.request(request_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such request")
    row, answers = found
    by_service = {answer.service: answer for answer in answers}
    services: dict[str, ServiceAnswer] = {}
    for name in dict.fromkeys([*row.expected, *by_service]):
        answer = by_service.get(name)
        services[name] = (
            ServiceAnswer(status="done", erased=answer.erased, at=answer.answered_at)
            if answer
            else ServiceAnswer(status="pending", erased=None, at=None)
        )
    done = all(name in by_service for name in row.expected)
    return ErasureStatusOut(
        id=row.id, status="done" if done else "pending", requested_at=row.requested_at, services=services
    )

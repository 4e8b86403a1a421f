"""Privacy plumbing every service shares: pseudonyms, erasure requests, and the personal-data access log.

- `pseudonymise`: the keyed pseudonym ingest gives every platform user id; the audit service
  computes the same one from a privacy request's raw user id, so both must use this function.
- `ErasureHandler` / `start_erasure_consumer`: the consumer side of `privacy.erasure`. Audit
  publishes a `requested` event on `vigie.privacy.requests.v1`; each service runs this handler with
  its own `erase(platform, pseudonym) -> {store: count}` and answers `done` with those counts.
- `AccessRecorder`: every API read of personal data publishes `personal_data.accessed` (who, which
  route, whose data, how many records, when); audit keeps those events in its chained log.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import structlog

from vigie_shared.bus import Bus, ConsumerLoop, Message, decode
from vigie_shared.events import Envelope, event_id_for
from vigie_shared.events.v1 import TOPICS, ErasureStatus, PersonalDataAccessed, PrivacyErasure
from vigie_shared.metrics import ServiceMetrics
from vigie_shared.service import BusRuntime

log = structlog.get_logger("vigie.privacy")

ERASURE_TOPIC = TOPICS["privacy.erasure"]
ACCESS_TOPIC = TOPICS["personal_data.accessed"]

Eraser = Callable[[str, str], Awaitable[dict[str, int]]]


def pseudonymise(key: bytes, platform: str, user_id: str) -> str:
    digest = hmac.new(key, f"{platform}:{user_id}".encode(), hashlib.sha256).hexdigest()
    return f"psn_{digest[:32]}"


def subject(platform: str, pseudonym: str) -> str:
    """How a person is named across stores and record keys: `platform:pseudonym`."""
    return f"{platform}:{pseudonym}"


async def publish_event(bus: Bus, event: Envelope[PrivacyErasure] | Envelope[PersonalDataAccessed]) -> None:
    """Privacy events are keyed by person or service, not by comment, so they bypass EventPublisher."""
    await bus.publish(TOPICS[event.type], event.data.key(), event.body(), event.headers())


def erasure_done(request: PrivacyErasure, service: str, erased: dict[str, int]) -> PrivacyErasure:
    return PrivacyErasure(
        request_id=request.request_id,
        platform=request.platform,
        pseudonym=request.pseudonym,
        status=ErasureStatus.DONE,
        service=service,
        erased=erased,
        at=datetime.now(UTC),
    )


class ErasureHandler:
    """Erases one person's data in this service for each request, then says so on the same topic.

    The done event's id derives from the request id and the service, so a redelivered request
    (at least once) erases again, finds nothing, and re-announces under the same id.
    """

    def __init__(self, service: str, erase: Eraser, bus: Bus, *, source: str) -> None:
        self._service = service
        self._erase = erase
        self._bus = bus
        self._source = source

    async def handle(self, message: Message) -> None:
        event = decode(message)
        data = event.data
        if not isinstance(data, PrivacyErasure) or data.status != ErasureStatus.REQUESTED:
            return
        erased = await self._erase(data.platform.value, data.pseudonym)
        done = erasure_done(data, self._service, erased)
        envelope = Envelope[PrivacyErasure].wrap(
            done,
            source=self._source,
            correlationid=event.correlationid,
            id=event_id_for("privacy.erasure", data.request_id, self._service),
        )
        await publish_event(self._bus, envelope)
        log.info("erasure_done", request_id=data.request_id, service=self._service, erased=erased)


def start_erasure_consumer(
    runtime: BusRuntime,
    *,
    service: str,
    group: str,
    erase: Eraser,
    metrics: ServiceMetrics | None = None,
) -> ConsumerLoop:
    """Runs an ErasureHandler in its own consumer group (`<group>.privacy`), beside the main one.

    Its own group because the embedded bus gives a group one active consumer at a time.
    """
    handler = ErasureHandler(service, erase, runtime.bus, source=runtime.publisher.source)
    loop = ConsumerLoop(
        runtime.bus,
        group=f"{group}.privacy",
        topics=[ERASURE_TOPIC],
        handler=handler.handle,
        metrics=metrics,
        max_records=16,
    )
    runtime.loops.append(loop)
    loop.start()
    return loop


class AccessRecorder:
    """Publishes who read whose personal data; a read whose record cannot be published fails."""

    def __init__(self, bus: Bus, *, service: str, source: str) -> None:
        self._bus = bus
        self._service = service
        self._source = source

    async def record(
        self, *, principal: str, route: str, purpose: str, subjects: Iterable[str], records: int
    ) -> None:
        unique = list(dict.fromkeys(s for s in subjects if s))[:1000]
        data = PersonalDataAccessed(
            service=self._service,
            principal=principal,
            route=route,
            purpose=purpose,
            subjects=unique,
            records=records,
            at=datetime.now(UTC),
        )
        # An access is its own story: it gets a fresh correlation id.
        envelope = Envelope[PersonalDataAccessed].wrap(
            data, source=self._source, correlationid=str(uuid.uuid4())
        )
        await publish_event(self._bus, envelope)


__all__ = [
    "ACCESS_TOPIC",
    "ERASED_PSEUDONYM",
    "ERASED_TEXT",
    "ERASURE_TOPIC",
    "PERSONAL_FIELDS",
    "AccessRecorder",
    "Eraser",
    "ErasureHandler",
    "erasure_done",
    "merge_personal",
    "pseudonymise",
    "publish_event",
    "scrub_personal",
    "split_personal",
    "start_erasure_consumer",
    "subject",
]


# Where personal data sits in event bodies (dotted paths). Everything else (ids, decisions, scores,
# reasons, policy and model versions) is what an audit must keep verifiable.
PERSONAL_FIELDS: tuple[str, ...] = (
    "author.pseudonym",
    "author.display_name",
    "text",
    "permalink",
    "final_text",
    "reason",
    # The sentence embedding of the text: close enough to the text to be inverted in part.
    "embedding",
)
TEXT_FIELDS: frozenset[str] = frozenset({"text", "final_text", "reason"})
ERASED_TEXT = "[erased]"
ERASED_PSEUDONYM = "psn_erased"


def split_personal(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(body without its personal fields, those fields by dotted path); the input is left as is."""
    public = copy.deepcopy(body)
    personal: dict[str, Any] = {}
    for path in PERSONAL_FIELDS:
        *parents, leaf = path.split(".")
        holder: Any = public
        for name in parents:
            holder = holder.get(name) if isinstance(holder, dict) else None
        if isinstance(holder, dict) and holder.get(leaf) is not None:
            personal[path] = holder.pop(leaf)
    return public, personal


def merge_personal(body: dict[str, Any], personal: dict[str, Any] | None) -> dict[str, Any]:
    """The body as it was received: `split_personal` undone (or left without them once erased)."""
    merged = copy.deepcopy(body)
    for path, value in (personal or {}).items():
        *parents, leaf = path.split(".")
        holder = merged
        for name in parents:
            holder = holder.setdefault(name, {})
        holder[leaf] = value
    return merged


def scrub_personal(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """The body with its personal fields overwritten, still valid for its event type; and how many."""
    public, personal = split_personal(body)
    replacement: dict[str, Any] = {}
    for path in personal:
        if path == "author.pseudonym":
            replacement[path] = ERASED_PSEUDONYM
        elif path == "text":
            replacement[path] = ERASED_TEXT
    return merge_personal(public, replacement), len(personal)

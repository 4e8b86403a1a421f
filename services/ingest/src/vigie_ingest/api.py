"""Webhook routes: read bounded, verify, normalise, publish durably, and only then answer.

Each route is the same four steps around one connector's pure functions; the refusals are mapped
here, at the edge, to the status the platform (or a human with curl) can act on.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import structlog
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, status
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, ValidationError
from vigie_platforms.discord import inbound as discord
from vigie_platforms.facebook import inbound as meta
from vigie_platforms.generic import inbound as generic
from vigie_platforms.inbound.errors import MalformedPayload, Unauthenticated
from vigie_platforms.inbound.outcome import Comments, Handshake, Outcome, Reply, Revoked
from vigie_platforms.mastodon import inbound as mastodon
from vigie_platforms.slack import inbound as slack
from vigie_platforms.telegram import inbound as telegram
from vigie_platforms.twitch import inbound as twitch
from vigie_shared.bus import BusUnavailable

from vigie_ingest.metrics import IngestMetrics
from vigie_ingest.pipeline import Ingest, NotConfigured
from vigie_ingest.settings import IngestSettings, PlatformSecrets

log = structlog.get_logger("vigie.ingest")
router = APIRouter(prefix="/webhooks", tags=["webhooks"])

PLATFORMS = ("meta", "slack", "twitch", "telegram", "discord", "mastodon", "generic")


class IngestResult(BaseModel):
    published: int
    duplicates: int
    ignored: int


class Problem(BaseModel):
    detail: str


# Dependencies are `async def`: FastAPI runs plain `def` ones in a worker thread, a hop per call.
async def get_settings(request: Request) -> IngestSettings:
    settings: IngestSettings = request.app.state.settings
    return settings


async def get_secrets(request: Request) -> PlatformSecrets:
    secrets: PlatformSecrets = request.app.state.secrets
    return secrets


async def get_metrics(request: Request) -> IngestMetrics:
    metrics: IngestMetrics = request.app.state.ingest_metrics
    return metrics


async def get_ingest(request: Request) -> Ingest:
    ingest: Ingest | None = getattr(request.app.state, "ingest", None)
    if ingest is None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, "ingest is starting", headers={"Retry-After": "1"}
        )
    return ingest


SettingsDep = Annotated[IngestSettings, Depends(get_settings)]
SecretsDep = Annotated[PlatformSecrets, Depends(get_secrets)]
MetricsDep = Annotated[IngestMetrics, Depends(get_metrics)]
IngestDep = Annotated[Ingest, Depends(get_ingest)]


@dataclass(frozen=True, slots=True)
class Webhook:
    """What every webhook route needs, resolved as one dependency (each one costs per request)."""

    settings: IngestSettings
    secrets: PlatformSecrets
    metrics: IngestMetrics
    ingest: Ingest


async def get_webhook(request: Request) -> Webhook:
    state = request.app.state
    return Webhook(state.settings, state.secrets, state.ingest_metrics, await get_ingest(request))


WebhookDep = Annotated[Webhook, Depends(get_webhook)]


class Rejected(HTTPException):
    """A refusal: counted by platform and reason, logged without the body or any secret."""

    def __init__(
        self,
        code: int,
        platform: str,
        reason: str,
        metrics: IngestMetrics,
        headers: dict[str, str] | None = None,
    ) -> None:
        metrics.rejected.labels(platform=platform, reason=reason).inc()
        log.info("webhook_rejected", platform=platform, reason=reason, status=code)
        super().__init__(code, detail=reason, headers=headers)


async def read_bounded(request: Request, limit: int, platform: str, metrics: IngestMetrics) -> bytes:
    """Reads at most `limit` bytes; an oversized body is refused without being read whole."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Rejected(status.HTTP_413_CONTENT_TOO_LARGE, platform, "body too large", metrics)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Rejected(status.HTTP_413_CONTENT_TOO_LARGE, platform, "body too large", metrics)
        chunks.append(chunk)
    return b"".join(chunks)


def require_json(request: Request, platform: str, metrics: IngestMetrics) -> None:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise Rejected(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            platform,
            "content type must be application/json",
            metrics,
        )


def require_configured(
    values: tuple[bytes, ...], platform: str, setting: str, metrics: IngestMetrics
) -> None:
    # An endpoint without its secret cannot verify anything: it answers as if it did not exist.
    if not values:
        raise Rejected(
            status.HTTP_404_NOT_FOUND, platform, f"platform not configured (set {setting})", metrics
        )


def parse_json(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise MalformedPayload("malformed JSON") from None
    if not isinstance(payload, dict):
        raise MalformedPayload("JSON body must be an object")
    return payload


async def read_request(
    request: Request, platform: str, settings: IngestSettings, metrics: IngestMetrics
) -> bytes:
    require_json(request, platform, metrics)
    return await read_bounded(request, settings.max_body_bytes, platform, metrics)


@contextmanager
def refusals(platform: str, metrics: IngestMetrics) -> Iterator[None]:
    """Maps the domain's refusals to HTTP answers with their reason."""
    try:
        yield
    except Unauthenticated as refused:
        raise Rejected(status.HTTP_401_UNAUTHORIZED, platform, refused.reason, metrics) from None
    except MalformedPayload as refused:
        raise Rejected(status.HTTP_400_BAD_REQUEST, platform, refused.reason, metrics) from None
    except ValidationError:
        # Signed and well-formed, but a field breaks the contract's bounds (an id over 512 chars...).
        raise Rejected(
            status.HTTP_400_BAD_REQUEST, platform, "payload does not fit comment.received", metrics
        ) from None
    except NotConfigured as missing:
        raise Rejected(status.HTTP_503_SERVICE_UNAVAILABLE, platform, str(missing), metrics) from None


def reply_response(reply: Reply) -> Response:
    if isinstance(reply.body, str):
        return PlainTextResponse(reply.body, media_type=reply.media_type)
    return JSONResponse(reply.body, media_type=reply.media_type)


async def answer(ingest: Ingest, platform: str, outcome: Outcome, retry_after: int) -> Response:
    """Publishes what the outcome holds; 2xx only once the bus acknowledged every new comment."""
    metrics = ingest.metrics
    if isinstance(outcome, Handshake):
        metrics.handshakes.labels(platform=platform).inc()
        return reply_response(outcome.reply)
    if isinstance(outcome, Revoked):
        metrics.revocations.labels(platform=platform, status=outcome.status).inc()
        log.warning(
            "subscription_revoked",
            platform=platform,
            status=outcome.status,
            subscription_type=outcome.subscription_type,
            **outcome.extra,
        )
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    assert isinstance(outcome, Comments)
    if outcome.ignored:
        metrics.ignored.labels(platform=platform).inc(outcome.ignored)
    try:
        result = await ingest.publish(outcome.items, platform)
    except BusUnavailable as error:
        log.warning("bus_unavailable", platform=platform, error=str(error))
        raise Rejected(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            platform,
            "event bus unavailable, retry later",
            metrics,
            headers={"Retry-After": str(retry_after)},
        ) from error
    if outcome.reply is not None:
        return reply_response(outcome.reply)
    summary = IngestResult(published=result.published, duplicates=result.duplicates, ignored=outcome.ignored)
    return JSONResponse(summary.model_dump())


_JSON_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}
_REFUSALS: dict[int | str, dict[str, Any]] = {
    200: {"model": IngestResult, "description": "Published (or recognised as already published)"},
    400: {"model": Problem, "description": "Malformed JSON or an undocumented payload shape"},
    401: {"model": Problem, "description": "Missing or bad signature, or stale timestamp"},
    404: {"model": Problem, "description": "Platform not configured on this ingest"},
    413: {"model": Problem, "description": "Body over VIGIE_MAX_BODY_BYTES"},
    415: {"model": Problem, "description": "Content type is not application/json"},
    503: {"model": Problem, "description": "Event bus unavailable: retry after Retry-After"},
}


Endpoint = TypeVar("Endpoint", bound=Callable[..., Awaitable[Response]])


def _post(path: str, summary: str, body: dict[str, Any] | None = None) -> Callable[[Endpoint], Endpoint]:
    return router.post(
        path,
        summary=summary,
        response_model=None,
        responses=_REFUSALS,
        openapi_extra=body or _JSON_BODY,
    )


def _now() -> datetime:
    return datetime.now(UTC)


@router.get(
    "/meta",
    response_class=PlainTextResponse,
    summary="Meta subscription handshake",
    responses={403: {"model": Problem}, 404: {"model": Problem}},
)
async def meta_handshake(
    secrets: SecretsDep,
    metrics: MetricsDep,
    mode: Annotated[str, Query(alias="hub.mode")],
    verify_token: Annotated[str, Query(alias="hub.verify_token")],
    challenge: Annotated[str, Query(alias="hub.challenge", max_length=256)],
) -> str:
    require_configured(secrets.meta_verify, "meta", "VIGIE_META_VERIFY_TOKEN", metrics)
    if not meta.handshake(mode, verify_token, secrets.meta_verify):
        raise Rejected(status.HTTP_403_FORBIDDEN, "meta", "verify token mismatch", metrics)
    metrics.handshakes.labels(platform="meta").inc()
    return challenge


@_post("/meta", "Facebook Page feed comments and Instagram comments")
async def meta_webhook(
    request: Request,
    ctx: WebhookDep,
) -> Response:
    settings, secrets, metrics, ingest = ctx.settings, ctx.secrets, ctx.metrics, ctx.ingest
    require_configured(secrets.meta_app, "meta", "VIGIE_META_APP_SECRET", metrics)
    body = await read_request(request, "meta", settings, metrics)
    with refusals("meta", metrics):
        meta.verify(secrets.meta_app, body, request.headers.get(meta.SIGNATURE_HEADER))
        outcome = meta.normalise(parse_json(body), received_at=_now(), pseudonymise=ingest.pseudonymise)
    return await answer(ingest, "meta", outcome, settings.retry_after_seconds)


@_post("/slack", "Slack Events API: url_verification and message events")
async def slack_webhook(
    request: Request,
    ctx: WebhookDep,
) -> Response:
    settings, secrets, metrics, ingest = ctx.settings, ctx.secrets, ctx.metrics, ctx.ingest
    require_configured(secrets.slack, "slack", "VIGIE_SLACK_SIGNING_SECRET", metrics)
    body = await read_request(request, "slack", settings, metrics)
    headers = request.headers
    with refusals("slack", metrics):
        slack.verify(
            secrets.slack,
            body,
            headers.get(slack.SIGNATURE_HEADER),
            headers.get(slack.TIMESTAMP_HEADER),
            now=time.time(),
            max_skew=settings.slack_max_skew_seconds,
        )
        outcome = slack.normalise(parse_json(body), received_at=_now(), pseudonymise=ingest.pseudonymise)
    retry = headers.get(slack.RETRY_HEADER)
    if retry is not None:
        log.info("slack_retry", retry_num=retry[:8], reason=headers.get("x-slack-retry-reason", "")[:64])
    return await answer(ingest, "slack", outcome, settings.retry_after_seconds)


@_post("/twitch", "Twitch EventSub: channel.chat.message, verification and revocation")
async def twitch_webhook(
    request: Request,
    ctx: WebhookDep,
) -> Response:
    settings, secrets, metrics, ingest = ctx.settings, ctx.secrets, ctx.metrics, ctx.ingest
    require_configured(secrets.twitch, "twitch", "VIGIE_TWITCH_EVENTSUB_SECRET", metrics)
    body = await read_request(request, "twitch", settings, metrics)
    headers = request.headers
    message_id = headers.get(twitch.ID_HEADER) or ""
    timestamp = headers.get(twitch.TIMESTAMP_HEADER) or ""
    now = _now()
    with refusals("twitch", metrics):
        sent_at = twitch.verify(
            secrets.twitch,
            body,
            message_id,
            timestamp,
            headers.get(twitch.SIGNATURE_HEADER),
            now=now,
            max_age=settings.twitch_max_age_seconds,
        )
        outcome = twitch.normalise(
            parse_json(body),
            message_type=headers.get(twitch.TYPE_HEADER),
            message_id=message_id,
            sent_at=sent_at,
            received_at=now,
            pseudonymise=ingest.pseudonymise,
        )
    return await answer(ingest, "twitch", outcome, settings.retry_after_seconds)


@_post("/telegram", "Telegram bot updates: messages and channel posts")
async def telegram_webhook(
    request: Request,
    ctx: WebhookDep,
) -> Response:
    settings, secrets, metrics, ingest = ctx.settings, ctx.secrets, ctx.metrics, ctx.ingest
    require_configured(secrets.telegram, "telegram", "VIGIE_TELEGRAM_SECRET_TOKEN", metrics)
    body = await read_request(request, "telegram", settings, metrics)
    with refusals("telegram", metrics):
        telegram.verify(secrets.telegram, request.headers.get(telegram.TOKEN_HEADER))
        outcome = telegram.normalise(parse_json(body), received_at=_now(), pseudonymise=ingest.pseudonymise)
    return await answer(ingest, "telegram", outcome, settings.retry_after_seconds)


@_post("/discord", "Discord interactions: PING, message commands and slash commands")
async def discord_webhook(
    request: Request,
    ctx: WebhookDep,
) -> Response:
    settings, secrets, metrics, ingest = ctx.settings, ctx.secrets, ctx.metrics, ctx.ingest
    require_configured(secrets.discord, "discord", "VIGIE_DISCORD_PUBLIC_KEY", metrics)
    body = await read_request(request, "discord", settings, metrics)
    with refusals("discord", metrics):
        discord.verify(
            secrets.discord,
            body,
            request.headers.get(discord.SIGNATURE_HEADER),
            request.headers.get(discord.TIMESTAMP_HEADER),
            now=time.time(),
            max_skew=settings.discord_max_skew_seconds,
        )
        outcome = discord.normalise(parse_json(body), received_at=_now(), pseudonymise=ingest.pseudonymise)
    return await answer(ingest, "discord", outcome, settings.retry_after_seconds)


@_post("/mastodon", "Mastodon admin webhooks: status.created, status.updated, report.created")
async def mastodon_webhook(
    request: Request,
    ctx: WebhookDep,
) -> Response:
    settings, secrets, metrics, ingest = ctx.settings, ctx.secrets, ctx.metrics, ctx.ingest
    require_configured(secrets.mastodon, "mastodon", "VIGIE_MASTODON_WEBHOOK_SECRET", metrics)
    body = await read_request(request, "mastodon", settings, metrics)
    with refusals("mastodon", metrics):
        mastodon.verify(secrets.mastodon, body, request.headers.get(mastodon.SIGNATURE_HEADER))
        outcome = mastodon.normalise(parse_json(body), received_at=_now(), pseudonymise=ingest.pseudonymise)
    return await answer(ingest, "mastodon", outcome, settings.retry_after_seconds)


_GENERIC_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/GenericDelivery"}}},
    }
}


@_post("/generic", "Any source signing X-Vigie-Timestamp + body with HMAC-SHA256", _GENERIC_BODY)
async def generic_webhook(
    request: Request,
    ctx: WebhookDep,
) -> Response:
    settings, secrets, metrics, ingest = ctx.settings, ctx.secrets, ctx.metrics, ctx.ingest
    require_configured(secrets.generic, "generic", "VIGIE_GENERIC_WEBHOOK_SECRET", metrics)
    body = await read_request(request, "generic", settings, metrics)
    with refusals("generic", metrics):
        generic.verify(
            secrets.generic,
            body,
            request.headers.get(generic.SIGNATURE_HEADER),
            request.headers.get(generic.TIMESTAMP_HEADER),
            now=time.time(),
            max_skew=settings.generic_max_skew_seconds,
        )
        outcome = generic.normalise(parse_json(body), received_at=_now(), pseudonymise=ingest.pseudonymise)
    return await answer(ingest, "generic", outcome, settings.retry_after_seconds)


@router.post(
    "/{platform}",
    summary="Any other platform: refused with the list of known ones",
    status_code=status.HTTP_404_NOT_FOUND,
    responses={404: {"model": Problem}},
)
async def unknown_platform(platform: str, metrics: MetricsDep) -> None:
    # The raw path segment never becomes a label: all unknown platforms share one.
    raise Rejected(
        status.HTTP_404_NOT_FOUND,
        "unknown",
        f"unknown platform; known: {', '.join(PLATFORMS)}",
        metrics,
    )


def install_openapi(app: FastAPI) -> None:
    """Adds the generic delivery's schema, which the route documents but reads as raw bytes."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            model = generic.GenericDelivery.model_json_schema(ref_template="#/components/schemas/{model}")
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.update(model.pop("$defs", {}))
            components["GenericDelivery"] = model
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

"""Webhook routes: read bounded, verify, normalise, publish durably, and only then answer.

One handler serves every platform the inbound registry holds (`POST /webhooks/<name>`): what differs
between platforms (headers, signature scheme, payload shapes) lives in each platform's connector in
vigie_platforms. Ingest adds what is about HTTP and the bus: bounded reads, the refusals mapped to
statuses, Meta's GET handshake, and publishing. Discord's PING and the other handshakes that arrive
by POST come back from their connector as a `Handshake` and are answered here like any outcome.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, status
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, SecretStr, ValidationError
from vigie_platforms.facebook import inbound as meta
from vigie_platforms.inbound.connector import Delivery, InboundConnector, Secret, receive
from vigie_platforms.inbound.errors import Forbidden, MalformedPayload, Unauthenticated
from vigie_platforms.inbound.outcome import Comments, Handshake, Outcome, Reply, Revoked
from vigie_platforms.inbound.registry import InboundRegistry
from vigie_shared.bus import BusUnavailable

from vigie_ingest.metrics import IngestMetrics
from vigie_ingest.pipeline import Ingest, NotConfigured
from vigie_ingest.settings import IngestSettings, secret_values

log = structlog.get_logger("vigie.ingest")

META_CHALLENGE_MAX = 256


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A registered connector with what ingest's settings give it, resolved once at start-up."""

    connector: InboundConnector
    secrets: tuple[Secret, ...]
    window: float | None


@dataclass(frozen=True, slots=True)
class Webhooks:
    """Every endpoint by platform name, and Meta's verify tokens for its GET handshake."""

    endpoints: Mapping[str, Endpoint]
    meta_verify: tuple[bytes, ...]

    @classmethod
    def configure(cls, settings: IngestSettings, registry: InboundRegistry) -> Webhooks:
        """Reads each connector's settings fields; a connector naming a missing field stops start-up."""
        fields = type(settings).model_fields
        endpoints: dict[str, Endpoint] = {}
        for connector in registry:
            for name in (connector.setting, connector.window_setting):
                if name is not None and name not in fields:
                    raise RuntimeError(
                        f"inbound connector {connector.name!r} reads settings field {name!r}, "
                        f"which {type(settings).__name__} does not have"
                    )
            raw = getattr(settings, connector.setting)
            if raw is not None and not isinstance(raw, SecretStr):
                raise RuntimeError(f"settings field {connector.setting!r} must be a SecretStr")
            window = None if connector.window_setting is None else getattr(settings, connector.window_setting)
            endpoints[connector.name] = Endpoint(
                connector, connector.secrets(secret_values(raw)), None if window is None else float(window)
            )
        return cls(endpoints, secret_values(settings.meta_verify_token))


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


async def get_webhooks(request: Request) -> Webhooks:
    webhooks: Webhooks = request.app.state.webhooks
    return webhooks


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
WebhooksDep = Annotated[Webhooks, Depends(get_webhooks)]
MetricsDep = Annotated[IngestMetrics, Depends(get_metrics)]
IngestDep = Annotated[Ingest, Depends(get_ingest)]


@dataclass(frozen=True, slots=True)
class Webhook:
    """What every webhook route needs, resolved as one dependency (each one costs per request)."""

    settings: IngestSettings
    webhooks: Webhooks
    metrics: IngestMetrics
    ingest: Ingest


async def get_webhook(request: Request) -> Webhook:
    state = request.app.state
    return Webhook(state.settings, state.webhooks, state.ingest_metrics, await get_ingest(request))


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
        metrics.refused(platform, code)
        log.info("webhook_rejected", platform=platform, reason=reason, status=code)
        super().__init__(code, detail=reason, headers=headers)


async def read_bounded(request: Request, limit: int, platform: str, metrics: IngestMetrics) -> bytes:
    """Reads at most `limit` bytes; an oversized body is refused without being read whole."""
    declared = request.headers.get("content-length")
    # isascii first: str.isdigit() also accepts "²", which int() refuses.
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limit:
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


def require_configured(configured: bool, platform: str, setting: str, metrics: IngestMetrics) -> None:
    # An endpoint without its secret cannot verify anything: it answers as if it did not exist.
    if not configured:
        raise Rejected(
            status.HTTP_404_NOT_FOUND, platform, f"platform not configured (set {setting})", metrics
        )


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
    except Forbidden as refused:
        raise Rejected(status.HTTP_403_FORBIDDEN, platform, refused.reason, metrics) from None
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
        metrics.webhooks.labels(platform=platform, outcome="handshake").inc()
        return reply_response(outcome.reply)
    if isinstance(outcome, Revoked):
        metrics.revocations.labels(platform=platform, status=outcome.status).inc()
        metrics.webhooks.labels(platform=platform, outcome="revoked").inc()
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
    metrics.webhooks.labels(platform=platform, outcome="accepted").inc()
    if outcome.reply is not None:
        return reply_response(outcome.reply)
    summary = IngestResult(published=result.published, duplicates=result.duplicates, ignored=outcome.ignored)
    return JSONResponse(summary.model_dump())


_REFUSALS: dict[int | str, dict[str, Any]] = {
    200: {"model": IngestResult, "description": "Published (or recognised as already published)"},
    400: {"model": Problem, "description": "Malformed JSON or an undocumented payload shape"},
    401: {"model": Problem, "description": "Missing or bad signature, or stale timestamp"},
    403: {"model": Problem, "description": "The signing secret may not post for a community named"},
    404: {"model": Problem, "description": "Platform not configured on this ingest"},
    413: {"model": Problem, "description": "Body over VIGIE_MAX_BODY_BYTES"},
    415: {"model": Problem, "description": "Content type is not application/json"},
    503: {"model": Problem, "description": "Event bus unavailable: retry after Retry-After"},
}


def _json(component: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}}


def _responses(connector: InboundConnector) -> dict[int | str, dict[str, Any]]:
    """The refusals every webhook shares; a 200 that may also be the platform's own protocol answer."""
    if connector.reply_schema is None:
        return _REFUSALS
    content = _json(IngestResult.__name__)
    for media_type, schema in connector.reply_schema.items():
        if media_type in content:
            outcome = content[media_type]["schema"]
            content[media_type] = {"schema": {"anyOf": [outcome, schema]}}
        else:
            content[media_type] = {"schema": schema}
    ok = {"description": "Published (or recognised), or the platform's protocol answer", "content": content}
    return {**_REFUSALS, 200: ok}


def _request_body(connector: InboundConnector) -> dict[str, Any]:
    model = connector.body_model
    schema = {"type": "object"} if model is None else {"$ref": f"#/components/schemas/{model.__name__}"}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def _now() -> datetime:
    return datetime.now(UTC)


async def receive_webhook(request: Request, ctx: Webhook, platform: str) -> Response:
    endpoint = ctx.webhooks.endpoints[platform]
    connector, metrics = endpoint.connector, ctx.metrics
    require_configured(bool(endpoint.secrets), platform, connector.setting_env, metrics)
    body = await read_request(request, platform, ctx.settings, metrics)
    headers = request.headers
    delivery = Delivery(
        body,
        {name: value for name in connector.headers if (value := headers.get(name)) is not None},
        _now(),
    )
    with refusals(platform, metrics):
        outcome = receive(
            connector,
            delivery,
            endpoint.secrets,
            window=endpoint.window,
            pseudonymiser=lambda: ctx.ingest.pseudonymise,
        )
    retry = connector.retry_note(delivery)
    if retry:
        log.info("webhook_retry", platform=platform, **retry)
    return await answer(ctx.ingest, platform, outcome, ctx.settings.retry_after_seconds)


def _webhook_route(platform: str) -> Callable[..., Awaitable[Response]]:
    async def webhook(request: Request, ctx: WebhookDep) -> Response:
        return await receive_webhook(request, ctx, platform)

    webhook.__name__ = f"{platform}_webhook"
    return webhook


_META_QUERY = [
    {"name": name, "in": "query", "required": True, "schema": {"type": "string", **extra}}
    for name, extra in (
        ("hub.mode", {}),
        ("hub.verify_token", {}),
        ("hub.challenge", {"maxLength": META_CHALLENGE_MAX}),
    )
]


async def meta_handshake(request: Request, webhooks: WebhooksDep, metrics: MetricsDep) -> Response:
    """Meta's subscription check. Parameters are read by hand so that no refusal echoes them."""
    require_configured(bool(webhooks.meta_verify), "meta", "VIGIE_META_VERIFY_TOKEN", metrics)
    query = request.query_params
    mode, token, challenge = (query.get(f"hub.{name}") for name in ("mode", "verify_token", "challenge"))
    if mode is None or token is None or challenge is None:
        raise Rejected(
            status.HTTP_400_BAD_REQUEST,
            "meta",
            "hub.mode, hub.verify_token and hub.challenge are required",
            metrics,
        )
    if len(challenge) > META_CHALLENGE_MAX:
        raise Rejected(status.HTTP_400_BAD_REQUEST, "meta", "hub.challenge too long", metrics)
    if not meta.handshake(mode, token, webhooks.meta_verify):
        raise Rejected(status.HTTP_403_FORBIDDEN, "meta", "verify token mismatch", metrics)
    metrics.handshakes.labels(platform="meta").inc()
    return PlainTextResponse(challenge)


def webhook_router(registry: InboundRegistry) -> APIRouter:
    """`GET /webhooks/meta`, one `POST /webhooks/<name>` per registered connector, then the rest."""
    router = APIRouter(prefix="/webhooks", tags=["webhooks"])
    router.add_api_route(
        "/meta",
        meta_handshake,
        methods=["GET"],
        response_class=PlainTextResponse,
        summary="Meta subscription handshake",
        # The challenge comes back as text/plain; refusals are JSON like everywhere else (no
        # `model` here, which would document them as text/plain after the route's class).
        responses={
            200: {
                "description": "The challenge, as sent",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            },
            400: {"description": "A parameter is missing or too long", "content": _json(Problem.__name__)},
            403: {"description": "Verify token mismatch", "content": _json(Problem.__name__)},
            404: {"description": "VIGIE_META_VERIFY_TOKEN is not set", "content": _json(Problem.__name__)},
        },
        openapi_extra={"parameters": _META_QUERY},
    )
    for connector in registry:
        router.add_api_route(
            f"/{connector.name}",
            _webhook_route(connector.name),
            methods=["POST"],
            summary=connector.summary,
            response_model=None,
            responses=_responses(connector),
            openapi_extra=_request_body(connector),
        )
    known = ", ".join(registry.names())

    async def unknown_platform(platform: str, metrics: MetricsDep) -> None:
        # The raw path segment never becomes a label: all unknown platforms share one.
        raise Rejected(status.HTTP_404_NOT_FOUND, "unknown", f"unknown platform; known: {known}", metrics)

    router.add_api_route(
        "/{platform}",
        unknown_platform,
        methods=["POST"],
        summary="Any other platform: refused with the list of known ones",
        status_code=status.HTTP_404_NOT_FOUND,
        responses={404: {"model": Problem}},
    )
    return router


def install_openapi(app: FastAPI, registry: InboundRegistry) -> None:
    """Adds the body schemas connectors document, which the routes read as raw bytes."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for connector in registry:
                if connector.body_model is None:
                    continue
                model = connector.body_model.model_json_schema(ref_template="#/components/schemas/{model}")
                components.update(model.pop("$defs", {}))
                components[connector.body_model.__name__] = model
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

"""HTTP pieces every service mounts: request metrics and logs, /healthz, /readyz and /metrics."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vigie_shared.errors import DependencyUnavailable, dependency_failure
from vigie_shared.metrics import CONTENT_TYPE_LATEST, ServiceMetrics

log = structlog.get_logger("vigie.http")

ReadinessCheck = Callable[[], Awaitable[str | None]]
DEGRADED_ONLY = frozenset({"consumers"})
CORRELATION_HEADER = "x-correlation-id"
# What a caller may choose as its correlation id: it goes back out in a header and into every log
# line, so anything else (non-ASCII bytes, control characters, over 64 characters) is replaced.
_CORRELATION_ID = re.compile(rb"[A-Za-z0-9._:@/+=-]{1,64}")


def correlation_id_from(scope: Scope) -> tuple[str, bool]:
    """The caller's correlation id when it is a safe token, else a fresh one (and True)."""
    incoming = next((value for name, value in scope["headers"] if name == CORRELATION_HEADER.encode()), None)
    if incoming is not None and _CORRELATION_ID.fullmatch(incoming):
        return incoming.decode("ascii"), False
    return str(uuid.uuid4()), incoming is not None


class RequestObserver:
    """Pure ASGI middleware: one canonical log line and two metrics per request, labelled by route."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        correlation_id, replaced = correlation_id_from(scope)
        scope.setdefault("state", {})["correlation_id"] = correlation_id

        async def observe_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append(
                    (CORRELATION_HEADER.encode(), correlation_id.encode())
                )
            await send(message)

        with structlog.contextvars.bound_contextvars(correlation_id=correlation_id):
            try:
                await self.app(scope, receive, observe_send)
            finally:
                route = scope.get("route")
                template = getattr(route, "path", None) or "unmatched"
                elapsed = time.perf_counter() - started
                method = scope["method"]
                self.metrics.http_requests.labels(method, template, str(status)).inc()
                self.metrics.http_latency.labels(method, template).observe(elapsed)
                if template not in ("/metrics", "/healthz", "/readyz"):
                    log.info(
                        "http_request",
                        method=method,
                        route=template,
                        status=status,
                        duration_ms=round(elapsed * 1000, 2),
                        **({"correlation_id_replaced": True} if replaced else {}),
                    )


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str = Field(description="ready, degraded (a consumer waits for a dependency) or unavailable")
    reasons: dict[str, str] = Field(default_factory=dict, description="what is not ready, and why")


def ops_router(metrics: ServiceMetrics, checks: Mapping[str, ReadinessCheck]) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="The process is alive")
    async def healthz() -> Health:
        return Health(status="ok")

    @router.get(
        "/readyz",
        summary="Bus, store and models are ready",
        response_model=Readiness,
        responses={503: {"model": Readiness, "description": "not ready: the reasons say what and why"}},
    )
    async def readyz() -> JSONResponse:
        reasons: dict[str, str] = {}
        for name, check in checks.items():
            try:
                reason = await check()
            except Exception as error:
                reason = repr(error)
            if reason:
                reasons[name] = reason
            metrics.ready.labels(check=name).set(0 if reason else 1)
        if reasons:
            # Degraded: the process serves, but a consumer waits for a dependency (it resumes alone).
            state = "degraded" if set(reasons) <= DEGRADED_ONLY else "unavailable"
            return JSONResponse({"status": state, "reasons": reasons}, status_code=503)
        return JSONResponse({"status": "ready", "reasons": {}})

    @router.get(
        "/metrics",
        summary="Prometheus metrics",
        response_class=PlainTextResponse,
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    )
    async def metrics_endpoint() -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return router


class AsciiJSONResponse(JSONResponse):
    """JSON with every non-ASCII character escaped: a lone surrogate cannot break the encoding."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode()


_MAX_LOC_PART = 100


def _loc_part(part: Any) -> str | int:
    return part if isinstance(part, int) else str(part)[:_MAX_LOC_PART]


async def validation_failed(request: Request, error: Exception) -> Response:
    """422 that says where and why, never what: the submitted text stays out of the answer."""
    assert isinstance(error, RequestValidationError)
    detail = [
        {
            "type": item.get("type", "value_error"),
            "loc": [_loc_part(part) for part in item.get("loc", ())],
            "msg": item.get("msg", "invalid value"),
        }
        for item in error.errors()
    ]
    return AsciiJSONResponse({"detail": detail}, status_code=422)


DEPENDENCY_RETRY_SECONDS = 5


async def dependency_failed(request: Request, error: Exception) -> Response:
    """503 with Retry-After when the database or the bus failed under a request: nothing was wrong
    with the request, and the same call will work once the dependency is back. Anything else that
    reaches here is a bug and stays a 500."""
    kind = dependency_failure(error)
    if kind is None:
        raise error
    log.warning("dependency_unavailable", dependency=kind, error=type(error).__name__)
    return JSONResponse(
        {"detail": f"{kind} unavailable, retry later"},
        status_code=503,
        headers={"Retry-After": str(DEPENDENCY_RETRY_SECONDS)},
    )


def _transient_error_types() -> tuple[type[Exception], ...]:
    import sqlite3

    from aiokafka.errors import KafkaError
    from sqlalchemy.exc import SQLAlchemyError

    return (DependencyUnavailable, SQLAlchemyError, sqlite3.OperationalError, KafkaError)


def instrument(app: FastAPI, metrics: ServiceMetrics, checks: Mapping[str, ReadinessCheck]) -> None:
    app.add_middleware(RequestObserver, metrics=metrics)
    app.add_exception_handler(RequestValidationError, validation_failed)
    for error_type in _transient_error_types():
        app.add_exception_handler(error_type, dependency_failed)
    app.include_router(ops_router(metrics, checks))


class DeclaredBodyLimit:
    """A declared Content-Length over the limit gets the same JSON 413 as any other refusal.

    Starlette's own limit (FastAPI's `max_body_size`) answers a declared length in plain text; a body
    that only grows past the limit while streaming is stopped by it from inside, as JSON already.
    """

    def __init__(self, app: ASGIApp, max_body_size: int) -> None:
        self.app = app
        self.max_body_size = max_body_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == b"content-length":
                    try:
                        declared = int(value)
                    except ValueError:
                        break  # not a length: the server or the route refuses it
                    if declared > self.max_body_size:
                        response = JSONResponse({"detail": "body too large"}, status_code=413)
                        await response(scope, receive, send)
                        return
                    break
        await self.app(scope, receive, send)

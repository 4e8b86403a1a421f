"""HTTP pieces every service mounts: request metrics and logs, /healthz, /readyz and /metrics."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable, Mapping

import structlog
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vigie_shared.metrics import CONTENT_TYPE_LATEST, ServiceMetrics

log = structlog.get_logger("vigie.http")

ReadinessCheck = Callable[[], Awaitable[str | None]]
CORRELATION_HEADER = "x-correlation-id"


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
        incoming = dict(scope["headers"]).get(CORRELATION_HEADER.encode())
        correlation_id = incoming.decode()[:64] if incoming else str(uuid.uuid4())
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
                    )


def ops_router(metrics: ServiceMetrics, checks: Mapping[str, ReadinessCheck]) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="Bus, store and models are ready")
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
            return JSONResponse({"status": "unavailable", "reasons": reasons}, status_code=503)
        return JSONResponse({"status": "ready"})

    @router.get("/metrics", summary="Prometheus metrics", include_in_schema=True)
    async def metrics_endpoint() -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return router


def instrument(app: FastAPI, metrics: ServiceMetrics, checks: Mapping[str, ReadinessCheck]) -> None:
    app.add_middleware(RequestObserver, metrics=metrics)
    app.include_router(ops_router(metrics, checks))

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import Counter
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from vigie_shared.http import instrument
from vigie_shared.metrics import ServiceMetrics

from vigie_console.api import Upstream, router
from vigie_console.settings import ConsoleSettings

# Scripts and styles from this origin only. Inline styles are allowed because the audit reports
# (fetched with the token and shown in a sandboxed srcdoc frame, which inherits this policy) carry
# a <style> block; no inline script is allowed anywhere.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; frame-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    b"content-security-policy": CONTENT_SECURITY_POLICY.encode(),
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"no-referrer",
    b"x-frame-options": b"DENY",
}


class SecurityHeaders:
    """Adds the headers above to every answer; pure ASGI, so responses are not buffered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message.setdefault("headers", []).extend(
                    (name, value) for name, value in SECURITY_HEADERS.items() if name not in present
                )
            await send(message)

        await self.app(scope, receive, with_headers)


class RevalidatedStaticFiles(StaticFiles):
    """Static files the browser revalidates (ETag) on every load: no build step renames them."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["cache-control"] = "no-cache"
        return response


def static_dir() -> Path:
    return Path(str(resources.files("vigie_console") / "static"))


def create_app(
    settings: ConsoleSettings | None = None, *, transport: httpx.AsyncBaseTransport | None = None
) -> FastAPI:
    """`transport` replaces the network (tests hand in the services' ASGI apps or a MockTransport)."""
    settings = settings or ConsoleSettings.load()
    metrics = ServiceMetrics("console")
    calls = Counter(
        "vigie_console_upstream_calls",
        "Calls forwarded to a service, by service and answer (status code, timeout, unreachable)",
        ["service", "outcome"],
        registry=metrics.registry,
    )
    static = static_dir()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        timeout = httpx.Timeout(
            settings.upstream_timeout_seconds, connect=settings.upstream_connect_timeout_seconds
        )
        async with httpx.AsyncClient(timeout=timeout, transport=transport, follow_redirects=False) as client:
            app.state.upstream = Upstream(client, settings.upstreams(), settings.max_body_bytes, calls)
            yield

    app = FastAPI(
        title="Vigie console",
        description="The moderators' web page, and a same-origin proxy to the services' APIs.",
        version="0.1.0",
        lifespan=lifespan,
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.metrics = metrics

    async def started() -> str | None:
        return None if getattr(app.state, "upstream", None) is not None else "starting"

    async def assets() -> str | None:
        return None if (static / "index.html").is_file() else "static files missing"

    instrument(app, metrics, {"proxy": started, "assets": assets})
    app.add_middleware(SecurityHeaders)
    app.include_router(router)

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        # Revalidated every time (ETag): a new release is picked up without a hashed file name.
        return FileResponse(static / "index.html", headers={"cache-control": "no-cache"})

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return FileResponse(static / "icon.svg", media_type="image/svg+xml")

    app.mount("/static", RevalidatedStaticFiles(directory=static), name="static")
    return app

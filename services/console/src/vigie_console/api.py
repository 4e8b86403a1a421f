"""The console's one API route: a same-origin proxy to the services' `/v1` routes.

The browser sends its bearer token with every call and the services check it as they would for
curl, so roles and community scopes apply unchanged; the proxy holds no credentials of its own.
One origin means no CORS to configure on four services and a strict Content-Security-Policy here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import unquote

import httpx
from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import Response
from prometheus_client import Counter
from vigie_shared.http import CORRELATION_HEADER

router = APIRouter(tags=["console"])

# Only what the APIs read: no cookies, no hop-by-hop headers, nothing the browser adds on its own.
REQUEST_HEADERS = ("authorization", "accept", "content-type")
RESPONSE_HEADERS = ("content-type", "content-disposition", "retry-after", "www-authenticate")
METHODS = ["GET", "POST", "PUT", "DELETE"]


@dataclass(frozen=True, slots=True)
class Upstream:
    client: httpx.AsyncClient
    bases: dict[str, str]
    max_body_bytes: int
    calls: Counter


def get_upstream(request: Request) -> Upstream:
    upstream: Upstream = request.app.state.upstream
    return upstream


UpstreamDep = Annotated[Upstream, Depends(get_upstream)]


def upstream_path(raw_path: bytes, service: str) -> str:
    """The `/v1/...` part of the request path, still percent-encoded, so ids keep their `/` and `%`."""
    prefix = f"/api/{service}/v1/"
    try:
        raw = raw_path.decode("ascii", errors="strict")
    except UnicodeDecodeError:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "the path must be percent-encoded") from None
    if not raw.startswith(prefix):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "not a console API path")
    rest = raw[len(prefix) :]
    if any(unquote(segment) in (".", "..") for segment in rest.split("/")):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "dot segments are not allowed")
    return "/v1/" + rest


async def read_body(request: Request, limit: int) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"body over {limit} bytes")
    return bytes(body)


@router.api_route(
    "/api/{service}/v1/{path:path}",
    methods=METHODS,
    summary="Forward a call to a service's /v1 API with the caller's own token",
)
async def forward(service: str, path: str, request: Request, upstream: UpstreamDep) -> Response:
    base = upstream.bases.get(service)
    if base is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no service named {service!r}")
    target = base + upstream_path(request.scope.get("raw_path") or request.url.path.encode(), service)
    query = request.scope.get("query_string", b"")
    if query:
        target += "?" + query.decode("latin-1")
    headers = {name: value for name in REQUEST_HEADERS if (value := request.headers.get(name))}
    # The console's request id follows the call, so one id finds its log lines in both services.
    correlation_id = getattr(request.state, "correlation_id", None)
    if correlation_id:
        headers[CORRELATION_HEADER] = correlation_id
    body = await read_body(request, upstream.max_body_bytes)
    try:
        answer = await upstream.client.request(
            request.method,
            target,
            content=body or None,
            headers=headers,
        )
    except httpx.TimeoutException:
        upstream.calls.labels(service, "timeout").inc()
        raise HTTPException(status.HTTP_504_GATEWAY_TIMEOUT, f"{service} did not answer in time") from None
    except httpx.TransportError:
        upstream.calls.labels(service, "unreachable").inc()
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, f"{service} is unreachable") from None
    upstream.calls.labels(service, str(answer.status_code)).inc()
    out = {name: value for name in RESPONSE_HEADERS if (value := answer.headers.get(name))}
    # Comments and drafts are personal data: nothing of them stays in a browser or proxy cache.
    out["cache-control"] = "no-store"
    return Response(answer.content, status_code=answer.status_code, headers=out)

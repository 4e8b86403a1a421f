"""A Mastodon server: instance configuration and status creation with Idempotency-Key.

https://docs.joinmastodon.org/methods/statuses/#create and
https://docs.joinmastodon.org/api/rate-limits/ : errors are `{"error": "..."}`; a 429 carries
`X-RateLimit-Reset` as an ISO 8601 instant. A repeated Idempotency-Key returns the first status.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from tests.platforms.outbound.fakes.base import FakePlatform, Fault, Posted, bearer


class FakeMastodon(FakePlatform):
    name = "mastodon"
    host = "mastodon.fake"

    def __init__(self, max_characters: int = 500, **kwargs: Any) -> None:
        self.max_characters = max_characters
        self.gone: set[str] = set()
        self.keys: dict[tuple[str, str], str] = {}
        self.instance_reads = 0
        super().__init__(**kwargs)

    def routes(self) -> Iterable[BaseRoute]:
        return [
            Route("/api/v2/instance", self.instance, methods=["GET"]),
            Route("/api/v1/statuses", self.create, methods=["POST"]),
        ]

    def fault_response(self, fault: Fault, op: str, request: Request) -> Response:
        if fault.kind == "server_error":
            return JSONResponse({"error": "We're sorry, but something went wrong"}, fault.status)
        if fault.kind == "rate_limited":
            reset = datetime.now(UTC) + timedelta(seconds=fault.retry_after or 300)
            headers = {
                "X-RateLimit-Limit": "300",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": reset.isoformat(),
            }
            return JSONResponse({"error": "Too many requests"}, 429, headers=headers)
        if fault.kind == "expired_token":
            return JSONResponse({"error": "The access token is invalid"}, 401)
        if fault.kind == "gone":
            return JSONResponse({"error": "Record not found"}, 404)
        if fault.kind == "forbidden":
            return JSONResponse({"error": "This action is not allowed"}, 403)
        if fault.status == 422:
            return JSONResponse({"error": "Validation failed: Text character limit of 500 exceeded"}, 422)
        return JSONResponse({"error": "error"}, fault.status or 400)

    async def instance(self, request: Request) -> Response:
        self.instance_reads += 1
        return JSONResponse(
            {"domain": self.host, "configuration": {"statuses": {"max_characters": self.max_characters}}}
        )

    async def create(self, request: Request) -> Response:
        return await self.serve(request, "reply", lambda: self._create(request))

    async def _create(self, request: Request) -> Response:
        token = bearer(request)
        if not token:
            return JSONResponse({"error": "The access token is invalid"}, 401)
        key = request.headers.get("idempotency-key")
        if key and (token, key) in self.keys:
            known = self.keys[(token, key)]
            post = next(p for p in self.posted if p.id == known)
            return JSONResponse(self._status(post))
        body = await request.json()
        text, parent = str(body.get("status", "")), str(body.get("in_reply_to_id") or "")
        if len(text) > self.max_characters:
            return JSONResponse(
                {"error": f"Validation failed: Text character limit of {self.max_characters} exceeded"}, 422
            )
        if parent in self.gone:
            return JSONResponse({"error": "Record not found"}, 404)
        status_id = str(110_000_000_000_000_000 + self.next_id())
        post = Posted(status_id, parent, parent, text, {"idempotency_key": key})
        self.posted.append(post)
        if key:
            self.keys[(token, key)] = status_id
        return JSONResponse(self._status(post))

    @staticmethod
    def _status(post: Posted) -> dict[str, Any]:
        return {"id": post.id, "in_reply_to_id": post.target, "content": f"<p>{post.text}</p>"}

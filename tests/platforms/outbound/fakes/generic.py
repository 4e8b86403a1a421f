"""A source's callback endpoint for Vigie's signed actions (the generic platform's outbound side).

It checks `X-Vigie-Signature` the way a receiver should, remembers each `Idempotency-Key` and
answers a repeat with what it did the first time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from tests.platforms.outbound.fakes.base import Action, FakePlatform, Fault, Posted

DEFAULT_SECRET = "generic-outbound-secret"


class FakeGeneric(FakePlatform):
    name = "generic"
    host = "generic.fake"
    prefix = "/vigie/callback"

    def __init__(self, secret: str = DEFAULT_SECRET, **kwargs: Any) -> None:
        self.secret = secret
        self.keys: dict[str, str] = {}
        super().__init__(**kwargs)

    def routes(self) -> Iterable[BaseRoute]:
        return [Route(self.prefix, self.callback, methods=["POST"])]

    def fault_response(self, fault: Fault, op: str, request: Request) -> Response:
        if fault.kind == "server_error":
            return JSONResponse({"error": "unavailable"}, fault.status)
        if fault.kind == "rate_limited":
            return JSONResponse(
                {"error": "slow down"}, 429, headers={"Retry-After": str(int(fault.retry_after or 10))}
            )
        if fault.kind == "expired_token":
            return JSONResponse({"error": "bad signature"}, 401)
        if fault.kind == "gone":
            return JSONResponse({"error": "no such comment"}, 404)
        if fault.kind == "forbidden":
            return JSONResponse({"error": "forbidden"}, 403)
        return JSONResponse({"error": "error"}, fault.status or 400)

    async def callback(self, request: Request) -> Response:
        raw = await request.body()
        try:
            op = str(json.loads(raw).get("operation"))
        except ValueError:
            return JSONResponse({"error": "not json"}, 400)
        return await self.serve(request, op, lambda: self._apply(request, raw))

    async def _apply(self, request: Request, raw: bytes) -> Response:
        timestamp = request.headers.get("x-vigie-timestamp", "")
        expected = (
            "sha256=" + hmac.new(self.secret.encode(), timestamp.encode() + raw, hashlib.sha256).hexdigest()
        )
        if not hmac.compare_digest(expected, request.headers.get("x-vigie-signature", "")):
            return JSONResponse({"error": "bad signature"}, 401)
        body = json.loads(raw)
        key = request.headers.get("idempotency-key", "")
        if key in self.keys:
            return JSONResponse({"id": self.keys[key]}, 409)
        op = body["operation"]
        if op == "reply":
            reply_id = f"generic-reply-{self.next_id()}"
            self.posted.append(
                Posted(
                    reply_id,
                    body["comment_id"],
                    body["thread_id"],
                    body["text"],
                    {"community": body["community"]},
                )
            )
        else:
            reply_id = ""
            self.actions.append(Action(op, body["comment_id"], {"community": body["community"]}))
        self.keys[key] = reply_id
        return JSONResponse({"id": reply_id} if reply_id else {})

"""Twitch Helix: Send Chat Message and Delete Chat Messages.

https://dev.twitch.tv/docs/api/reference : errors are `{"error", "status", "message"}`; a 429
carries `Ratelimit-Limit`, `Ratelimit-Remaining` and `Ratelimit-Reset` (Unix seconds). A message
Twitch refuses to deliver is a 200 with `is_sent: false` and a `drop_reason`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from tests.platforms.outbound.fakes.base import Action, FakePlatform, Fault, Posted, bearer


def helix_error(status: int, error: str, message: str = "") -> JSONResponse:
    return JSONResponse({"error": error, "status": status, "message": message}, status)


class FakeTwitch(FakePlatform):
    name = "twitch"
    host = "twitch.fake"
    prefix = "/helix"

    def __init__(self, **kwargs: Any) -> None:
        self.gone: set[str] = set()
        super().__init__(**kwargs)

    def routes(self) -> Iterable[BaseRoute]:
        return [
            Route(f"{self.prefix}/chat/messages", self.send, methods=["POST"]),
            Route(f"{self.prefix}/moderation/chat", self.delete, methods=["DELETE"]),
        ]

    def extra_faults(self) -> frozenset[str]:
        return frozenset({"dropped"})

    def fault_response(self, fault: Fault, op: str, request: Request) -> Response:
        if fault.kind == "dropped":
            drop = {"code": fault.extra.get("code", "msg_rejected"), "message": "Your message was not sent."}
            return JSONResponse({"data": [{"message_id": "", "is_sent": False, "drop_reason": drop}]})
        if fault.kind == "server_error":
            return helix_error(fault.status, "Internal Server Error")
        if fault.kind == "rate_limited":
            reset = int(time.time() + (fault.retry_after or 10)) + 1
            headers = {"Ratelimit-Limit": "800", "Ratelimit-Remaining": "0", "Ratelimit-Reset": str(reset)}
            response = helix_error(429, "Too Many Requests")
            response.headers.update(headers)
            return response
        if fault.kind == "expired_token":
            return helix_error(401, "Unauthorized", "Invalid OAuth token")
        if fault.kind == "gone":
            return helix_error(404, "Not Found", "message not found")
        if fault.kind == "forbidden":
            return helix_error(403, "Forbidden", "The sender is banned from the channel")
        return helix_error(fault.status or 400, "Bad Request")

    def _authorised(self, request: Request) -> bool:
        return bool(bearer(request)) and bool(request.headers.get("client-id"))

    async def send(self, request: Request) -> Response:
        async def apply() -> Response:
            if not self._authorised(request):
                return helix_error(401, "Unauthorized", "Client ID and OAuth token required")
            body = await request.json()
            message = str(body.get("message", ""))
            if len(message) > 500:
                return helix_error(422, "Unprocessable Entity", "message is too large")
            parent = str(body.get("reply_parent_message_id") or "")
            if parent in self.gone:
                return helix_error(404, "Not Found", "reply parent message not found")
            message_id = str(uuid.uuid4())
            extra = {"sender_id": body.get("sender_id")}
            self.posted.append(Posted(message_id, parent, str(body.get("broadcaster_id")), message, extra))
            return JSONResponse({"data": [{"message_id": message_id, "is_sent": True, "drop_reason": None}]})

        return await self.serve(request, "reply", apply)

    async def delete(self, request: Request) -> Response:
        async def apply() -> Response:
            if not self._authorised(request):
                return helix_error(401, "Unauthorized")
            params = request.query_params
            message_id = params.get("message_id", "")
            if message_id in self.gone:
                return helix_error(404, "Not Found", "message not found")
            self.gone.add(message_id)
            extra = {
                "broadcaster_id": params.get("broadcaster_id"),
                "moderator_id": params.get("moderator_id"),
            }
            self.actions.append(Action("delete", message_id, extra))
            return Response(status_code=204)

        return await self.serve(request, "delete", apply)

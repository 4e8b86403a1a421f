"""The Telegram Bot API: sendMessage and deleteMessage at `/bot<token>/<method>`.

https://core.telegram.org/bots/api#making-requests : `{"ok": true, "result": ...}` or
`{"ok": false, "error_code", "description", "parameters"?}` with `retry_after` on flood control.
`tokens` lists the valid bot tokens (any non-empty token when None).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from tests.platforms.outbound.fakes.base import Action, FakePlatform, Fault, Posted


def tg_error(code: int, description: str, **parameters: Any) -> JSONResponse:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return JSONResponse(body, code)


class FakeTelegram(FakePlatform):
    name = "telegram"
    host = "telegram.fake"

    def __init__(self, tokens: set[str] | None = None, **kwargs: Any) -> None:
        self.tokens = tokens
        self.gone: set[tuple[int, int]] = set()
        super().__init__(**kwargs)

    def routes(self) -> Iterable[BaseRoute]:
        return [Route("/bot{token}/{method}", self.method, methods=["POST"])]

    def extra_faults(self) -> frozenset[str]:
        return frozenset({"migrated"})

    def fault_response(self, fault: Fault, op: str, request: Request) -> Response:
        if fault.kind == "migrated":
            return tg_error(
                400, "Bad Request: group chat was upgraded to a supergroup chat", migrate_to_chat_id=-1001
            )
        if fault.kind == "server_error":
            return tg_error(fault.status, "Internal Server Error")
        if fault.kind == "rate_limited":
            wait = int(fault.retry_after or 5)
            return tg_error(429, f"Too Many Requests: retry after {wait}", retry_after=wait)
        if fault.kind == "expired_token":
            return tg_error(401, "Unauthorized")
        if fault.kind == "gone":
            what = "message to delete not found" if op == "delete" else "message to be replied not found"
            return tg_error(400, f"Bad Request: {what}")
        if fault.kind == "forbidden":
            return tg_error(403, "Forbidden: bot was kicked from the supergroup chat")
        return tg_error(fault.status or 400, "Bad Request")

    async def method(self, request: Request) -> Response:
        token, method = request.path_params["token"], request.path_params["method"]
        if not token or (self.tokens is not None and token not in self.tokens):
            return tg_error(401, "Unauthorized")
        if method == "sendMessage":
            return await self.serve(request, "reply", lambda: self._send(request))
        if method == "deleteMessage":
            return await self.serve(request, "delete", lambda: self._delete(request))
        return tg_error(404, "Not Found: method not found")

    async def _send(self, request: Request) -> Response:
        body = await request.json()
        chat, text = int(body["chat_id"]), str(body.get("text", ""))
        if not text:
            return tg_error(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            return tg_error(400, "Bad Request: message is too long")
        reply_to = (body.get("reply_parameters") or {}).get("message_id")
        if reply_to is not None and (chat, int(reply_to)) in self.gone:
            return tg_error(400, "Bad Request: message to be replied not found")
        topic = body.get("message_thread_id")
        message_id = 10_000 + self.next_id()
        thread = str(topic) if topic is not None else str(chat)
        self.posted.append(Posted(str(message_id), str(reply_to), thread, text, {"chat_id": chat}))
        result: dict[str, Any] = {
            "message_id": message_id,
            "chat": {"id": chat},
            "date": 1764460800,
            "text": text,
        }
        if topic is not None:
            result["message_thread_id"] = topic
        return JSONResponse({"ok": True, "result": result})

    async def _delete(self, request: Request) -> Response:
        body = await request.json()
        key = (int(body["chat_id"]), int(body["message_id"]))
        if key in self.gone:
            return tg_error(400, "Bad Request: message to delete not found")
        self.gone.add(key)
        self.actions.append(Action("delete", str(key[1]), {"chat_id": key[0]}))
        return JSONResponse({"ok": True, "result": True})

"""Discord's REST API for messages: create (with nonce enforcement), list after an id, delete.

https://discord.com/developers/docs/reference#error-messages : errors are `{"code", "message"}`;
rate limits answer 429 with `{"message", "retry_after", "global"}` and `Retry-After`,
`X-RateLimit-Reset-After`, `X-RateLimit-Scope`. Message ids are snowflakes that grow with time.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from tests.platforms.outbound.fakes.base import Action, FakePlatform, Fault, Posted, bearer

SNOWFLAKE_BASE = 2_000_000_000_000_000_000
DEFAULT_AUTHOR = "555000000000000001"


class FakeDiscord(FakePlatform):
    name = "discord"
    host = "discord.fake"
    prefix = "/api/v10"

    def __init__(self, bot_ids: dict[str, str] | None = None, **kwargs: Any) -> None:
        self.bot_ids = dict(bot_ids or {})
        self.gone: set[str] = set()
        self.nonces: dict[tuple[str, str], str] = {}
        self.authors: dict[str, str] = {}  # message id -> author's user id (DEFAULT_AUTHOR otherwise)
        self.left: set[str] = set()  # users no longer in the guild
        super().__init__(**kwargs)

    def author_of(self, message_id: str) -> str:
        return self.authors.get(message_id, DEFAULT_AUTHOR)

    def routes(self) -> Iterable[BaseRoute]:
        return [
            Route(f"{self.prefix}/users/@me", self.me, methods=["GET"]),
            Route(f"{self.prefix}/channels/{{channel}}/messages", self.messages, methods=["GET", "POST"]),
            Route(
                f"{self.prefix}/channels/{{channel}}/messages/{{message}}",
                self.message,
                methods=["GET", "DELETE"],
            ),
            Route(f"{self.prefix}/guilds/{{guild}}/members/{{user}}", self.timeout, methods=["PATCH"]),
            Route(f"{self.prefix}/guilds/{{guild}}/bans/{{user}}", self.ban, methods=["PUT"]),
        ]

    def fault_response(self, fault: Fault, op: str, request: Request) -> Response:
        if fault.kind == "server_error":
            return JSONResponse({"message": "500: Internal Server Error", "code": 0}, fault.status)
        if fault.kind == "rate_limited":
            wait = fault.retry_after or 1.5
            body = {"message": "You are being rate limited.", "retry_after": wait, "global": False}
            headers = {
                "Retry-After": str(int(wait) + 1),
                "X-RateLimit-Reset-After": str(wait),
                "X-RateLimit-Scope": "user",
            }
            return JSONResponse(body, 429, headers=headers)
        if fault.kind == "expired_token":
            return JSONResponse({"message": "401: Unauthorized", "code": 0}, 401)
        if fault.kind == "gone":
            if op == "reply":
                return JSONResponse({"message": "Unknown Channel", "code": 10003}, 404)
            if op == "timeout":
                return JSONResponse({"message": "Unknown Member", "code": 10007}, 404)
            if op == "ban":
                return JSONResponse({"message": "Unknown User", "code": 10013}, 404)
            return JSONResponse({"message": "Unknown Message", "code": 10008}, 404)
        if fault.kind == "forbidden" or fault.status == 403:
            return JSONResponse({"message": "Missing Permissions", "code": 50013}, 403)
        return JSONResponse({"message": "Bad Request", "code": 50035}, fault.status or 400)

    def _bot(self, request: Request) -> str:
        return self.bot_ids.get(bearer(request) or "", "1000000000000000001")

    async def me(self, request: Request) -> Response:
        async def apply() -> Response:
            return JSONResponse({"id": self._bot(request), "username": "vigie", "bot": True})

        return await self.serve(request, "identity", apply)

    async def messages(self, request: Request) -> Response:
        if request.method == "GET":
            return await self.serve(request, "lookup", lambda: self._list(request))
        return await self.serve(request, "reply", lambda: self._create(request))

    def _resource(self, post: Posted) -> dict[str, Any]:
        message: dict[str, Any] = {
            "id": post.id,
            "channel_id": post.thread,
            "content": post.text,
            "author": {"id": post.extra["author"], "bot": True},
        }
        if post.target:
            message["message_reference"] = {"message_id": post.target, "channel_id": post.thread}
        return message

    async def _create(self, request: Request) -> Response:
        if not request.headers.get("authorization", "").startswith("Bot "):
            return JSONResponse({"message": "401: Unauthorized", "code": 0}, 401)
        channel = request.path_params["channel"]
        if channel in self.gone:
            return JSONResponse({"message": "Unknown Channel", "code": 10003}, 404)
        body = await request.json()
        content = str(body.get("content", ""))
        if not content or len(content) > 2000:
            return JSONResponse({"message": "Invalid Form Body", "code": 50035}, 400)
        author = self._bot(request)
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            known = self.nonces.get((author, str(nonce)))
            if known is not None:
                post = next(p for p in self.posted if p.id == known)
                return JSONResponse(self._resource(post))
        reference = body.get("message_reference") or {}
        target = str(reference.get("message_id") or "")
        if target in self.gone and reference.get("fail_if_not_exists", True):
            return JSONResponse({"message": "Unknown message", "code": 50035}, 400)
        if target in self.gone:
            target = ""
        message_id = str(SNOWFLAKE_BASE + self.next_id())
        post = Posted(message_id, target, channel, content, {"author": author, "nonce": nonce})
        self.posted.append(post)
        if nonce is not None:
            self.nonces[(author, str(nonce))] = message_id
        return JSONResponse(self._resource(post))

    async def _list(self, request: Request) -> Response:
        channel = request.path_params["channel"]
        after = int(request.query_params.get("after", "0"))
        found = [self._resource(p) for p in self.posted if p.thread == channel and int(p.id) > after]
        return JSONResponse(list(reversed(found)))  # newest first, as Discord lists them

    async def message(self, request: Request) -> Response:
        if request.method == "DELETE":
            return await self.delete(request)

        async def apply() -> Response:
            message = request.path_params["message"]
            if message in self.gone:
                return JSONResponse({"message": "Unknown Message", "code": 10008}, 404)
            author = {"id": self.author_of(message), "username": "someone"}
            return JSONResponse(
                {"id": message, "channel_id": request.path_params["channel"], "author": author}
            )

        return await self.serve(request, "fetch", apply)

    async def timeout(self, request: Request) -> Response:
        async def apply() -> Response:
            user = request.path_params["user"]
            if user in self.left:
                return JSONResponse({"message": "Unknown Member", "code": 10007}, 404)
            until = (await request.json()).get("communication_disabled_until")
            extra = {
                "guild": request.path_params["guild"],
                "until": until,
                "reason": request.headers.get("x-audit-log-reason"),
            }
            self.actions.append(Action("timeout", user, extra))
            return JSONResponse({"user": {"id": user}, "communication_disabled_until": until})

        return await self.serve(request, "timeout", apply)

    async def ban(self, request: Request) -> Response:
        async def apply() -> Response:
            user = request.path_params["user"]
            self.actions.append(Action("ban", user, {"guild": request.path_params["guild"]}))
            return Response(status_code=204)

        return await self.serve(request, "ban", apply)

    async def delete(self, request: Request) -> Response:
        async def apply() -> Response:
            message = request.path_params["message"]
            if message in self.gone:
                return JSONResponse({"message": "Unknown Message", "code": 10008}, 404)
            self.gone.add(message)
            self.actions.append(Action("delete", message, {"channel": request.path_params["channel"]}))
            return Response(status_code=204)

        return await self.serve(request, "delete", apply)

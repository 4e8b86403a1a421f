"""The YouTube Data API's comment writes: comments.insert, comments.list by parent, setModerationStatus.

Errors follow https://developers.google.com/youtube/v3/docs/errors :
`{"error": {"code", "message", "errors": [{"domain", "reason", "message"}]}}`. `owners` maps an
OAuth token to the channel it acts as.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from tests.platforms.outbound.fakes.base import Action, FakePlatform, Fault, Posted, bearer

_OPS = {"heldForReview": "hide", "published": "unhide", "rejected": "delete"}


def yt_error(status: int, reason: str, domain: str = "youtube.comment") -> dict[str, Any]:
    return {
        "error": {
            "code": status,
            "message": reason,
            "errors": [{"domain": domain, "reason": reason, "message": reason}],
        }
    }


class FakeYouTubeComments(FakePlatform):
    name = "youtube"
    host = "youtube.fake"
    prefix = "/youtube/v3"

    def __init__(self, owners: dict[str, str] | None = None, **kwargs: Any) -> None:
        self.owners = dict(owners or {})
        self.gone: set[str] = set()
        self.units = 0
        super().__init__(**kwargs)

    def routes(self) -> Iterable[BaseRoute]:
        return [
            Route(f"{self.prefix}/comments", self.comments, methods=["GET", "POST"]),
            Route(f"{self.prefix}/comments/setModerationStatus", self.moderate, methods=["POST"]),
        ]

    def extra_faults(self) -> frozenset[str]:
        return frozenset({"quota"})

    def fault_response(self, fault: Fault, op: str, request: Request) -> Response:
        if fault.kind == "quota":
            return JSONResponse(yt_error(403, "quotaExceeded", "youtube.quota"), 403)
        if fault.kind == "server_error":
            return JSONResponse(yt_error(fault.status, "backendError", "global"), fault.status)
        if fault.kind == "rate_limited":
            headers = {"Retry-After": str(int(fault.retry_after))} if fault.retry_after else {}
            return JSONResponse(yt_error(429, "rateLimitExceeded", "youtube.api"), 429, headers=headers)
        if fault.kind == "expired_token":
            return JSONResponse(yt_error(401, "authError", "global"), 401)
        if fault.kind == "gone":
            return JSONResponse(yt_error(404, "commentNotFound"), 404)
        if fault.kind == "forbidden":
            return JSONResponse(yt_error(403, "forbidden"), 403)
        return JSONResponse(yt_error(fault.status, "badRequest"), fault.status)

    def _channel(self, request: Request) -> str:
        return self.owners.get(bearer(request) or "", "UC-unknown")

    async def comments(self, request: Request) -> Response:
        if request.method == "GET":
            return await self.serve(request, "lookup", lambda: self._list(request))
        return await self.serve(request, "reply", lambda: self._insert(request))

    async def _insert(self, request: Request) -> Response:
        if request.query_params.get("part") != "snippet":
            return JSONResponse(yt_error(400, "missingRequiredParameter"), 400)
        snippet = (await request.json()).get("snippet", {})
        parent = str(snippet.get("parentId", ""))
        if "." in parent:
            return JSONResponse(yt_error(400, "operationNotSupported"), 400)
        if parent in self.gone:
            return JSONResponse(yt_error(404, "parentCommentNotFound"), 404)
        self.units += 50
        reply_id = f"{parent}.fake{self.next_id():04d}"
        text = str(snippet.get("textOriginal", ""))
        self.posted.append(Posted(reply_id, parent, parent, text, {"author": self._channel(request)}))
        return JSONResponse(self._resource(self.posted[-1]))

    @staticmethod
    def _resource(post: Posted) -> dict[str, Any]:
        return {
            "kind": "youtube#comment",
            "id": post.id,
            "snippet": {
                "parentId": post.target,
                "textOriginal": post.text,
                "textDisplay": post.text,
                "authorChannelId": {"value": post.extra["author"]},
            },
        }

    async def _list(self, request: Request) -> Response:
        self.units += 1
        parent = request.query_params.get("parentId", "")
        items = [self._resource(post) for post in self.posted if post.target == parent]
        return JSONResponse({"kind": "youtube#commentListResponse", "items": items})

    async def moderate(self, request: Request) -> Response:
        status = request.query_params.get("moderationStatus", "")
        ban = request.query_params.get("banAuthor") == "true"
        op = "ban" if ban else _OPS.get(status, "unknown")
        return await self.serve(request, op, lambda: self._moderate(request, op, status))

    async def _moderate(self, request: Request, op: str, status: str) -> Response:
        comment_id = request.query_params.get("id", "")
        if status not in _OPS:
            return JSONResponse(yt_error(400, "invalidModerationStatus"), 400)
        if comment_id in self.gone:
            return JSONResponse(yt_error(404, "commentNotFound"), 404)
        self.units += 50
        self.actions.append(Action(op, comment_id, {"moderationStatus": status}))
        return Response(status_code=204)

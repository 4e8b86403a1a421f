"""Meta's Graph API for Page and Instagram comments: create replies, list them, hide, delete.

Error bodies follow https://developers.facebook.com/docs/graph-api/guides/error-handling : HTTP 400
(500 for server trouble) with `{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`.
Rate limiting is code 32 (Page-level) with `X-Business-Use-Case-Usage` giving the minutes to wait.
`owners` maps an access token to the Page or Instagram account it acts as (the author of replies).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from tests.platforms.outbound.fakes.base import Action, FakePlatform, Fault, Posted, bearer, form

VERSION = "v23.0"


def graph_error(code: int, status: int = 400, subcode: int | None = None, **extra: Any) -> dict[str, Any]:
    error: dict[str, Any] = {"message": f"fake error {code}", "type": "OAuthException", "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    error.update(extra)
    error["fbtrace_id"] = "AbCdEf"
    return {"error": error}


class FakeGraph(FakePlatform):
    name = "graph"
    host = "graph.fake"
    prefix = f"/{VERSION}"

    def __init__(self, owners: dict[str, str] | None = None, **kwargs: Any) -> None:
        self.owners = dict(owners or {})
        self.gone: set[str] = set()
        super().__init__(**kwargs)

    def routes(self) -> Iterable[BaseRoute]:
        return [
            Route(f"{self.prefix}/{{object_id}}/{{edge}}", self.edge, methods=["GET", "POST"]),
            Route(f"{self.prefix}/{{object_id}}", self.node, methods=["POST", "DELETE"]),
        ]

    def extra_faults(self) -> frozenset[str]:
        return frozenset({"graph_code"})

    def fault_response(self, fault: Fault, op: str, request: Request) -> Response:
        if fault.kind == "graph_code":
            code = int(fault.extra["code"])
            return JSONResponse(
                graph_error(code, int(fault.extra.get("http", 400))), int(fault.extra.get("http", 400))
            )
        if fault.kind == "server_error":
            return JSONResponse(graph_error(2, is_transient=True), fault.status)
        if fault.kind == "rate_limited" and fault.extra.get("plain"):
            # A bare HTTP 429 with Retry-After in seconds, which the Graph client honours too:
            # `fail_next(429, retry_after=2, plain=True)`.
            headers = {"Retry-After": str(int(fault.retry_after or 60))}
            return JSONResponse(graph_error(4), 429, headers=headers)
        if fault.kind == "rate_limited":
            minutes = math.ceil((fault.retry_after or 60) / 60)
            usage = {
                "page": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": minutes}]
            }
            return JSONResponse(
                graph_error(32), 400, headers={"X-Business-Use-Case-Usage": json.dumps(usage)}
            )
        if fault.kind == "expired_token":
            return JSONResponse(graph_error(190, subcode=463), 400)
        if fault.kind in ("gone",):
            return JSONResponse(graph_error(100, subcode=33), 400)
        if fault.kind == "forbidden":
            return JSONResponse(graph_error(10), 400)
        return JSONResponse(graph_error(1, fault.status), fault.status or 400)

    def _owner(self, request: Request) -> str:
        return self.owners.get(bearer(request) or "", "unknown-owner")

    async def edge(self, request: Request) -> Response:
        object_id, edge = request.path_params["object_id"], request.path_params["edge"]
        if edge not in ("comments", "replies"):
            return JSONResponse(graph_error(100), 400)
        if request.method == "GET":
            return await self.serve(request, "lookup", lambda: self._list(request, object_id, edge))
        return await self.serve(request, "reply", lambda: self._create(request, object_id, edge))

    async def _create(self, request: Request, object_id: str, edge: str) -> Response:
        if not bearer(request):
            return JSONResponse(graph_error(104), 400)
        if object_id in self.gone:
            return JSONResponse(graph_error(100, subcode=33), 400)
        fields = await form(request)
        message = str(fields.get("message", ""))
        reply_id = f"{object_id}_r{self.next_id()}"
        self.posted.append(
            Posted(reply_id, object_id, object_id, message, {"edge": edge, "author": self._owner(request)})
        )
        return JSONResponse({"id": reply_id})

    async def _list(self, request: Request, object_id: str, edge: str) -> Response:
        if object_id in self.gone:
            return JSONResponse(graph_error(100, subcode=33), 400)
        data = []
        for post in self.posted:
            if post.target != object_id or post.extra["edge"] != edge:
                continue
            if edge == "comments":
                data.append({"id": post.id, "message": post.text, "from": {"id": post.extra["author"]}})
            else:  # Instagram gives `user` only for comments by the token's own account
                item: dict[str, Any] = {"id": post.id, "text": post.text}
                if post.extra["author"] == self._owner(request):
                    item["user"] = {"id": post.extra["author"]}
                data.append(item)
        return JSONResponse({"data": data, "paging": {"cursors": {"before": "b", "after": "a"}}})

    async def node(self, request: Request) -> Response:
        object_id = request.path_params["object_id"]
        if request.method == "DELETE":
            return await self.serve(request, "delete", lambda: self._apply(object_id, "delete"))
        fields = await form(request)
        flag = fields.get("is_hidden", fields.get("hide"))
        if flag is None:
            return JSONResponse(graph_error(100), 400)
        op = "hide" if flag == "true" else "unhide"
        return await self.serve(request, op, lambda: self._apply(object_id, op))

    async def _apply(self, object_id: str, op: str) -> Response:
        if object_id in self.gone:
            return JSONResponse(graph_error(100, subcode=33), 400)
        self.actions.append(Action(op, object_id))
        if op == "delete":
            self.gone.add(object_id)
        return JSONResponse({"success": True})

"""Slack's Web API: conversations.replies, chat.postMessage, chat.delete, auth.test.

Every answer is HTTP 200 with `{"ok": true, ...}` or `{"ok": false, "error": "<code>"}`, except rate
limiting (HTTP 429 with `Retry-After`). Messages are addressed by channel and `ts`; a threaded reply
has `thread_ts` naming its parent. Message text arrives escaped (&amp; &lt; &gt;); `posted` keeps the
text a reader sees.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from tests.platforms.outbound.fakes.base import Action, FakePlatform, Fault, Posted, bearer, form

BOT_USER, BOT_ID = "U0VIGIE", "B0VIGIE"


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


class FakeSlack(FakePlatform):
    name = "slack"
    host = "slack.fake"
    prefix = "/api"

    def __init__(self, **kwargs: Any) -> None:
        self.parents: dict[tuple[str, str], str] = {}  # (channel, reply ts) -> parent ts
        self.gone: set[tuple[str, str]] = set()
        self.raw_texts: list[str] = []
        super().__init__(**kwargs)

    def add_thread_reply(self, channel: str, parent_ts: str, ts: str) -> None:
        """Declares an existing message `ts` to be a reply in `parent_ts`'s thread (by someone else)."""
        self.parents[(channel, ts)] = parent_ts

    def routes(self) -> Iterable[BaseRoute]:
        return [Route(f"{self.prefix}/{{method}}", self.method, methods=["GET", "POST"])]

    def extra_faults(self) -> frozenset[str]:
        return frozenset({"slack_error"})

    def fault_response(self, fault: Fault, op: str, request: Request) -> Response:
        if fault.kind == "slack_error":
            return JSONResponse({"ok": False, "error": fault.extra["error"]})
        if fault.kind == "server_error":
            return JSONResponse({"ok": False, "error": "service_unavailable"}, fault.status)
        if fault.kind == "rate_limited":
            headers = {"Retry-After": str(int(fault.retry_after or 30))}
            return JSONResponse({"ok": False, "error": "ratelimited"}, 429, headers=headers)
        if fault.kind == "expired_token":
            return JSONResponse({"ok": False, "error": "token_expired"})
        if fault.kind == "gone":
            error = "message_not_found" if op == "delete" else "thread_not_found"
            return JSONResponse({"ok": False, "error": error})
        if fault.kind == "forbidden":
            return JSONResponse({"ok": False, "error": "not_in_channel"})
        return JSONResponse({"ok": False, "error": "invalid_arguments"}, fault.status or 200)

    _OPS: ClassVar[dict[str, str]] = {
        "conversations.replies": "lookup",
        "chat.postMessage": "reply",
        "chat.delete": "delete",
        "auth.test": "identity",
    }

    async def method(self, request: Request) -> Response:
        method = request.path_params["method"]
        op = self._OPS.get(method)
        if op is None:
            return JSONResponse({"ok": False, "error": "unknown_method"}, 404)
        if not bearer(request):
            return JSONResponse({"ok": False, "error": "not_authed"})
        handler = {
            "lookup": self._replies,
            "reply": self._post,
            "delete": self._delete,
            "identity": self._auth_test,
        }[op]
        return await self.serve(request, op, lambda: handler(request))

    async def _args(self, request: Request) -> dict[str, Any]:
        if request.method == "GET":
            return dict(request.query_params)
        if request.headers.get("content-type", "").startswith("application/json"):
            body = await request.json()
            return dict(body) if isinstance(body, dict) else {}
        return await form(request)

    async def _auth_test(self, request: Request) -> Response:
        return JSONResponse({"ok": True, "user_id": BOT_USER, "bot_id": BOT_ID, "team_id": "T0FAKE"})

    def _root(self, channel: str, ts: str) -> str:
        return self.parents.get((channel, ts), ts)

    async def _replies(self, request: Request) -> Response:
        args = await self._args(request)
        channel, ts = str(args.get("channel")), str(args.get("ts"))
        if (channel, ts) in self.gone:
            return JSONResponse({"ok": False, "error": "thread_not_found"})
        root = self._root(channel, ts)
        children = [
            {"type": "message", "ts": ts_, "thread_ts": root, "user": "U0SOMEONE", "text": "(someone)"}
            for (ch, ts_), parent in self.parents.items()
            if ch == channel and parent == root
        ]
        children += [
            {
                "type": "message",
                "ts": p.id,
                "thread_ts": root,
                "user": BOT_USER,
                "bot_id": BOT_ID,
                "text": p.extra["raw"],
            }
            for p in self.posted
            if p.thread == channel and p.target == root
        ]
        children.sort(key=lambda m: float(m["ts"]))
        oldest = float(args.get("oldest", "0") or 0)
        children = [m for m in children if float(m["ts"]) >= oldest]
        parent: dict[str, Any] = {"type": "message", "ts": root, "user": "U0ASKER", "text": "(question)"}
        if children:
            parent["thread_ts"] = root
        messages = [parent, *children][: int(args.get("limit", "1000") or 1000)]
        return JSONResponse({"ok": True, "messages": messages, "has_more": False})

    async def _post(self, request: Request) -> Response:
        args = await self._args(request)
        channel = str(args.get("channel", ""))
        thread_ts = str(args.get("thread_ts") or "")
        raw = str(args.get("text", ""))
        if not channel or not raw:
            return JSONResponse({"ok": False, "error": "no_text" if channel else "channel_not_found"})
        self.raw_texts.append(raw)
        ts = f"1764460900.{self.next_id():06d}"
        self.posted.append(Posted(ts, thread_ts, channel, _unescape(raw), {"raw": raw}))
        return JSONResponse({"ok": True, "channel": channel, "ts": ts, "message": {"ts": ts, "text": raw}})

    async def _delete(self, request: Request) -> Response:
        args = await self._args(request)
        channel, ts = str(args.get("channel")), str(args.get("ts"))
        if (channel, ts) in self.gone:
            return JSONResponse({"ok": False, "error": "message_not_found"})
        self.gone.add((channel, ts))
        self.actions.append(Action("delete", ts, {"channel": channel, "token": bearer(request)}))
        return JSONResponse({"ok": True, "channel": channel, "ts": ts})

"""A local stand-in for an OpenAI-compatible chat-completions endpoint, scripted per test."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


class FakeChat:
    """Answers each call with the next scripted reply: a text, an HTTP status, or a delay in seconds."""

    def __init__(self) -> None:
        self.script: deque[tuple[str, Any]] = deque()
        self.requests: list[dict[str, Any]] = []
        self.app = Starlette(routes=[Route("/v1/chat/completions", self._complete, methods=["POST"])])

    def reply(self, text: str) -> None:
        self.script.append(("text", text))

    def fail(self, status: int) -> None:
        self.script.append(("status", status))

    def stall(self, seconds: float) -> None:
        self.script.append(("stall", seconds))

    async def _complete(self, request: Request) -> JSONResponse:
        body = await request.json()
        self.requests.append({"body": body, "authorization": request.headers.get("authorization")})
        kind, value = self.script.popleft() if self.script else ("status", 500)
        if kind == "status":
            return JSONResponse({"error": {"message": "scripted failure"}}, status_code=value)
        if kind == "stall":
            await asyncio.sleep(value)
            return JSONResponse({"choices": [{"message": {"role": "assistant", "content": "late"}}]})
        return JSONResponse(
            {
                "id": "chatcmpl-1",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": value}}],
            }
        )

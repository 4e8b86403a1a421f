"""What every fake platform shares: recording, scripted faults, and an httpx transport to reach it.

A fake is a Starlette app playing one platform's documented API. Tests reach it in process through
`fake.transport` (an ASGI transport; a scripted timeout applies the request, then loses the
answer, exactly the ambiguous case), or serve `fake.app` with uvicorn for a real port, where a
timeout holds the answer for `hang_seconds`.

    fake.fail_next(503)                     # the next call answers 503
    fake.fail_next(429, 2, retry_after=7)   # the next two are rate limited for 7 seconds
    fake.fail_next("expired_token")         # the token is dead
    fake.fail_next("gone")                  # the comment no longer exists
    fake.fail_next("timeout", on="reply")   # the next reply is applied, its answer lost
    fake.posted, fake.actions, fake.calls   # what was created, what was moderated, every call
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

FAULT_KINDS = frozenset({"server_error", "rate_limited", "expired_token", "gone", "timeout", "forbidden"})
_LOST = "x-fake-answer-lost"
_IN_PROCESS = "x-fake-in-process"


@dataclass(frozen=True, slots=True)
class Fault:
    kind: str
    status: int
    retry_after: float | None
    on: frozenset[str] | None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Posted:
    """A reply the fake created: its id, the comment it answers, the thread it landed in, its text."""

    id: str
    target: str
    thread: str
    text: str
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Action:
    """A moderation call the fake applied."""

    operation: str
    target: str
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Call:
    op: str
    method: str
    path: str
    fault: str | None


class FakePlatform:
    name = "fake"
    host = "fake.test"
    prefix = ""

    def __init__(self, *, hang_seconds: float = 30.0) -> None:
        self.posted: list[Posted] = []
        self.actions: list[Action] = []
        self.calls: list[Call] = []
        self.hang_seconds = hang_seconds
        self._faults: deque[Fault] = deque()
        self._ids = itertools.count(1)
        self.app = Starlette(routes=list(self.routes()))

    # -- what tests use ------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://{self.host}{self.prefix}"

    @property
    def transport(self) -> httpx.AsyncBaseTransport:
        return FakeTransport(self)

    def fail_next(
        self,
        fault: int | str,
        count: int = 1,
        *,
        retry_after: float | None = None,
        on: str | Iterable[str] | None = None,
        **extra: Any,
    ) -> None:
        """Script the next `count` matching calls; `on` limits it to some operations (e.g. "reply")."""
        if isinstance(fault, int):
            kind = "rate_limited" if fault == 429 else "server_error" if fault >= 500 else "status"
            status = fault
        elif fault in FAULT_KINDS or fault in self.extra_faults():
            kind, status = fault, 0
        else:
            raise ValueError(f"unknown fault {fault!r}")
        scope = None if on is None else frozenset([on] if isinstance(on, str) else on)
        for _ in range(count):
            self._faults.append(Fault(kind, status, retry_after, scope, dict(extra)))

    def clear_faults(self) -> None:
        self._faults.clear()

    def calls_to(self, op: str) -> list[Call]:
        return [call for call in self.calls if call.op == op]

    # -- what platform fakes implement ----------------------------------------------------------
    def routes(self) -> Iterable[BaseRoute]:
        raise NotImplementedError

    def extra_faults(self) -> frozenset[str]:
        return frozenset()

    def fault_response(self, fault: Fault, op: str, request: Request) -> Response:
        raise NotImplementedError

    # -- helpers for platform fakes -------------------------------------------------------------
    def next_id(self) -> int:
        return next(self._ids)

    def _take_fault(self, op: str) -> Fault | None:
        for index, fault in enumerate(self._faults):
            if fault.on is None or op in fault.on:
                del self._faults[index]
                return fault
        return None

    async def serve(self, request: Request, op: str, apply: Callable[[], Awaitable[Response]]) -> Response:
        """Record the call, then answer with the scripted fault or apply it (and maybe lose the answer)."""
        fault = self._take_fault(op)
        self.calls.append(Call(op, request.method, request.url.path, fault.kind if fault else None))
        if fault is not None and fault.kind != "timeout":
            return self.fault_response(fault, op, request)
        response = await apply()
        if fault is not None:
            if request.headers.get(_IN_PROCESS) != "1":
                await asyncio.sleep(self.hang_seconds)
            response.headers[_LOST] = "1"
        return response


class FakeTransport(httpx.AsyncBaseTransport):
    """ASGI transport to one fake; turns a scripted timeout into the ReadTimeout a client would see."""

    def __init__(self, fake: FakePlatform) -> None:
        self._asgi = httpx.ASGITransport(app=fake.app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.headers[_IN_PROCESS] = "1"
        response = await self._asgi.handle_async_request(request)
        if response.headers.get(_LOST) == "1":
            await response.aread()
            raise httpx.ReadTimeout("the fake lost the answer", request=request)
        return response


class FakeRouter(httpx.AsyncBaseTransport):
    """One transport for several fakes, chosen by host: what an end-to-end test hands the HTTP pool."""

    def __init__(self, fakes: Iterable[FakePlatform]) -> None:
        self._by_host = {fake.host: FakeTransport(fake) for fake in fakes}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        transport = self._by_host.get(request.url.host)
        if transport is None:
            raise httpx.ConnectError(f"no fake serves {request.url.host}", request=request)
        return await transport.handle_async_request(request)


def bearer(request: Request) -> str | None:
    value = request.headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    return token if scheme.lower() in ("bearer", "bot", "oauth") and token else None


async def form(request: Request) -> dict[str, str]:
    """An urlencoded body (what Graph clients send) without needing python-multipart."""
    pairs = parse_qsl((await request.body()).decode(), keep_blank_values=True)
    return dict(pairs)

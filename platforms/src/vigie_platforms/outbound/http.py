"""One long-lived `httpx.AsyncClient` per base URL, and the one place transport errors are classified.

A request that never left (connection refused, DNS, pool exhausted, connect timeout) cannot have
been applied. One whose answer was lost (read timeout, connection reset mid-answer) may have been:
for a call that creates something, that is the ambiguous case the dispatcher must be told about.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from vigie_platforms.outbound.base import RetryAfter
from vigie_platforms.outbound.redact import install_log_redaction

USER_AGENT = "Vigie/0.1 (+https://github.com/vigie-moderation/vigie)"
TRANSPORT_RETRY_SECONDS = 2.0

# Raised before the request could reach the platform: safe to send again.
_NOT_SENT: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
)


@dataclass(frozen=True, slots=True)
class Timeouts:
    total: float = 10.0
    connect: float = 5.0

    def httpx(self) -> httpx.Timeout:
        return httpx.Timeout(self.total, connect=self.connect)


class HttpPool:
    """Clients keyed by base URL, built on first use, closed together by the owner's lifespan.

    `transport` replaces the network for every client (tests pass a fake's ASGI transport); the
    timeouts are explicit because httpx's 5-second default is too short for Graph's slow writes and
    too long to notice a dead connection pool.
    """

    def __init__(
        self, *, timeouts: Timeouts | None = None, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._timeouts = timeouts or Timeouts()
        self._transport = transport
        self._clients: dict[str, httpx.AsyncClient] = {}
        self._closed = False
        install_log_redaction()

    def client(self, base_url: str) -> httpx.AsyncClient:
        if self._closed:
            raise RuntimeError("HttpPool is closed")
        key = base_url.rstrip("/")
        client = self._clients.get(key)
        if client is None:
            client = httpx.AsyncClient(
                base_url=key,
                timeout=self._timeouts.httpx(),
                transport=self._transport,
                headers={"User-Agent": USER_AGENT},
                follow_redirects=False,
            )
            self._clients[key] = client
        return client

    def __len__(self) -> int:
        return len(self._clients)

    async def aclose(self) -> None:
        self._closed = True
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()


async def send(
    client: httpx.AsyncClient, method: str, url: str, *, creates: bool, **kwargs: Any
) -> httpx.Response | RetryAfter:
    """The response, or a RetryAfter when the transport failed (ambiguous when `creates` and sent)."""
    try:
        return await client.request(method, url, **kwargs)
    except _NOT_SENT:
        return RetryAfter(TRANSPORT_RETRY_SECONDS, "connection_error", ambiguous=False)
    except httpx.TimeoutException:
        return RetryAfter(TRANSPORT_RETRY_SECONDS, "timeout", ambiguous=creates)
    except httpx.TransportError:
        # Reset or protocol error after the request went out: the platform may have acted on it.
        return RetryAfter(TRANSPORT_RETRY_SECONDS, "connection_lost", ambiguous=creates)

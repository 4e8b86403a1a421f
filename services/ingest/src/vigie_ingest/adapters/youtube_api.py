"""The YouTube Data API client: one long-lived httpx.AsyncClient with explicit timeouts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


class YouTubeUnavailable(RuntimeError):
    """The API could not be reached or answered with a server error; try again later."""


@dataclass(frozen=True, slots=True)
class Page:
    status_code: int
    body: dict[str, Any]


class YouTubeApi:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._key = api_key
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/",
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            limits=httpx.Limits(max_connections=4, max_keepalive_connections=2),
            headers={"Accept": "application/json", "User-Agent": "vigie-ingest"},
            transport=transport,
        )

    async def close(self) -> None:
        await self._client.aclose()

    async def comment_threads(self, channel_id: str, page_token: str | None) -> Page:
        params = {
            "part": "snippet,replies",
            "allThreadsRelatedToChannelId": channel_id,
            "order": "time",
            "maxResults": "100",
            "textFormat": "plainText",
            "key": self._key,
        }
        if page_token:
            params["pageToken"] = page_token
        try:
            response = await self._client.get("commentThreads", params=params)
        except httpx.HTTPError as error:
            # The URL carries the key: report the error's kind only.
            raise YouTubeUnavailable(f"commentThreads.list failed: {type(error).__name__}") from None
        if response.status_code >= 500:
            raise YouTubeUnavailable(f"commentThreads.list answered {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            raise YouTubeUnavailable("commentThreads.list answered something other than JSON") from None
        return Page(response.status_code, body if isinstance(body, dict) else {})

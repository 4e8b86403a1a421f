"""A small stand-in for the YouTube Data API's commentThreads.list, served over real HTTP."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

API_KEY = "AIza-test-key"


def thread(channel: str, video: str, n: int, published: str, replies: int = 0) -> dict[str, Any]:
    top_id = f"Ugz{n:04d}"

    def comment(cid: str, text: str, at: str, parent: str | None = None) -> dict[str, Any]:
        snippet: dict[str, Any] = {
            "channelId": channel,
            "videoId": video,
            "textDisplay": text,
            "textOriginal": text,
            "authorDisplayName": f"@viewer{n}",
            "authorProfileImageUrl": "https://yt3.ggpht.com/x",
            "authorChannelUrl": f"http://www.youtube.com/@viewer{n}",
            "authorChannelId": {"value": f"UCviewer{n:04d}"},
            "canRate": True,
            "viewerRating": "none",
            "likeCount": 0,
            "publishedAt": at,
            "updatedAt": at,
        }
        if parent:
            snippet["parentId"] = parent
        return {"kind": "youtube#comment", "etag": "e", "id": cid, "snippet": snippet}

    item: dict[str, Any] = {
        "kind": "youtube#commentThread",
        "etag": "e",
        "id": top_id,
        "snippet": {
            "channelId": channel,
            "videoId": video,
            "topLevelComment": comment(top_id, f"comment {n}", published),
            "canReply": True,
            "totalReplyCount": replies,
            "isPublic": True,
        },
    }
    if replies:
        item["replies"] = {
            "comments": [
                comment(f"{top_id}.r{r}", f"reply {n}.{r}", published.replace("Z", f".{r + 1}Z"), top_id)
                for r in range(replies)
            ]
        }
    return item


class FakeYouTube:
    """Threads newest first, `page_size` per page; can be told to fail or to be out of quota."""

    def __init__(self, page_size: int = 2) -> None:
        self.threads: dict[str, list[dict[str, Any]]] = {}
        self.page_size = page_size
        self.requests: list[dict[str, str]] = []
        self.fail_with: int | None = None
        self.out_of_quota = False
        self.app = Starlette(routes=[Route("/youtube/v3/commentThreads", self.list_threads)])

    def add(self, channel: str, item: dict[str, Any]) -> None:
        self.threads.setdefault(channel, []).insert(0, item)  # newest first, like order=time

    async def list_threads(self, request: Request) -> JSONResponse:
        params = dict(request.query_params)
        self.requests.append(params)
        if params.get("key") != API_KEY:
            return JSONResponse({"error": {"code": 400, "errors": [{"reason": "keyInvalid"}]}}, 400)
        if self.out_of_quota:
            error = {
                "code": 403,
                "message": "quota",
                "errors": [{"reason": "quotaExceeded", "domain": "youtube.quota"}],
            }
            return JSONResponse({"error": error}, 403)
        if self.fail_with:
            return JSONResponse({"error": {"code": self.fail_with}}, self.fail_with)
        assert params["part"] == "snippet,replies" and params["order"] == "time"
        items = self.threads.get(params["allThreadsRelatedToChannelId"], [])
        start = int(params.get("pageToken", "0"))
        page = items[start : start + self.page_size]
        body: dict[str, Any] = {
            "kind": "youtube#commentThreadListResponse",
            "pageInfo": {"totalResults": len(page), "resultsPerPage": self.page_size},
            "items": page,
        }
        if start + self.page_size < len(items):
            body["nextPageToken"] = str(start + self.page_size)
        return JSONResponse(body)

"""YouTube comments, read by polling `commentThreads.list` (YouTube pushes no comments).

https://developers.google.com/youtube/v3/docs/commentThreads/list : `allThreadsRelatedToChannelId`
with `order=time` lists a channel's threads newest first, 1 quota unit per page of up to 100; the
daily quota (10,000 units by default) resets at midnight Pacific time. A thread holds its top-level
comment and, with `part=replies`, some of its replies. Everything here is pure: the poller does I/O.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from vigie_shared.events.v1 import Author, CommentChange, CommentReceived, CommentRef, Platform

from vigie_platforms.inbound.normalise import (
    Pseudonymiser,
    delivery_key,
    display_name,
    from_iso,
    ident,
    nfc,
    objs,
    opt_ident,
    opt_obj,
    opt_text,
)
from vigie_platforms.inbound.outcome import Item

QUOTA_TIMEZONE = ZoneInfo("America/Los_Angeles")
UNITS_PER_PAGE = 1


def thread_items(
    thread: dict[str, Any], channel_id: str, *, received_at: datetime, pseudonymise: Pseudonymiser
) -> list[Item]:
    """The top-level comment of a thread and the replies it carries, oldest first."""
    snippet = opt_obj(thread.get("snippet"), "thread.snippet")
    top = opt_obj(snippet.get("topLevelComment"), "snippet.topLevelComment")
    video = opt_ident(snippet, "videoId")
    items = [_item(top, channel_id, video, None, received_at, pseudonymise)]
    replies = objs(opt_obj(thread.get("replies"), "thread.replies").get("comments"), "replies")
    items += [
        _item(reply, channel_id, video, ident(top, "id", "topLevelComment"), received_at, pseudonymise)
        for reply in replies
    ]
    return sorted(items, key=lambda item: item.comment.created_at)


def _item(
    comment: dict[str, Any],
    channel_id: str,
    video: str | None,
    parent: str | None,
    received_at: datetime,
    pseudonymise: Pseudonymiser,
) -> Item:
    comment_id = ident(comment, "id", "comment")
    snippet = opt_obj(comment.get("snippet"), "comment.snippet")
    author = opt_obj(snippet.get("authorChannelId"), "snippet.authorChannelId")
    published = from_iso(snippet.get("publishedAt"), received_at)
    updated_raw = opt_text(snippet, "updatedAt", "snippet")
    edited = updated_raw is not None and from_iso(updated_raw, published) > published
    text = opt_text(snippet, "textOriginal", "snippet") or opt_text(snippet, "textDisplay", "snippet")
    thread = video or channel_id  # a comment on the channel itself has no video
    received = CommentReceived(
        comment=CommentRef(
            platform=Platform.YOUTUBE, community=channel_id, thread_id=thread, comment_id=comment_id
        ),
        change=CommentChange.EDITED if edited else CommentChange.CREATED,
        parent_id=opt_ident(snippet, "parentId") or parent,
        author=Author(
            pseudonym=pseudonymise("youtube", opt_ident(author, "value") or "unknown"),
            display_name=display_name(snippet.get("authorDisplayName")),
        ),
        text=nfc(text),
        created_at=published,
        received_at=received_at,
        permalink=f"https://www.youtube.com/watch?v={video}&lc={comment_id}" if video else None,
    )
    # The version (updatedAt) is part of the key: an edit seen on a later read is a new event.
    return Item(received, delivery_key(received, f"{comment_id}@{updated_raw or ''}"))


def thread_published_at(thread: dict[str, Any]) -> str | None:
    top = opt_obj(opt_obj(thread.get("snippet"), "thread.snippet").get("topLevelComment"), "top")
    return opt_text(opt_obj(top.get("snippet"), "top.snippet"), "publishedAt", "top.snippet")


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a channel's reading stands, stored between polls so a restart resumes there.

    `seen_until`: publishedAt of the newest thread already read. A sweep reads pages newest first
    until it reaches that time; if it stops early (page budget), `page_token` and `sweep_newest`
    let the next poll carry on from the page where it stopped.
    """

    seen_until: str | None = None
    page_token: str | None = None
    sweep_newest: str | None = None

    def dumps(self) -> str:
        return json.dumps(
            {"seen_until": self.seen_until, "page_token": self.page_token, "sweep_newest": self.sweep_newest}
        )

    @classmethod
    def loads(cls, raw: str | None) -> Cursor:
        if not raw:
            return cls()
        data = json.loads(raw)
        return cls(data.get("seen_until"), data.get("page_token"), data.get("sweep_newest"))

    def finished(self, newest: str | None) -> Cursor:
        """The sweep reached known ground or the last page: resume from the newest thread seen."""
        candidates = [t for t in (self.seen_until, self.sweep_newest, newest) if t]
        return Cursor(seen_until=max(candidates, key=_instant) if candidates else None)

    def paused(self, next_page: str, newest: str | None) -> Cursor:
        return replace(self, page_token=next_page, sweep_newest=self.sweep_newest or newest)


def _instant(value: str) -> datetime:
    return from_iso(value, datetime.min)


def is_older(published_at: str | None, seen_until: str | None) -> bool:
    """True for a thread strictly older than what was already read (equal times are re-read)."""
    if published_at is None or seen_until is None:
        return False
    return _instant(published_at) < _instant(seen_until)


@dataclass(frozen=True, slots=True)
class Quota:
    """Units spent on one quota day (Pacific time), persisted so a restart does not overspend."""

    day: date
    used: int = 0

    @staticmethod
    def day_of(now: datetime) -> date:
        return now.astimezone(QUOTA_TIMEZONE).date()

    def today(self, now: datetime) -> Quota:
        day = self.day_of(now)
        return self if day == self.day else Quota(day)

    def spend(self, units: int) -> Quota:
        return Quota(self.day, self.used + units)

    def exhausted(self, limit: int) -> Quota:
        return Quota(self.day, max(self.used, limit))

    def dumps(self) -> str:
        return json.dumps({"day": self.day.isoformat(), "used": self.used})

    @classmethod
    def loads(cls, raw: str | None, now: datetime) -> Quota:
        if not raw:
            return cls(cls.day_of(now))
        data = json.loads(raw)
        return cls(date.fromisoformat(data["day"]), int(data["used"])).today(now)


def seconds_until_reset(now: datetime) -> float:
    local = now.astimezone(QUOTA_TIMEZONE)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), QUOTA_TIMEZONE)
    return max(1.0, (midnight - local).total_seconds())


def next_delay(
    quota: Quota, now: datetime, *, limit: int, reserve: int, channels: int, base_interval: float
) -> float:
    """Seconds until the next poll, so the day's remaining units last until the quota resets.

    A poll costs at least one unit per channel; the reserve is left for other uses of the API key.
    """
    remaining = limit - reserve - quota.today(now).used
    until_reset = seconds_until_reset(now)
    if remaining < max(1, channels):
        return until_reset
    polls_left = remaining // max(1, channels)
    return max(base_interval, until_reset / polls_left)


def may_spend(quota: Quota, now: datetime, *, limit: int, reserve: int, units: int) -> bool:
    return quota.today(now).used + units <= limit - reserve


def quota_exceeded(status_code: int, body: dict[str, Any]) -> bool:
    """YouTube answers 403 with reason `quotaExceeded` (or `rateLimitExceeded`) when the day is spent."""
    if status_code not in (403, 429):
        return False
    error = opt_obj(body.get("error"), "error") if isinstance(body.get("error"), dict) else {}
    reasons = {e.get("reason") for e in error.get("errors", []) if isinstance(e, dict)}
    return bool(reasons & {"quotaExceeded", "rateLimitExceeded", "dailyLimitExceeded"})

"""How a YouTube comment's CommentRef maps to Data API ids (set by ingest's poller).

- `community`: the channel id (`UC...`), whose OAuth token is in the credentials.
- `thread_id`: the video id, or the channel id for a comment on the channel itself.
- `comment_id`: a top-level comment id, or a reply's id, which YouTube forms as
  `<top-level comment id>.<reply part>`.

`comments.insert` only accepts a top-level comment as `parentId`, so a reply to a reply goes to
the top-level comment of its thread: that is where YouTube shows every answer in it.
"""

from __future__ import annotations

from dataclasses import dataclass

from vigie_shared.events.v1 import CommentRef, Platform


@dataclass(frozen=True, slots=True)
class YouTubeAddress:
    channel_id: str
    video_id: str | None
    comment_id: str

    @property
    def reply_parent(self) -> str:
        return top_level_id(self.comment_id)


def top_level_id(comment_id: str) -> str:
    return comment_id.split(".", 1)[0]


def address(ref: CommentRef) -> YouTubeAddress:
    if ref.platform is not Platform.YOUTUBE:
        raise ValueError("not a YouTube comment")
    video = None if ref.thread_id == ref.community else ref.thread_id
    return YouTubeAddress(channel_id=ref.community, video_id=video, comment_id=ref.comment_id)

"""How a Mastodon status's CommentRef maps to REST API ids (set by the admin-webhook normaliser).

- `community`: the host of the server the status lives on (the webhook's own server).
- `thread_id`: the status it replies to, or itself when it replies to nothing.
- `comment_id`: the status id, as the webhook's server numbers it (ids are local to a server, which
  is why the credentials' `instance_url` must be that same server).

A reply is a new status with `in_reply_to_id` set to the comment: Mastodon threads it under it.
"""

from __future__ import annotations

from dataclasses import dataclass

from vigie_shared.events.v1 import CommentRef, Platform


@dataclass(frozen=True, slots=True)
class MastodonAddress:
    host: str
    status_id: str


def address(ref: CommentRef) -> MastodonAddress:
    if ref.platform is not Platform.MASTODON:
        raise ValueError("not a Mastodon status")
    return MastodonAddress(host=ref.community, status_id=ref.comment_id)

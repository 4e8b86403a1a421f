"""How an Instagram comment's CommentRef maps to Graph API ids (set by the Meta normaliser).

- `community`: the Instagram professional account id (the webhook entry's `id`).
- `thread_id`: the media id (the comment id itself when the webhook named no media).
- `comment_id`: the IG Comment id, the object replied to, hidden or deleted.

Replies are created with `POST /{comment_id}/replies`; Instagram keeps one level of replies and
files a reply to a reply under the top-level comment, so the answer lands in the comment's thread.
Our own replies are the ones whose `user` field Graph returns: it is only given for comments the
token's account wrote, and then holds that account's id.
"""

from __future__ import annotations

from dataclasses import dataclass

from vigie_shared.events.v1 import CommentRef, Platform


@dataclass(frozen=True, slots=True)
class InstagramAddress:
    account_id: str
    media_id: str
    comment_id: str

    @property
    def reply_parent(self) -> str:
        return self.comment_id


def address(ref: CommentRef) -> InstagramAddress:
    if ref.platform is not Platform.INSTAGRAM:
        raise ValueError("not an Instagram comment")
    return InstagramAddress(account_id=ref.community, media_id=ref.thread_id, comment_id=ref.comment_id)

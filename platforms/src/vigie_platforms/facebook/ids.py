"""How a Facebook Page comment's CommentRef maps to Graph API ids (set by the Meta normaliser).

- `community`: the Page id (the webhook entry's `id`); the Page token in the credentials acts as it.
- `thread_id`: the post id (`<page id>_<post id>`).
- `comment_id`: the comment id (`<post id>_<comment id>`), the object replied to, hidden or deleted.

Replies are created on the comment (`POST /{comment_id}/comments`), so they appear under it in the
post's thread. Our own replies are recognised by their author: the Page itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from vigie_shared.events.v1 import CommentRef, Platform


@dataclass(frozen=True, slots=True)
class FacebookAddress:
    page_id: str
    post_id: str
    comment_id: str

    @property
    def reply_parent(self) -> str:
        return self.comment_id


def address(ref: CommentRef) -> FacebookAddress:
    if ref.platform is not Platform.FACEBOOK:
        raise ValueError("not a Facebook comment")
    return FacebookAddress(page_id=ref.community, post_id=ref.thread_id, comment_id=ref.comment_id)

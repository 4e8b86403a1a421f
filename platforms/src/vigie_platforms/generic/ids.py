"""A generic source's CommentRef is what the source itself sent in its signed delivery.

`community`, `thread_id` and `comment_id` are the source's own ids, handed back unchanged in the
signed callback Vigie posts to the source (`GenericAction`), which acts on them as it sees fit.
"""

from __future__ import annotations

from vigie_shared.events.v1 import CommentRef, Platform


def address(ref: CommentRef) -> dict[str, str]:
    if ref.platform is not Platform.GENERIC:
        raise ValueError("not a generic comment")
    return {"community": ref.community, "thread_id": ref.thread_id, "comment_id": ref.comment_id}

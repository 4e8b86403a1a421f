"""Instagram comments (`comments` and `live_comments` changes of an `instagram` object).

https://developers.facebook.com/docs/instagram-platform/webhooks : they arrive on Meta's one webhook,
signed and unpacked by facebook/inbound.py (which registers `/webhooks/meta`); this module turns one
change into a comment. Instagram gives comments no time of their own: the entry's time stands in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from vigie_shared.events.v1 import Author, CommentReceived, CommentRef, Platform

from vigie_platforms.inbound.normalise import (
    Pseudonymiser,
    display_name,
    from_unix,
    ident,
    nfc,
    opt_ident,
    opt_obj,
    opt_text,
)

FIELDS = frozenset({"comments", "live_comments"})


def comment(
    entry: dict[str, Any], value: dict[str, Any], received_at: datetime, pseudonymise: Pseudonymiser
) -> CommentReceived:
    sender = opt_obj(value.get("from"), "value.from")
    media = opt_obj(value.get("media"), "value.media")
    comment_id = ident(value, "id", "value")
    return CommentReceived(
        comment=CommentRef(
            platform=Platform.INSTAGRAM,
            community=ident(entry, "id", "entry"),
            thread_id=opt_ident(media, "id") or comment_id,
            comment_id=comment_id,
        ),
        parent_id=opt_ident(value, "parent_id"),
        author=Author(
            pseudonym=pseudonymise("instagram", opt_ident(sender, "id") or "unknown"),
            display_name=display_name(sender.get("username")),
        ),
        text=nfc(opt_text(value, "text", "value")),
        created_at=from_unix(entry.get("time"), received_at),
        received_at=received_at,
    )

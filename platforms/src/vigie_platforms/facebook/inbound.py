"""Meta webhooks: Facebook Page `feed` comments and Instagram `comments` / `live_comments`.

Both products arrive on one webhook, `/webhooks/meta`, verified and unpacked here; what an Instagram
change means is in instagram/inbound.py.

https://developers.facebook.com/docs/graph-api/webhooks/getting-started : the GET handshake echoes
`hub.challenge` when `hub.mode` is `subscribe` and `hub.verify_token` matches; POSTs are signed with
`X-Hub-Signature-256: sha256=<hex>`, an HMAC-SHA256 of the raw body under the app secret. One delivery
may batch several entries, each with several changes: every comment change becomes its own event.
Meta has no delivery id and re-sends the same payload on retry, so the key is the event's identity.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Any

from vigie_shared.events.v1 import Author, CommentChange, CommentReceived, CommentRef, Platform

from vigie_platforms.inbound.connector import Delivery, InboundConnector, Secret, Verified, values
from vigie_platforms.inbound.normalise import (
    Pseudonymiser,
    delivery_key,
    display_name,
    from_unix,
    ident,
    nfc,
    objs,
    opt_ident,
    opt_obj,
    opt_text,
)
from vigie_platforms.inbound.outcome import Comments, Item, Outcome
from vigie_platforms.inbound.signatures import require_hmac
from vigie_platforms.instagram import inbound as instagram

SIGNATURE_HEADER = "x-hub-signature-256"

# `hide` / `unhide` and the other verbs change visibility, not content: acknowledged, not published.
_VERBS = {"add": CommentChange.CREATED, "edited": CommentChange.EDITED, "remove": CommentChange.DELETED}


def verify(secrets: tuple[bytes, ...], body: bytes, header: str | None) -> None:
    require_hmac(secrets, body, header)


def handshake(mode: str, presented: str, tokens: tuple[bytes, ...]) -> bool:
    """True when Meta's subscription request carries one of our verify tokens."""
    matched = False
    for token in tokens:
        matched |= hmac.compare_digest(presented.encode("utf-8", "surrogateescape"), token)
    return mode == "subscribe" and matched


def normalise(payload: dict[str, Any], *, received_at: datetime, pseudonymise: Pseudonymiser) -> Comments:
    kind = payload.get("object")
    items: list[Item] = []
    ignored = 0
    for entry in objs(payload.get("entry"), "entry"):
        for change in objs(entry.get("changes"), "entry.changes"):
            value = opt_obj(change.get("value"), "change.value")
            field = change.get("field")
            comment: CommentReceived | None = None
            if kind == "page" and field == "feed" and value.get("item") == "comment":
                comment = _facebook(entry, value, received_at, pseudonymise)
            elif kind == "instagram" and field in instagram.FIELDS:
                comment = instagram.comment(entry, value, received_at, pseudonymise)
            if comment is None:
                ignored += 1
            else:
                items.append(Item(comment, delivery_key(comment)))
    return Comments(tuple(items), ignored)


def _facebook(
    entry: dict[str, Any], value: dict[str, Any], received_at: datetime, pseudonymise: Pseudonymiser
) -> CommentReceived | None:
    change = _VERBS.get(str(value.get("verb", "add")))
    if change is None:
        return None
    sender = opt_obj(value.get("from"), "value.from")
    post_id = ident(value, "post_id", "value")
    parent = opt_ident(value, "parent_id")
    post = opt_obj(value.get("post"), "value.post")
    return CommentReceived(
        comment=CommentRef(
            platform=Platform.FACEBOOK,
            community=ident(entry, "id", "entry"),
            thread_id=post_id,
            comment_id=ident(value, "comment_id", "value"),
        ),
        change=change,
        # A top-level comment names the post as its parent; only a reply has a comment parent.
        parent_id=parent if parent and parent != post_id else None,
        author=Author(
            pseudonym=pseudonymise("facebook", opt_ident(sender, "id") or "unknown"),
            display_name=display_name(sender.get("name")),
        ),
        text=nfc(opt_text(value, "message", "value")),
        created_at=from_unix(value.get("created_time"), received_at),
        received_at=received_at,
        permalink=opt_text(post, "permalink_url", "value.post"),
    )


class MetaWebhook(InboundConnector):
    name = "meta"
    summary = "Facebook Page feed comments and Instagram comments"
    setting = "meta_app_secret"
    headers = frozenset({SIGNATURE_HEADER})

    def verify(self, delivery: Delivery, secrets: tuple[Secret, ...], *, window: float | None) -> Verified:
        verify(values(secrets), delivery.body, delivery.header(SIGNATURE_HEADER))
        return Verified()

    def normalise(
        self, payload: dict[str, Any], delivery: Delivery, verified: Verified, pseudonymise: Pseudonymiser
    ) -> Outcome:
        return normalise(payload, received_at=delivery.received_at, pseudonymise=pseudonymise)


CONNECTOR = MetaWebhook()

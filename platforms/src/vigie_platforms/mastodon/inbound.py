"""Mastodon admin webhooks: `status.created`, `status.updated` and `report.created`.

https://docs.joinmastodon.org/admin/webhooks : the body is `{"event", "created_at", "object"}` and
`X-Hub-Signature: sha256=<hex>` is an HMAC-SHA256 of the raw body under the webhook's secret (the
WebSub convention). Statuses are HTML: the text published is what a reader sees. A report carries
the reported statuses, each published as a comment so it is scored even if it came from another
server. Mastodon sends no delivery id, so a status is recognised by its identity and content.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from vigie_shared.events.v1 import Author, CommentChange, CommentReceived, CommentRef, Platform

from vigie_platforms.inbound.connector import Delivery, InboundConnector, Secret, Verified, values
from vigie_platforms.inbound.normalise import (
    Pseudonymiser,
    delivery_key,
    display_name,
    from_iso,
    html_to_text,
    ident,
    objs,
    opt_ident,
    opt_obj,
    opt_text,
)
from vigie_platforms.inbound.outcome import Comments, Item, Outcome
from vigie_platforms.inbound.signatures import require_hmac

SIGNATURE_HEADER = "x-hub-signature"

_STATUS_EVENTS = {"status.created": CommentChange.CREATED, "status.updated": CommentChange.EDITED}


def verify(secrets: tuple[bytes, ...], body: bytes, header: str | None) -> None:
    require_hmac(secrets, body, header)


def normalise(payload: dict[str, Any], *, received_at: datetime, pseudonymise: Pseudonymiser) -> Comments:
    event = str(payload.get("event"))
    target = opt_obj(payload.get("object"), "object")
    if event in _STATUS_EVENTS:
        comment = _status(target, _STATUS_EVENTS[event], received_at, pseudonymise)
        return Comments((Item(comment, delivery_key(comment)),))
    if event == "report.created":
        report_id = ident(target, "id", "report")
        items = []
        for status in objs(target.get("statuses"), "report.statuses"):
            comment = _status(status, CommentChange.CREATED, received_at, pseudonymise)
            key = delivery_key(comment, f"report:{report_id}:{comment.comment.comment_id}")
            items.append(Item(comment, key))
        # A report naming no status (an account report) has nothing to score.
        return Comments(tuple(items), ignored=0 if items else 1)
    return Comments(ignored=1)


def _status(
    status: dict[str, Any], change: CommentChange, received_at: datetime, pseudonymise: Pseudonymiser
) -> CommentReceived:
    status_id = ident(status, "id", "status")
    account = opt_obj(status.get("account"), "status.account")
    url = opt_text(status, "url", "status") or opt_text(status, "uri", "status")
    # The server the status lives on is its community; a local status has it in its own URI.
    host = urlsplit(opt_text(status, "uri", "status") or url or "").hostname or "unknown"
    parent = opt_ident(status, "in_reply_to_id")
    spoiler = opt_text(status, "spoiler_text", "status")
    body = html_to_text(opt_text(status, "content", "status"))
    text = f"{spoiler}\n{body}" if spoiler else body
    return CommentReceived(
        comment=CommentRef(
            platform=Platform.MASTODON,
            community=host,
            # Statuses carry no conversation id here: the replied-to status groups a thread.
            thread_id=parent or status_id,
            comment_id=status_id,
        ),
        change=change,
        parent_id=parent,
        author=Author(
            pseudonym=pseudonymise("mastodon", opt_ident(account, "id") or "unknown"),
            display_name=display_name(account.get("display_name") or account.get("username")),
        ),
        text=text,
        language_hint=opt_ident(status, "language"),
        created_at=from_iso(status.get("created_at"), received_at),
        received_at=received_at,
        permalink=url,
    )


class MastodonWebhook(InboundConnector):
    name = "mastodon"
    summary = "Mastodon admin webhooks: status.created, status.updated, report.created"
    setting = "mastodon_webhook_secret"
    headers = frozenset({SIGNATURE_HEADER})

    def verify(self, delivery: Delivery, secrets: tuple[Secret, ...], *, window: float | None) -> Verified:
        verify(values(secrets), delivery.body, delivery.header(SIGNATURE_HEADER))
        return Verified()

    def normalise(
        self, payload: dict[str, Any], delivery: Delivery, verified: Verified, pseudonymise: Pseudonymiser
    ) -> Outcome:
        return normalise(payload, received_at=delivery.received_at, pseudonymise=pseudonymise)


CONNECTOR = MastodonWebhook()

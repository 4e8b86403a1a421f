"""What a connector makes of a verified delivery, before anything is published."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vigie_shared.events.v1 import CommentReceived


@dataclass(frozen=True, slots=True)
class Reply:
    """A body the platform expects back (a challenge, a PONG) instead of the default summary."""

    body: str | dict[str, Any]
    media_type: str = "application/json"


@dataclass(frozen=True, slots=True)
class Item:
    """One comment to publish and the key that recognises its re-delivery."""

    comment: CommentReceived
    key: str


@dataclass(frozen=True, slots=True)
class Comments:
    """Zero or more comments; `ignored` counts the non-comment parts of the same delivery."""

    items: tuple[Item, ...] = ()
    ignored: int = 0
    reply: Reply | None = None


@dataclass(frozen=True, slots=True)
class Handshake:
    """A subscription handshake: answered at once, nothing published."""

    reply: Reply


@dataclass(frozen=True, slots=True)
class Revoked:
    """The platform withdrew a subscription (Twitch): surfaced in metrics and logs."""

    status: str
    subscription_type: str
    extra: dict[str, str] = field(default_factory=dict)


Outcome = Comments | Handshake | Revoked

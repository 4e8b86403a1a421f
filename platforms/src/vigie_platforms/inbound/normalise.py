"""Helpers every normaliser uses to build `comment.received`. Pure: no I/O, no clock."""

from __future__ import annotations

import html
import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

from vigie_shared.events import event_id_for
from vigie_shared.events.v1 import CommentReceived

from vigie_platforms.inbound.errors import MalformedPayload

Pseudonymiser = Callable[[str, str], str]

_DISPLAY_NAME_MAX = 256
_ID_MAX = 512


def nfc(text: str | None) -> str:
    return unicodedata.normalize("NFC", text or "")


def display_name(value: object) -> str | None:
    """A display name as the platform gave it, NFC, cut to what the contract holds."""
    if not isinstance(value, str) or not value:
        return None
    return nfc(value)[:_DISPLAY_NAME_MAX]


def obj(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedPayload(f"{where} is not an object")
    return value


def opt_obj(value: object, where: str) -> dict[str, Any]:
    """An optional object: absent or null reads as empty, anything else must be an object."""
    if value is None:
        return {}
    return obj(value, where)


def objs(value: object, where: str) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedPayload(f"{where} is not a list")
    return [obj(item, where) for item in value]


def ident(mapping: Mapping[str, Any], key: str, where: str) -> str:
    """A required platform id (string or integer), as a non-empty string of bounded length."""
    value = mapping.get(key)
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        raise MalformedPayload(f"{where}.{key} is missing")
    text = str(value)
    if len(text) > _ID_MAX:
        raise MalformedPayload(f"{where}.{key} is too long")
    return text


def opt_ident(mapping: Mapping[str, Any], key: str) -> str | None:
    value = mapping.get(key)
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        return None
    text = str(value)
    return text if len(text) <= _ID_MAX else None


def opt_text(mapping: Mapping[str, Any], key: str, where: str) -> str | None:
    value = mapping.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedPayload(f"{where}.{key} is not a string")
    return value


def from_unix(seconds: object, default: datetime) -> datetime:
    if seconds is None:
        return default
    if isinstance(seconds, bool) or not isinstance(seconds, int | float | str):
        raise MalformedPayload("timestamp is not a number")
    try:
        value = float(seconds)
        if not math.isfinite(value):
            raise ValueError(value)
        return datetime.fromtimestamp(value, UTC)
    except (ValueError, OverflowError, OSError):
        raise MalformedPayload("timestamp out of range") from None


_FRACTION = re.compile(r"(\.\d{6})\d+")


def from_iso(value: object, default: datetime) -> datetime:
    """RFC 3339 as platforms send it, nanoseconds included (Python keeps microseconds)."""
    if value is None:
        return default
    if not isinstance(value, str):
        raise MalformedPayload("timestamp is not a string")
    try:
        parsed = datetime.fromisoformat(_FRACTION.sub(r"\1", value.strip()))
    except ValueError:
        raise MalformedPayload("timestamp is not RFC 3339") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


class _TextExtractor(HTMLParser):
    _BREAKS = frozenset({"br", "p", "div", "li"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._BREAKS and self.parts:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(markup: str | None) -> str:
    """Mastodon and YouTube send HTML; the models score what a reader sees."""
    if not markup:
        return ""
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    return nfc(html.unescape("".join(parser.parts)).strip())


def event_id(comment: CommentReceived) -> str:
    """Stable across platform retries, so a re-published delivery is the same event downstream."""
    ref = comment.comment
    return str(
        event_id_for(
            "comment.received",
            ref.platform.value,
            ref.community,
            ref.thread_id,
            ref.comment_id,
            comment.change.value,
            comment.text,
        )
    )


def correlation_id(comment: CommentReceived) -> str:
    """One id per comment that every later event about it carries."""
    ref = comment.comment
    return str(event_id_for("comment", ref.platform.value, ref.community, ref.thread_id, ref.comment_id))


def delivery_key(comment: CommentReceived, delivery_id: str | None = None) -> str:
    """The idempotency key: the platform's own delivery id when it has one, else the event's identity."""
    platform = comment.comment.platform.value
    if delivery_id:
        return f"{platform}:delivery:{delivery_id}"
    return f"{platform}:event:{event_id(comment)}"

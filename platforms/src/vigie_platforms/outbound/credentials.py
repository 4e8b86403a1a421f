"""`VIGIE_PLATFORM_CREDENTIALS_FILE`: what the responder needs to act in each community.

The file is a JSON list of `{"platform": "...", "community": "...", "credentials": {...}}`. Every
value is held as a `SecretStr` from the moment it is read; errors name the entry, the platform, the
community and the key at fault, never a value. A community absent from the file has no credentials:
the dispatcher records `no_credentials` and makes no call.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import SecretStr
from vigie_shared.events.v1 import Platform

from vigie_platforms.outbound.base import Credentials

# CONTRACT.md: the keys each platform's credentials must hold.
REQUIRED_KEYS: Mapping[Platform, tuple[str, ...]] = {
    Platform.FACEBOOK: ("access_token",),
    Platform.INSTAGRAM: ("access_token",),
    Platform.YOUTUBE: ("access_token",),
    Platform.DISCORD: ("bot_token",),
    Platform.SLACK: ("bot_token",),
    Platform.TELEGRAM: ("bot_token",),
    Platform.TWITCH: ("client_id", "access_token", "sender_id", "moderator_id"),
    Platform.MASTODON: ("instance_url", "access_token"),
    Platform.GENERIC: ("url", "signing_secret"),
}

# Keys a platform may carry beyond the required ones; anything else is refused as a likely typo.
OPTIONAL_KEYS: Mapping[Platform, tuple[str, ...]] = {
    Platform.SLACK: ("user_token",),  # an admin's user token lets chat.delete remove others' messages
    Platform.MASTODON: ("max_characters",),  # skips asking the instance
}

_URL_KEYS = ("instance_url", "url")


class CredentialsError(ValueError):
    """The credentials file cannot be used; the message says where and which key, never a value."""


def make_credentials(platform: Platform | str, community: str, values: Mapping[str, Any]) -> Credentials:
    """Validated credentials for one community (what the loader builds for each entry)."""
    try:
        kind = Platform(platform)
    except ValueError:
        raise CredentialsError(f"unknown platform {str(platform)[:40]!r}") from None
    if not isinstance(community, str) or not community:
        raise CredentialsError(f"{kind.value}: community must be a non-empty string")
    where = f"{kind.value} community {community[:80]!r}"
    required = REQUIRED_KEYS[kind]
    allowed = set(required) | set(OPTIONAL_KEYS.get(kind, ()))
    for key in required:
        if key not in values:
            raise CredentialsError(f"{where}: missing key {key!r}")
    unknown = sorted(str(key)[:40] for key in values if key not in allowed)
    if unknown:
        raise CredentialsError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}")
    secrets: dict[str, SecretStr] = {}
    for key, value in values.items():
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise CredentialsError(f"{where}: key {key!r} must be a string")
        text = str(value).strip()
        if not text:
            raise CredentialsError(f"{where}: key {key!r} is empty")
        if key in _URL_KEYS:
            parts = urlsplit(text)
            if parts.scheme not in ("https", "http") or not parts.hostname:
                raise CredentialsError(f"{where}: key {key!r} must be an http(s) URL")
            text = text.rstrip("/")
        if key == "max_characters" and not text.isdigit():
            raise CredentialsError(f"{where}: key {key!r} must be a positive integer")
        secrets[key] = SecretStr(text)
    return Credentials(platform=kind, community=community, values=secrets)


class CredentialStore:
    """Lookup `(platform, community) -> Credentials | None`; refuses two entries for one community."""

    def __init__(self, entries: Iterable[Credentials] = ()) -> None:
        self._entries: dict[tuple[Platform, str], Credentials] = {}
        for entry in entries:
            key = (entry.platform, entry.community)
            if key in self._entries:
                raise CredentialsError(
                    f"{entry.platform.value} community {entry.community[:80]!r} appears twice"
                )
            self._entries[key] = entry

    def get(self, platform: Platform | str, community: str) -> Credentials | None:
        try:
            kind = Platform(platform)
        except ValueError:
            return None
        return self._entries.get((kind, community))

    __call__ = get

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[Credentials]:
        return iter(self._entries.values())

    def __repr__(self) -> str:
        return f"CredentialStore({len(self)} communities)"

    @classmethod
    def from_data(cls, data: Any) -> CredentialStore:
        if not isinstance(data, list):
            raise CredentialsError("platform credentials must be a JSON list of entries")
        entries = []
        for index, item in enumerate(data):
            if not isinstance(item, dict):
                raise CredentialsError(f"entry {index}: not an object")
            values = item.get("credentials")
            if not isinstance(values, dict):
                raise CredentialsError(f"entry {index}: 'credentials' must be an object")
            try:
                entries.append(make_credentials(item.get("platform", ""), item.get("community", ""), values))
            except CredentialsError as error:
                raise CredentialsError(f"entry {index}: {error}") from None
        return cls(entries)

    @classmethod
    def from_file(cls, path: Path) -> CredentialStore:
        try:
            raw = path.read_text(encoding="utf-8")
        except OSError as error:
            raise CredentialsError(f"cannot read {path}: {error.strerror}") from None
        try:
            data = json.loads(raw)
        except ValueError as error:
            # The decoder's message gives a position only; the document itself is never repeated.
            position = getattr(error, "pos", None)
            raise CredentialsError(f"{path} is not valid JSON (at character {position})") from None
        try:
            return cls.from_data(data)
        except CredentialsError as error:
            raise CredentialsError(f"{path}: {error}") from None


def load_credentials(path: Path | None) -> CredentialStore:
    """The store for `VIGIE_PLATFORM_CREDENTIALS_FILE`; empty when unset (every call: no_credentials)."""
    return CredentialStore() if path is None else CredentialStore.from_file(path)

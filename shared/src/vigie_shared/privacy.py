"""Keyed pseudonyms: the raw platform user id never leaves ingest, yet privacy requests can find it."""

from __future__ import annotations

import hashlib
import hmac


def pseudonymise(key: bytes, platform: str, user_id: str) -> str:
    digest = hmac.new(key, f"{platform}:{user_id}".encode(), hashlib.sha256).hexdigest()
    return f"psn_{digest[:32]}"

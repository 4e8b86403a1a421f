"""Signatures computed the way each platform computes them, independently of ingest's code."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from nacl.signing import SigningKey

META_SECRET = "meta-app-secret-current"
META_OLD_SECRET = "meta-app-secret-previous"
META_VERIFY_TOKEN = "meta-verify-token"
SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TWITCH_SECRET = "twitch-eventsub-secret-0123456789"
TELEGRAM_TOKEN = "telegram_Secret-Token_42"
MASTODON_SECRET = "mastodon-webhook-secret"
GENERIC_SECRET = "generic-webhook-secret"
PSEUDONYM_KEY = "pseudonym-key-for-tests"
DISCORD_KEY = SigningKey(bytes(range(32)))  # fixed seed: reproducible vectors
DISCORD_PUBLIC_HEX = DISCORD_KEY.verify_key.encode().hex()


def dumps(payload: Any) -> bytes:
    """JSON as a platform would send it; bytes pass through (to sign deliberately broken bodies)."""
    if isinstance(payload, bytes):
        return payload
    return json.dumps(payload, ensure_ascii=False).encode()


def hex_hmac(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def meta(payload: Any, secret: str = META_SECRET) -> tuple[bytes, dict[str, str]]:
    body = dumps(payload)
    return body, {
        "content-type": "application/json",
        "x-hub-signature-256": "sha256=" + hex_hmac(secret, body),
    }


def slack(
    payload: Any, *, at: float | None = None, secret: str = SLACK_SECRET
) -> tuple[bytes, dict[str, str]]:
    body = dumps(payload)
    ts = str(int(time.time() if at is None else at))
    basestring = b"v0:" + ts.encode() + b":" + body
    return body, {
        "content-type": "application/json",
        "x-slack-request-timestamp": ts,
        "x-slack-signature": "v0=" + hex_hmac(secret, basestring),
    }


def rfc3339(at: float) -> str:
    # Twitch sends nanoseconds: nine fractional digits.
    whole = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at))
    return f"{whole}.{int((at % 1) * 1e9):09d}Z"


def twitch(
    payload: Any,
    *,
    message_type: str = "notification",
    message_id: str = "befa7b53-d79d-478f-86b9-120f112b044e",
    at: float | None = None,
    secret: str = TWITCH_SECRET,
) -> tuple[bytes, dict[str, str]]:
    body = dumps(payload)
    timestamp = rfc3339(time.time() if at is None else at)
    signature = hex_hmac(secret, message_id.encode() + timestamp.encode() + body)
    return body, {
        "content-type": "application/json",
        "twitch-eventsub-message-id": message_id,
        "twitch-eventsub-message-retry": "0",
        "twitch-eventsub-message-type": message_type,
        "twitch-eventsub-message-signature": "sha256=" + signature,
        "twitch-eventsub-message-timestamp": timestamp,
        "twitch-eventsub-subscription-type": "channel.chat.message",
        "twitch-eventsub-subscription-version": "1",
    }


def telegram(payload: Any, token: str = TELEGRAM_TOKEN) -> tuple[bytes, dict[str, str]]:
    return dumps(payload), {
        "content-type": "application/json",
        "x-telegram-bot-api-secret-token": token,
    }


def discord(
    payload: Any, *, at: float | None = None, key: SigningKey = DISCORD_KEY
) -> tuple[bytes, dict[str, str]]:
    body = dumps(payload)
    timestamp = str(int(time.time() if at is None else at))
    signature = key.sign(timestamp.encode() + body).signature.hex()
    return body, {
        "content-type": "application/json",
        "x-signature-ed25519": signature,
        "x-signature-timestamp": timestamp,
    }


def mastodon(payload: Any, secret: str = MASTODON_SECRET) -> tuple[bytes, dict[str, str]]:
    body = dumps(payload)
    return body, {
        "content-type": "application/json",
        "x-hub-signature": "sha256=" + hex_hmac(secret, body),
    }


def generic(
    payload: Any, *, at: float | None = None, secret: str = GENERIC_SECRET
) -> tuple[bytes, dict[str, str]]:
    body = dumps(payload)
    timestamp = str(int(time.time() if at is None else at))
    return body, {
        "content-type": "application/json",
        "x-vigie-timestamp": timestamp,
        "x-vigie-signature": "sha256=" + hex_hmac(secret, timestamp.encode() + body),
    }

"""Signature and timestamp checks shared by the connectors. Constant-time comparisons only.

Header values arrive as Starlette gives them: bytes decoded as Latin-1, so any byte is possible.
Platforms send signatures, tokens and timestamps in ASCII; anything else is refused here with its
own reason, before it can reach `hmac.compare_digest` (which raises TypeError on non-ASCII text).
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Iterable

from nacl.exceptions import BadSignatureError, CryptoError
from nacl.signing import VerifyKey

from vigie_platforms.inbound.errors import Unauthenticated

MISSING = "missing signature"
BAD = "bad signature"
STALE = "stale timestamp"
BAD_TIMESTAMP = "bad timestamp"
NOT_CONFIGURED = "no secret configured"
NOT_ASCII = "non-ASCII signature header"


def hmac_sha256_hex(secret: bytes, message: bytes) -> str:
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def matches(secrets: Iterable[bytes], message: bytes, presented_hex: str) -> tuple[bool, ...]:
    """For each secret, whether the presented digest is the HMAC of `message` under it."""
    if not presented_hex.isascii():
        raise Unauthenticated(NOT_ASCII)
    presented = presented_hex.strip().lower().encode()
    # No early exit: every secret is tried so timing does not reveal which one matched.
    return tuple(
        hmac.compare_digest(hmac_sha256_hex(secret, message).encode(), presented) for secret in secrets
    )


def matches_any(secrets: Iterable[bytes], message: bytes, presented_hex: str) -> bool:
    """True when the presented digest matches the HMAC under any currently valid secret."""
    return any(matches(secrets, message, presented_hex))


def require_signature_header(header: str | None, prefix: str) -> str:
    """The hex digest of a `<prefix><hex>` header; refuses a missing, non-ASCII or unprefixed one."""
    if not header:
        raise Unauthenticated(MISSING)
    if not header.isascii():
        raise Unauthenticated(NOT_ASCII)
    if not header.startswith(prefix):
        raise Unauthenticated(BAD)
    return header.removeprefix(prefix)


def require_hmac(
    secrets: tuple[bytes, ...], message: bytes, header: str | None, *, prefix: str = "sha256="
) -> None:
    """Raises Unauthenticated unless `header` is `<prefix><hex HMAC-SHA256 of message>` under a secret."""
    if not secrets:
        raise Unauthenticated(NOT_CONFIGURED)
    if not matches_any(secrets, message, require_signature_header(header, prefix)):
        raise Unauthenticated(BAD)


def require_token(expected: tuple[bytes, ...], presented: str | None) -> None:
    """A shared token sent as is (Telegram): compared in constant time against each valid value."""
    if not expected:
        raise Unauthenticated(NOT_CONFIGURED)
    if not presented:
        raise Unauthenticated(MISSING)
    if not presented.isascii():
        raise Unauthenticated(NOT_ASCII)
    raw = presented.encode()
    matched = False
    for token in expected:
        matched |= hmac.compare_digest(token, raw)
    if not matched:
        raise Unauthenticated(BAD)


def require_ed25519(public_keys_hex: tuple[bytes, ...], message: bytes, signature_hex: str | None) -> None:
    """Ed25519 over `message` (Discord: timestamp + body) under any configured public key."""
    if not public_keys_hex:
        raise Unauthenticated(NOT_CONFIGURED)
    if not signature_hex:
        raise Unauthenticated(MISSING)
    if not signature_hex.isascii():
        raise Unauthenticated(NOT_ASCII)
    try:
        signature = bytes.fromhex(signature_hex)
    except ValueError:
        raise Unauthenticated(BAD) from None
    if len(signature) != 64:
        raise Unauthenticated(BAD)
    for key_hex in public_keys_hex:
        try:
            VerifyKey(bytes.fromhex(key_hex.decode())).verify(message, signature)
        except (BadSignatureError, CryptoError, ValueError):
            continue
        return
    raise Unauthenticated(BAD)


def parse_unix_seconds(raw: str | None) -> float:
    """A header holding Unix seconds; anything else is refused as a bad timestamp."""
    if not raw or not raw.isascii():
        raise Unauthenticated(BAD_TIMESTAMP)
    try:
        value = float(raw.strip())
    except ValueError:
        raise Unauthenticated(BAD_TIMESTAMP) from None
    if not math.isfinite(value):
        raise Unauthenticated(BAD_TIMESTAMP)
    return value


def require_fresh(sent_at: float, now: float, max_skew: float) -> None:
    """Refuses replays: a timestamp more than `max_skew` seconds away from now, either way."""
    if abs(now - sent_at) > max_skew:
        raise Unauthenticated(STALE)

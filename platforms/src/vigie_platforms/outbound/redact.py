"""Keeping tokens out of logs, reasons and errors.

Outcome reasons are built from fixed words and the platform's error codes, never from a message text
or an exception's string (which can carry a URL, and Telegram puts the bot token in its URLs). What
is left to guard is the standard library logging of httpx and httpcore: httpx logs every request
line at INFO, URL included, so a filter rewrites those records before any handler sees them.
"""

from __future__ import annotations

import hashlib
import logging
import re

from vigie_platforms.outbound.base import Credentials

REDACTED = "[redacted]"

# Telegram's `/bot<id>:<secret>/` path segment; the only platform that puts its token in the URL.
_TELEGRAM_PATH = re.compile(r"bot\d+:[A-Za-z0-9_-]+")
# Bearer and Bot authorisation values, should a header ever be rendered into text.
_AUTH_VALUE = re.compile(r"(?i)\b(bearer|bot|oauth)\s+[A-Za-z0-9._~+/=-]{8,}")
_QUERY_TOKEN = re.compile(r"(?i)(access_token|token|key)=[^&\s\"']+")
_MIN_SECRET = 6  # shorter values (ids like "42") would redact half of any sentence


def redact(text: str, credentials: Credentials | None = None) -> str:
    """`text` with every secret of `credentials` and every token-shaped value replaced."""
    if credentials is not None:
        for secret in credentials.values.values():
            value = secret.get_secret_value()
            if len(value) >= _MIN_SECRET:
                text = text.replace(value, REDACTED)
    text = _TELEGRAM_PATH.sub("bot" + REDACTED, text)
    text = _AUTH_VALUE.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    return _QUERY_TOKEN.sub(lambda m: f"{m.group(1)}={REDACTED}", text)


def fingerprint(secret: str) -> str:
    """A short, stable, non-reversible name for a token: what rate-limit keys and caches use."""
    return hashlib.sha256(secret.encode()).hexdigest()[:12]


def safe_reason(reason: str, credentials: Credentials | None = None, *, limit: int = 200) -> str:
    """An outcome reason bounded in length and free of secrets, whatever a platform echoed back."""
    return redact(reason, credentials)[:limit]


class RedactingFilter(logging.Filter):
    """Rewrites a record's message with tokens removed; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed record is left for logging to report
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_FILTER = RedactingFilter()
_GUARDED = ("httpx", "httpcore")


def install_log_redaction() -> None:
    """Idempotent: attaches the filter to the HTTP libraries' loggers (no level or handler changed)."""
    for name in _GUARDED:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)

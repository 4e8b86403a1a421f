"""Why a delivery is refused. The HTTP edge maps each kind to a status; the reason becomes a label."""

from __future__ import annotations


class Rejection(Exception):
    """Base of every refusal. `reason` is a short fixed phrase: safe as a metric label and in logs."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Unauthenticated(Rejection):
    """Missing or wrong signature, or a timestamp outside the replay window (HTTP 401)."""


class MalformedPayload(Rejection):
    """Signed by the platform but not in a shape its documentation describes (HTTP 400)."""


class Forbidden(Rejection):
    """Authentic, but the secret that signed it may not speak for a community it names (HTTP 403)."""

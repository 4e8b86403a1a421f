"""What a platform's inbound side provides, and the one way every webhook is received.

A connector is verification plus normalisation for one webhook endpoint, with no I/O and no
settings object: ingest hands it the raw delivery, the secrets it was configured with and its
replay window, and gets back an `Outcome` or a `Rejection`. Each platform folder's `inbound.py`
exposes its connector as `CONNECTOR`; `registry.discover()` finds them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel

from vigie_platforms.inbound.errors import Forbidden
from vigie_platforms.inbound.normalise import Pseudonymiser
from vigie_platforms.inbound.outcome import Comments, Outcome
from vigie_platforms.inbound.payload import parse_json

COMMUNITY_NOT_ALLOWED = "community not allowed for this secret"


@dataclass(frozen=True, slots=True)
class Secret:
    """One currently valid value of a platform secret.

    `communities` is None when the value may speak for any community (every platform that signs
    its own deliveries); a generic-webhook secret can be bound to a few, so one sender cannot fill
    another tenant's queue.
    """

    value: bytes = field(repr=False)
    communities: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """A webhook as it arrived: the raw body, the headers its connector declared, and when.

    Header names are lower case; values are what Starlette decoded (Latin-1), so anything is possible.
    """

    body: bytes
    headers: Mapping[str, str]
    received_at: datetime

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


@dataclass(frozen=True, slots=True)
class Verified:
    """What the signature check established.

    `communities`: what the matching secret(s) may speak for (None: any). `sent_at`: the platform's
    own signed send time, where it gives one that normalisation uses (Twitch).
    """

    communities: frozenset[str] | None = None
    sent_at: datetime | None = None


class InboundConnector(ABC):
    """One webhook endpoint, `POST /webhooks/<name>`. Subclass, fill the class attributes, register.

    `setting` names the field of ingest's settings holding the platform's secret values
    (`slack_signing_secret`, read from `VIGIE_SLACK_SIGNING_SECRET`), `window_setting` the one holding
    its replay window in seconds: adding a platform means this folder plus those settings fields.
    """

    name: ClassVar[str]
    summary: ClassVar[str]
    setting: ClassVar[str]
    window_setting: ClassVar[str | None] = None
    # Every request header `verify`, `normalise` or `retry_note` reads; no other reaches them.
    headers: ClassVar[frozenset[str]] = frozenset()
    # The body's documented schema, published in OpenAPI when the platform's own docs do not exist.
    body_model: ClassVar[type[BaseModel] | None] = None
    # What the platform's own protocol is answered with instead of the webhook outcome (a handshake,
    # an interaction response), by media type: published in OpenAPI beside the outcome.
    reply_schema: ClassVar[dict[str, dict[str, Any]] | None] = None

    @property
    def setting_env(self) -> str:
        return f"VIGIE_{self.setting.upper()}"

    def secrets(self, values: Sequence[bytes]) -> tuple[Secret, ...]:
        """The configured values of `setting` (split on commas), as secrets."""
        return tuple(Secret(value) for value in values)

    @abstractmethod
    def verify(self, delivery: Delivery, secrets: tuple[Secret, ...], *, window: float | None) -> Verified:
        """Proves the delivery came from the platform, or raises Unauthenticated."""

    @abstractmethod
    def normalise(
        self,
        payload: dict[str, Any],
        delivery: Delivery,
        verified: Verified,
        pseudonymise: Pseudonymiser,
    ) -> Outcome:
        """The verified JSON object as comments (or a handshake, or a revocation)."""

    def retry_note(self, delivery: Delivery) -> dict[str, str]:
        """When the delivery is a platform's retry: bounded facts about it for a log line; else nothing."""
        return {}


def values(secrets: tuple[Secret, ...]) -> tuple[bytes, ...]:
    return tuple(secret.value for secret in secrets)


def receive(
    connector: InboundConnector,
    delivery: Delivery,
    secrets: tuple[Secret, ...],
    *,
    window: float | None,
    pseudonymiser: Callable[[], Pseudonymiser],
) -> Outcome:
    """Verify, parse, normalise, and hold the comments to the communities their secret may speak for.

    The pseudonymiser is asked for only once the delivery is proven and parsed: an unsigned or
    malformed request is refused for what it is, whatever ingest's own configuration.
    """
    verified = connector.verify(delivery, secrets, window=window)
    payload = parse_json(delivery.body)
    outcome = connector.normalise(payload, delivery, verified, pseudonymiser())
    require_allowed(outcome, verified.communities)
    return outcome


def require_allowed(outcome: Outcome, communities: frozenset[str] | None) -> None:
    """The whole delivery is refused if any comment names a community outside `communities`."""
    if communities is None or not isinstance(outcome, Comments):
        return
    if any(item.comment.comment.community not in communities for item in outcome.items):
        raise Forbidden(COMMUNITY_NOT_ALLOWED)

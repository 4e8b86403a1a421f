"""The inbound registry: unique names, and discovery of every platform folder's connector."""

from __future__ import annotations

from typing import Any

import pytest
from vigie_platforms.facebook.inbound import MetaWebhook
from vigie_platforms.inbound.connector import Delivery, InboundConnector, Secret, Verified
from vigie_platforms.inbound.normalise import Pseudonymiser
from vigie_platforms.inbound.outcome import Comments, Outcome
from vigie_platforms.inbound.registry import DuplicateConnector, InboundRegistry, discover

WEBHOOKS = ("discord", "generic", "mastodon", "meta", "slack", "telegram", "twitch")


class Impostor(InboundConnector):
    """A second connector claiming a name already taken."""

    name = "meta"
    summary = "not Meta"
    setting = "meta_app_secret"

    def verify(self, delivery: Delivery, secrets: tuple[Secret, ...], *, window: float | None) -> Verified:
        return Verified()

    def normalise(
        self, payload: dict[str, Any], delivery: Delivery, verified: Verified, pseudonymise: Pseudonymiser
    ) -> Outcome:
        return Comments()


def test_a_duplicate_name_is_refused() -> None:
    registry = InboundRegistry()
    first = MetaWebhook()
    registry.register(first)
    with pytest.raises(DuplicateConnector, match=r"'meta' is already registered by MetaWebhook"):
        registry.register(Impostor())
    # The refusal changed nothing: the first one still answers for the name.
    assert registry.get("meta") is first
    assert len(registry) == 1


def test_discovery_finds_every_webhook_once() -> None:
    registry = discover()
    assert registry.names() == WEBHOOKS
    for connector in registry:
        assert connector.headers == {h.lower() for h in connector.headers}
        assert connector.setting_env.startswith("VIGIE_")
    # Instagram arrives through Meta's webhook and YouTube is polled: neither has an endpoint.
    assert registry.get("instagram") is None
    assert registry.get("youtube") is None


def test_discovery_builds_a_fresh_registry_each_time() -> None:
    # No module-level state: two apps in one process (tests, benchmarks) get independent registries.
    assert discover() is not discover()
    assert discover().names() == discover().names()

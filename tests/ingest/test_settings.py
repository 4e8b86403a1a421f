"""Ingest settings: rotating secrets, production checks, YouTube channels from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError
from vigie_ingest.api import Webhooks
from vigie_ingest.settings import IngestSettings, secret_values
from vigie_platforms.inbound.registry import discover


def test_rotating_secret_values_are_split_and_trimmed() -> None:
    assert secret_values(SecretStr(" new , old ,")) == (b"new", b"old")
    assert secret_values(None) == ()


def test_every_rotating_value_is_checked_in_production(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.json"
    tokens.write_text('{"tokens": []}')
    common = {"environment": "production", "api_tokens_file": tokens, "pseudonym_key": "k" * 32}
    a, b = "prod-a".ljust(32, "a"), "prod-b".ljust(32, "b")
    IngestSettings(**common, slack_signing_secret=f"{a},{b}")
    with pytest.raises(ValidationError, match=r"VIGIE_SLACK_SIGNING_SECRET\[1\]"):
        IngestSettings(**common, slack_signing_secret=f"{a},dev-{b}")
    with pytest.raises(ValidationError, match=r"VIGIE_SLACK_SIGNING_SECRET\[1\]"):
        IngestSettings(**common, slack_signing_secret=f"{a},short")
    with pytest.raises(ValidationError, match="VIGIE_PSEUDONYM_KEY"):
        IngestSettings(environment="production", api_tokens_file=tokens)


def test_youtube_channels_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIGIE_YOUTUBE_CHANNEL_IDS", "UC1, UC2,")
    monkeypatch.setenv("VIGIE_DISCORD_PUBLIC_KEY", "aa,bb")
    settings = IngestSettings.load()
    assert settings.youtube_channel_ids == ["UC1", "UC2"]
    discord = Webhooks.configure(settings, discover()).endpoints["discord"]
    assert [secret.value for secret in discord.secrets] == [b"aa", b"bb"]


def test_state_file_sits_beside_the_embedded_bus(tmp_path: Path) -> None:
    assert IngestSettings(bus_url=f"sqlite:///{tmp_path}/bus.db").state_path() == tmp_path / "ingest-state.db"
    assert IngestSettings(bus_url="kafka://127.0.0.1:9092").state_path() == Path("var/ingest-state.db")
    assert IngestSettings(idempotency_db_path=tmp_path / "x.db").state_path() == tmp_path / "x.db"


def test_production_needs_generic_secrets_bound_to_communities(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.json"
    tokens.write_text('{"tokens": []}')
    common = {"environment": "production", "api_tokens_file": tokens, "pseudonym_key": "k" * 32}
    secret = "g" * 32
    with pytest.raises(ValidationError, match="bound to its communities") as refused:
        IngestSettings(**common, generic_webhook_secret=f"forum-a={secret},{secret}")
    assert secret not in str(refused.value)
    bound = IngestSettings(**common, generic_webhook_secret=f"forum-a|forum-b={secret}")
    # Only the part after `=` is a secret: a short community name is no weakness, a short value is.
    assert bound.secrets()["VIGIE_GENERIC_WEBHOOK_SECRET"] == SecretStr(secret)
    with pytest.raises(ValidationError, match="VIGIE_GENERIC_WEBHOOK_SECRET"):
        IngestSettings(**common, generic_webhook_secret="forum-a=short")
    # Development keeps the bare form ("any community") working.
    assert IngestSettings(generic_webhook_secret="dev-any").generic_webhook_secret is not None


def test_a_malformed_generic_entry_stops_start_up_anywhere() -> None:
    with pytest.raises(ValidationError, match="empty community or secret"):
        IngestSettings(generic_webhook_secret="forum-a=")


def test_every_registered_connector_reads_existing_settings_fields() -> None:
    fields = IngestSettings.model_fields
    for connector in discover():
        assert connector.setting in fields, connector.name
        assert connector.window_setting is None or connector.window_setting in fields, connector.name


def test_a_connector_naming_a_missing_setting_stops_start_up() -> None:
    from vigie_platforms.inbound.registry import InboundRegistry
    from vigie_platforms.telegram.inbound import TelegramWebhook

    class Misnamed(TelegramWebhook):
        name = "misnamed"
        setting = "misnamed_secret"

    registry = InboundRegistry()
    registry.register(Misnamed())
    with pytest.raises(RuntimeError, match="'misnamed_secret'"):
        Webhooks.configure(IngestSettings(), registry)

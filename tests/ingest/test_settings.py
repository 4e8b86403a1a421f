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

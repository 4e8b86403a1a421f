from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from vigie_ingest.settings import IngestSettings
from vigie_shared.auth import ALL_COMMUNITIES, Role, TokenEntry, TokenStore, hash_token, write_token_file
from vigie_shared.settings import CommonSettings


def test_environment_variables_configure_a_service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIGIE_BUS_URL", "kafka://127.0.0.1:9092")
    monkeypatch.setenv("VIGIE_PORT", "9101")
    settings = CommonSettings.load()
    assert settings.bus_url == "kafka://127.0.0.1:9092"
    assert settings.port == 9101
    assert settings.group == "vigie-vigie"


def test_secrets_come_from_a_directory_too(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "vigie_meta_app_secret").write_text("from-a-file")
    monkeypatch.setenv("VIGIE_SECRETS_DIR", str(tmp_path))
    settings = IngestSettings.load()
    assert settings.meta_app_secret is not None
    assert settings.meta_app_secret.get_secret_value() == "from-a-file"
    assert "from-a-file" not in repr(settings)


def test_production_refuses_development_secrets_and_a_missing_tokens_file(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.json"
    write_token_file(tokens, [])
    with pytest.raises(ValidationError, match="VIGIE_META_APP_SECRET"):
        IngestSettings(environment="production", meta_app_secret="dev-123", api_tokens_file=tokens)
    real = "a-real-meta-app-secret-of-32-bytes"
    with pytest.raises(ValidationError, match="VIGIE_API_TOKENS_FILE"):
        IngestSettings(environment="production", meta_app_secret=real)
    with pytest.raises(ValidationError, match="VIGIE_PSEUDONYM_KEY"):
        IngestSettings(environment="production", meta_app_secret=real, api_tokens_file=tokens)
    ok = IngestSettings(
        environment="production",
        meta_app_secret=real,
        pseudonym_key="k" * 32,
        api_tokens_file=tokens,
    )
    assert ok.environment == "production"


@pytest.mark.parametrize(
    "value",
    ["CHANGE_ME", "CHANGE_ME-and-then-some-more-characters", "k" * 31, "é" * 15],
    ids=["placeholder", "placeholder-inside", "31-bytes", "30-bytes-in-15-characters"],
)
def test_production_refuses_placeholders_and_short_secrets(tmp_path: Path, value: str) -> None:
    tokens = tmp_path / "tokens.json"
    write_token_file(tokens, [])
    common = {"environment": "production", "api_tokens_file": tokens, "pseudonym_key": "k" * 32}
    with pytest.raises(ValidationError, match="VIGIE_SLACK_SIGNING_SECRET") as refused:
        IngestSettings(**common, slack_signing_secret=value)
    # The error names the setting, never its value (nor any other secret given with it).
    assert "k" * 32 not in str(refused.value)
    if value != "CHANGE_ME":
        assert value not in str(refused.value)
    # Outside production the same value is accepted: tests and laptops use short ones.
    assert IngestSettings(slack_signing_secret=value).slack_signing_secret is not None
    assert IngestSettings(**common, slack_signing_secret="s" * 32).environment == "production"


def test_tokens_are_stored_hashed_and_carry_roles_and_communities(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    write_token_file(
        path,
        [
            TokenEntry(
                name="ana", sha256=hash_token("secret-a"), roles=[Role.MODERATOR], communities=["page-1"]
            ),
            TokenEntry(name="root", sha256=hash_token("secret-r"), roles=[Role.ADMIN]),
        ],
    )
    assert "secret-a" not in path.read_text()
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    store = TokenStore.from_file(path)
    ana = store.authenticate("secret-a")
    assert ana is not None
    assert ana.has_any([Role.MODERATOR])
    assert not ana.has_any([Role.AUDITOR])
    assert ana.can_access("page-1")
    assert not ana.can_access("page-2")
    root = store.authenticate("secret-r")
    assert root is not None
    assert root.has_any([Role.PRIVACY])  # admin holds every role
    assert root.community_filter() is None
    assert ALL_COMMUNITIES in root.communities
    assert store.authenticate("secret-x") is None

"""Settings with the contract's names, the registry's unique names, the pool's lifecycle, limits."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from vigie_platforms.outbound import (
    ClientContext,
    CredentialStore,
    DuplicatePlatform,
    HttpPool,
    OutboundClients,
    PlatformSettings,
    Registry,
    default_registry,
)
from vigie_platforms.outbound.redact import fingerprint, redact
from vigie_shared.events.v1 import Platform
from vigie_shared.settings import CommonSettings

from tests.platforms.outbound.conftest import CASES
from tests.platforms.outbound.fakes import TOKENS, FakePlatforms

ENV = {
    "VIGIE_META_GRAPH_URL": "http://graph.local/v99.0/",
    "VIGIE_YOUTUBE_API_URL": "http://yt.local/youtube/v3",
    "VIGIE_DISCORD_API_URL": "http://discord.local/api/v10",
    "VIGIE_SLACK_API_URL": "http://slack.local/api",
    "VIGIE_TWITCH_API_URL": "http://twitch.local/helix",
    "VIGIE_TELEGRAM_API_URL": "http://telegram.local",
}


class ResponderLike(CommonSettings, PlatformSettings):
    """How the responder is meant to include the platform settings."""


def test_defaults_are_the_public_apis(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [*ENV, "VIGIE_PLATFORM_CREDENTIALS_FILE"]:
        monkeypatch.delenv(name, raising=False)
    settings = PlatformSettings()
    assert settings.meta_graph_url.startswith("https://graph.facebook.com/v")
    assert settings.slack_api_url == "https://slack.com/api"
    assert settings.telegram_api_url == "https://api.telegram.org"
    assert settings.platform_credentials_file is None


def test_contract_variables_set_the_urls_when_mixed_into_service_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("VIGIE_PLATFORM_CREDENTIALS_FILE", str(tmp_path / "c.json"))
    monkeypatch.setenv("VIGIE_PLATFORM_TIMEOUT_SECONDS", "3.5")
    settings = ResponderLike.load(service_name="responder")
    assert settings.meta_graph_url == "http://graph.local/v99.0"
    assert settings.twitch_api_url == "http://twitch.local/helix"
    assert settings.platform_credentials_file == tmp_path / "c.json"
    assert settings.platform_timeouts().total == 3.5
    assert settings.service_name == "responder"


def test_a_url_that_is_not_http_is_refused() -> None:
    with pytest.raises(ValidationError):
        PlatformSettings(slack_api_url="slack.com/api")


def test_the_default_registry_has_every_platform_once() -> None:
    registry = default_registry()
    assert set(registry) == set(Platform) and len(registry) == len(Platform)
    pool = HttpPool()
    clients = registry.build(ClientContext(settings=PlatformSettings(), http=pool))
    assert all(client.platform is platform for platform, client in clients.items())


def test_a_second_factory_under_a_known_name_is_refused() -> None:
    registry = default_registry()
    with pytest.raises(DuplicatePlatform, match="slack"):
        registry.register(Platform.SLACK, lambda context: registry.build(context)[Platform.SLACK])
    with pytest.raises(ValueError, match="myspace"):
        Registry().register("myspace", lambda context: registry.build(context)[Platform.SLACK])


async def test_one_http_client_per_base_url_closed_with_the_clients() -> None:
    fakes = FakePlatforms()
    clients = OutboundClients.from_settings(
        PlatformSettings(**fakes.settings_values()),  # type: ignore[arg-type]
        transport=fakes.transport,
        credentials=CredentialStore.from_data(fakes.credentials_entries()),
    )
    first = clients.http.client("http://slack.fake/api")
    assert clients.http.client("http://slack.fake/api/") is first
    await clients.aclose()
    assert first.is_closed
    with pytest.raises(RuntimeError, match="closed"):
        clients.http.client("http://slack.fake/api")
    assert clients.get("myspace") is None
    with pytest.raises(KeyError):
        clients["myspace"]


def test_from_settings_reads_the_credentials_file(tmp_path: Path) -> None:
    path = tmp_path / "credentials.json"
    path.write_text('[{"platform": "discord", "community": "g", "credentials": {"bot_token": "abcdefgh"}}]')
    clients = OutboundClients.from_settings(PlatformSettings(platform_credentials_file=path))
    assert clients.credentials.get(Platform.DISCORD, "g") is not None


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_limits_name_public_scopes_never_secrets(case: object) -> None:
    from tests.platforms.outbound.conftest import Case

    assert isinstance(case, Case)
    fakes = FakePlatforms()
    store = CredentialStore.from_data(fakes.credentials_entries())
    client = default_registry().build(ClientContext(settings=PlatformSettings(), http=HttpPool()))[
        case.platform
    ]
    credentials = store.get(case.platform, case.ref.community)
    assert credentials is not None
    limits = client.limits(case.ref, credentials)
    for limit in limits:
        assert limit.rate > 0 and limit.period > 0 and limit.key.startswith(case.platform.value)
        assert all(secret not in limit.key for secret in TOKENS.values())
    if case.platform is not Platform.GENERIC:
        assert limits, "every platform with a documented limit says so"


def test_reply_lengths_are_the_documented_ones() -> None:
    client = default_registry().build(ClientContext(settings=PlatformSettings(), http=HttpPool()))
    lengths = {platform.value: c.max_reply_length(None) for platform, c in client.items()}
    assert lengths == {
        "facebook": 8_000,
        "instagram": 2_200,
        "youtube": 10_000,
        "discord": 2_000,
        "slack": 4_000,
        "twitch": 500,
        "telegram": 4_096,
        "mastodon": 500,
        "generic": 10_000,
    }


def test_redaction_catches_token_shapes() -> None:
    line = 'POST https://api.telegram.org/bot123456:AAbb-cc_dd/sendMessage "HTTP/1.1 200" Authorization: Bearer abcdefghijk ?access_token=EAAxyz'
    cleaned = redact(line)
    for leaked in ("AAbb-cc_dd", "abcdefghijk", "EAAxyz"):
        assert leaked not in cleaned
    assert fingerprint("a") == fingerprint("a") != fingerprint("b")
    assert len(fingerprint("a")) == 12

"""Where each platform's API lives and how long to wait for it (CONTRACT.md names).

`PlatformSettings` is a settings class of its own that a service's settings inherit beside
`CommonSettings` (`class ResponderSettings(CommonSettings, PlatformSettings)`): the fields keep the
`VIGIE_` prefix, so `VIGIE_META_GRAPH_URL` sets `meta_graph_url`.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from vigie_platforms.outbound.http import Timeouts

GRAPH_API_VERSION = "v23.0"


class PlatformSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="VIGIE_", env_nested_delimiter="__", extra="ignore", frozen=True
    )

    meta_graph_url: str = f"https://graph.facebook.com/{GRAPH_API_VERSION}"
    youtube_api_url: str = "https://www.googleapis.com/youtube/v3"
    discord_api_url: str = "https://discord.com/api/v10"
    slack_api_url: str = "https://slack.com/api"
    twitch_api_url: str = "https://api.twitch.tv/helix"
    telegram_api_url: str = "https://api.telegram.org"
    platform_credentials_file: Path | None = None
    platform_timeout_seconds: float = Field(default=10.0, gt=0)
    platform_connect_timeout_seconds: float = Field(default=5.0, gt=0)

    @field_validator(
        "meta_graph_url",
        "youtube_api_url",
        "discord_api_url",
        "slack_api_url",
        "twitch_api_url",
        "telegram_api_url",
    )
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

    def platform_timeouts(self) -> Timeouts:
        return Timeouts(total=self.platform_timeout_seconds, connect=self.platform_connect_timeout_seconds)

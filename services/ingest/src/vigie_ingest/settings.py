"""Ingest settings. Every platform secret may hold several comma-separated values (rotation)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode
from vigie_platforms.generic.inbound import parse_secrets
from vigie_shared.settings import CommonSettings


def secret_values(secret: SecretStr | None) -> tuple[bytes, ...]:
    """The currently valid values of a rotating secret: `new,old` keeps both working during a rotation."""
    if secret is None:
        return ()
    return tuple(part.strip().encode() for part in secret.get_secret_value().split(",") if part.strip())


class IngestSettings(CommonSettings):
    service_name: str = "ingest"
    port: int = 8001
    pseudonym_key: SecretStr | None = None
    max_body_bytes: int = Field(default=1_048_576, gt=0)
    # Communities whose members' display names may travel past ingest (comma-separated, "*": all).
    # Everyone else is known downstream by pseudonym only.
    display_name_communities: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # Platform secrets (CONTRACT.md names). Comma-separated lists: every listed value is accepted.
    meta_app_secret: SecretStr | None = None
    meta_verify_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    twitch_eventsub_secret: SecretStr | None = None
    telegram_secret_token: SecretStr | None = None
    discord_public_key: SecretStr | None = None
    mastodon_webhook_secret: SecretStr | None = None
    # Entries `community1|community2=secret`: a sender may post only for its own communities. A bare
    # `secret` (any community) is for development and tests; production refuses it.
    generic_webhook_secret: SecretStr | None = None

    # Replay windows, from each platform's documentation.
    slack_max_skew_seconds: int = 300
    twitch_max_age_seconds: int = 600
    discord_max_skew_seconds: int = 300
    generic_max_skew_seconds: int = 300

    # Deliveries retried by a platform are recognised for this long (Meta retries for up to 36 h).
    # Where the keys (and the YouTube cursor) live: VIGIE_DATABASE_URL when set, shared by every
    # replica (PostgreSQL in Kubernetes); else a SQLite file of this process's own, at
    # idempotency_db_path or beside the embedded bus file (a throwaway bus gets throwaway keys).
    database_url: str | None = None
    idempotency_db_path: Path | None = None
    # A state query that takes longer is given up: the webhook is published anyway.
    state_timeout_seconds: float = Field(default=2.0, gt=0)
    idempotency_ttl_seconds: int = Field(default=3 * 24 * 3600, gt=0)
    retry_after_seconds: int = Field(default=5, gt=0)

    # YouTube pushes nothing: a poller reads commentThreads.list when a key and channels are set.
    youtube_api_key: SecretStr | None = None
    youtube_channel_ids: Annotated[list[str], NoDecode] = Field(default_factory=list)
    youtube_api_base_url: str = "https://www.googleapis.com/youtube/v3"
    # Off in the webhook replicas of a deployment, on in its single poller (deploy/k8s/ingest-poller):
    # every poller spends the YouTube quota and publishes the same comments again.
    youtube_poller: bool = True
    youtube_poll_interval_seconds: float = Field(default=60.0, gt=0)
    youtube_daily_quota: int = Field(default=10_000, gt=0)
    youtube_quota_reserve: int = Field(default=500, ge=0)
    youtube_max_pages_per_poll: int = Field(default=5, gt=0)
    youtube_timeout_seconds: float = Field(default=10.0, gt=0)

    def state_path(self) -> Path:
        if self.idempotency_db_path is not None:
            return self.idempotency_db_path
        if self.bus_url.startswith("sqlite:///"):
            return Path(self.bus_url.removeprefix("sqlite:///")).parent / "ingest-state.db"
        return Path("var/ingest-state.db")

    @model_validator(mode="after")
    def _pseudonyms_in_production(self) -> IngestSettings:
        # Without the key no comment can be published; better to refuse to start than to 503 all day.
        if self.environment == "production" and self.pseudonym_key is None:
            raise ValueError("production needs VIGIE_PSEUDONYM_KEY")
        return self

    @model_validator(mode="after")
    def _generic_secrets_bound(self) -> IngestSettings:
        # parse_secrets raises on an empty community or secret, in any environment.
        generic = parse_secrets(secret_values(self.generic_webhook_secret))
        if self.environment == "production" and any(s.communities is None for s in generic):
            raise ValueError(
                "production needs every VIGIE_GENERIC_WEBHOOK_SECRET entry bound to its communities "
                "(community1|community2=secret)"
            )
        return self

    @field_validator("youtube_channel_ids", "display_name_communities", mode="before")
    @classmethod
    def _split_channels(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    def secrets(self) -> dict[str, SecretStr | None]:
        # Each value of a rotating list is checked on its own, so `new,dev-old` is refused too.
        named = {
            "VIGIE_PSEUDONYM_KEY": self.pseudonym_key,
            "VIGIE_META_APP_SECRET": self.meta_app_secret,
            "VIGIE_META_VERIFY_TOKEN": self.meta_verify_token,
            "VIGIE_SLACK_SIGNING_SECRET": self.slack_signing_secret,
            "VIGIE_TWITCH_EVENTSUB_SECRET": self.twitch_eventsub_secret,
            "VIGIE_TELEGRAM_SECRET_TOKEN": self.telegram_secret_token,
            "VIGIE_MASTODON_WEBHOOK_SECRET": self.mastodon_webhook_secret,
            "VIGIE_GENERIC_WEBHOOK_SECRET": self.generic_webhook_secret,
            "VIGIE_YOUTUBE_API_KEY": self.youtube_api_key,
        }
        out: dict[str, SecretStr | None] = {}
        for name, value in named.items():
            parts = secret_values(value)
            if name == "VIGIE_GENERIC_WEBHOOK_SECRET":
                # Community names are not secret: only the value after `=` is held to the rules.
                parts = tuple(secret.value for secret in parse_secrets(parts))
            if not parts:
                out[name] = value
            for index, part in enumerate(parts):
                out[name if index == 0 else f"{name}[{index}]"] = SecretStr(part.decode())
        return out

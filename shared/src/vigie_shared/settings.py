"""Typed settings read from VIGIE_* variables (nested with __) and an optional secrets directory."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET_PREFIX = "dev-"  # noqa: S105 - a marker, not a secret


class CommonSettings(BaseSettings):
    """What every service reads. Services subclass it and add their own fields and defaults."""

    model_config = SettingsConfigDict(
        env_prefix="VIGIE_", env_nested_delimiter="__", extra="ignore", frozen=True
    )

    service_name: str = "vigie"
    environment: Literal["development", "test", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    bus_url: str = "sqlite:///var/bus.db"
    bus_topic_prefix: str = ""
    consumer_group: str | None = None
    log_level: str = "INFO"
    log_json: bool | None = None
    api_tokens_file: Path | None = None
    # Days comment texts and display names are kept, per community ("*": every other one); see
    # vigie_shared.retention. Empty: kept until erased on request.
    retention_days: dict[str, int] = Field(default_factory=dict)
    retention_interval_seconds: float = Field(default=3600.0, gt=0)

    @classmethod
    def load(cls, **overrides: Any) -> Self:
        """Builds settings from the environment; VIGIE_SECRETS_DIR adds a directory of secret files."""
        secrets_dir = os.environ.get("VIGIE_SECRETS_DIR")
        if secrets_dir:
            return cls(_secrets_dir=secrets_dir, **overrides)
        return cls(**overrides)

    @property
    def group(self) -> str:
        return self.consumer_group or f"vigie-{self.service_name}"

    def secrets(self) -> dict[str, SecretStr | None]:
        """The secrets this service holds, for the production check below."""
        return {}

    @model_validator(mode="after")
    def _refuse_dev_secrets_in_production(self) -> Self:
        if self.environment != "production":
            return self
        bad = [
            name
            for name, value in self.secrets().items()
            if value is not None and value.get_secret_value().startswith(DEV_SECRET_PREFIX)
        ]
        if bad:
            raise ValueError(f"development secrets are not allowed in production: {', '.join(bad)}")
        if self.api_tokens_file is None:
            raise ValueError("production needs VIGIE_API_TOKENS_FILE")
        return self

"""Typed settings read from VIGIE_* variables (nested with __) and an optional secrets directory."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from vigie_shared.bus.security import KafkaSecurity

DEV_SECRET_PREFIX = "dev-"  # noqa: S105 - a marker, not a secret
PLACEHOLDER = "CHANGE_ME"  # what the deploy examples ship
MIN_SECRET_BYTES = 32


class CommonSettings(BaseSettings):
    """What every service reads. Services subclass it and add their own fields and defaults."""

    # hide_input_in_errors: a refused setting must not print every secret it was given beside it.
    model_config = SettingsConfigDict(
        env_prefix="VIGIE_",
        env_nested_delimiter="__",
        extra="ignore",
        frozen=True,
        hide_input_in_errors=True,
    )

    service_name: str = "vigie"
    environment: Literal["development", "test", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    bus_url: str = "sqlite:///var/bus.db"
    bus_topic_prefix: str = ""
    # Kafka topics are created with these: 1 suits the single local broker; a cluster wants 3 and 2.
    bus_partitions: int = Field(default=3, ge=1)
    bus_replication_factor: int = Field(default=1, ge=1)
    bus_min_insync_replicas: int = Field(default=1, ge=1)
    # Embedded bus: a consumer's lease on its group, and how long records every group consumed stay.
    bus_lease_seconds: float = Field(default=10.0, gt=0)
    bus_retention_days: float = Field(default=7.0, gt=0)
    consumer_group: str | None = None
    log_level: str = "INFO"
    log_json: bool | None = None
    api_tokens_file: Path | None = None
    # Any request body over this is refused with 413 before it is parsed, on every route.
    http_max_body_bytes: int = Field(default=1_048_576, gt=0)
    # Days comment texts and display names are kept, per community ("*": every other one); see
    # vigie_shared.retention. Empty: kept until erased on request.
    retention_days: dict[str, int] = Field(default_factory=dict)
    retention_interval_seconds: float = Field(default=3600.0, gt=0)
    # How often gauges read from storage (queue depth, consumer lag) are refreshed.
    metrics_sample_seconds: float = Field(default=15.0, gt=0)
    # A managed or Strimzi Kafka: TLS and SASL (see deploy/README.md). PLAINTEXT for a local broker.
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_ca_file: Path | None = None
    kafka_ssl_cert_file: Path | None = None
    kafka_ssl_key_file: Path | None = None
    kafka_ssl_check_hostname: bool = True

    @classmethod
    def load(cls, **overrides: Any) -> Self:
        """Builds settings from the environment; VIGIE_SECRETS_DIR adds a directory of secret files."""
        secrets_dir = os.environ.get("VIGIE_SECRETS_DIR")
        if secrets_dir:
            return cls(_secrets_dir=secrets_dir, **overrides)
        return cls(**overrides)

    def kafka_security(self) -> KafkaSecurity:
        return KafkaSecurity(
            protocol=self.kafka_security_protocol,
            sasl_mechanism=self.kafka_sasl_mechanism,
            username=self.kafka_sasl_username,
            password=self.kafka_sasl_password,
            ca_file=self.kafka_ssl_ca_file,
            cert_file=self.kafka_ssl_cert_file,
            key_file=self.kafka_ssl_key_file,
            check_hostname=self.kafka_ssl_check_hostname,
        )

    @property
    def group(self) -> str:
        return self.consumer_group or f"vigie-{self.service_name}"

    def secrets(self) -> dict[str, SecretStr | None]:
        """The secrets this service holds, for the production check below."""
        return {}

    @model_validator(mode="after")
    def _kafka_security_is_whole(self) -> Self:
        # Refused at start-up, not at the first connection: a half-configured SASL would only
        # show as a broker that never answers.
        self.kafka_security()
        return self

    @model_validator(mode="after")
    def _refuse_dev_secrets_in_production(self) -> Self:
        if self.environment != "production":
            return self
        bad = [
            name
            for name, value in self.secrets().items()
            if value is not None and unsafe_secret(value.get_secret_value())
        ]
        if bad:
            raise ValueError(
                f"development, placeholder ({PLACEHOLDER}) or short (under {MIN_SECRET_BYTES} bytes) "
                f"secrets are not allowed in production: {', '.join(bad)}"
            )
        if self.api_tokens_file is None:
            raise ValueError("production needs VIGIE_API_TOKENS_FILE")
        return self


def unsafe_secret(value: str) -> bool:
    """A value production must not run with: generated for development, a placeholder, or guessable."""
    return (
        value.startswith(DEV_SECRET_PREFIX) or PLACEHOLDER in value or len(value.encode()) < MIN_SECRET_BYTES
    )

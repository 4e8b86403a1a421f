from __future__ import annotations

from pydantic import Field, SecretStr
from vigie_platforms.outbound import PlatformSettings
from vigie_shared.settings import CommonSettings


class ResponderSettings(CommonSettings, PlatformSettings):
    service_name: str = "responder"
    port: int = 8003
    database_url: str = "sqlite+aiosqlite:///var/responder.db"
    # How the dispatcher works platform jobs (see vigie_responder.dispatcher).
    dispatch_concurrency: int = Field(default=8, ge=1, le=256)
    dispatch_poll_seconds: float = Field(default=0.5, gt=0)
    dispatch_lease_seconds: float = Field(default=60.0, gt=0)
    dispatch_retry_base_seconds: float = Field(default=1.0, gt=0)
    dispatch_retry_cap_seconds: float = Field(default=300.0, gt=0)
    dispatch_give_up_hours: float = Field(default=24.0, gt=0)
    # Optional rewriting of grounded answers by an OpenAI-compatible chat-completions endpoint.
    llm_url: str | None = None
    llm_model: str = "gpt-4o-mini"
    llm_api_key: SecretStr | None = None
    llm_timeout_seconds: float = Field(default=8.0, gt=0)

    # Keys the hashes kept in placeholders of redacted e-mails, phones, IBANs, cards, IPs.
    redaction_key: SecretStr | None = None

    def secrets(self) -> dict[str, SecretStr | None]:
        return {"llm_api_key": self.llm_api_key, "VIGIE_REDACTION_KEY": self.redaction_key}

    def redaction_key_bytes(self) -> bytes | None:
        return self.redaction_key.get_secret_value().encode() if self.redaction_key else None

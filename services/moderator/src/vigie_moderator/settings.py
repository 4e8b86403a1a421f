from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from vigie_shared.settings import CommonSettings


class ModeratorSettings(CommonSettings):
    service_name: str = "moderator"
    port: int = 8002
    database_url: str = "sqlite+aiosqlite:///var/moderator.db"
    models_dir: Path | None = None
    onnx_threads: int = 1
    batch_max_records: int = 64
    batch_max_wait_seconds: float = 0.05
    # Share of the scoring time explanations may use while the consumer is behind (full batches);
    # when it is not, every comment the policy acts on is explained. See domain/explain.py.
    explain_budget: float = Field(default=0.05, ge=0.0)
    # Identical texts scored once while in this LRU; 0 switches it off.
    score_cache_size: int = Field(default=10_000, ge=0)
    # Keys the hashes in placeholders of redacted e-mails, phones, IBANs, cards and IPs.
    redaction_key: SecretStr | None = None

    def secrets(self) -> dict[str, SecretStr | None]:
        return {"VIGIE_REDACTION_KEY": self.redaction_key}

    def redaction_key_bytes(self) -> bytes | None:
        return self.redaction_key.get_secret_value().encode() if self.redaction_key else None

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Self

from pydantic import BaseModel, Field, SecretStr, model_validator
from vigie_shared.settings import DEV_SECRET_PREFIX, CommonSettings

# Only for development and tests; production refuses it (dev- prefix, see below).
DEV_CHAIN_KEY = "dev-audit-chain-key-not-for-production"
MIN_CHAIN_KEY_BYTES = 32


class ReportSettings(BaseModel):
    """Bias and insights reports (VIGIE_REPORTS__*)."""

    margin: float = Field(default=0.05, gt=0, lt=1, description="gap that puts a group first")
    min_group_size: int = Field(default=30, ge=1, description="fewer decisions: no figure shown")
    bootstrap: int = Field(default=200, ge=20, le=5000, description="resamples per interval")
    confidence: float = Field(default=0.95, gt=0.5, lt=1)
    harm_scores: tuple[str, ...] = Field(
        default=("toxicity", "insult", "threat", "identity_attack"),
        description="scores whose maximum is the one the AUCs rank by",
    )
    moderator_key: SecretStr = Field(
        default=SecretStr("dev-report-moderators"),
        description="HMAC key that turns reviewer names into the pseudonyms the insights show",
    )
    topic_min_cluster_size: int = Field(
        default=5, ge=3, description="smaller topics are never shown (k-anonymity: never one or two people)"
    )
    topic_min_word_comments: int = Field(
        default=3,
        ge=2,
        description="a word names a topic only if at least this many of its comments carry it",
    )
    topic_max_clusters: int = Field(default=8, ge=2, le=30, description="largest k tried per language")
    topic_max_sample: int = Field(
        default=2000, ge=100, le=20_000, description="comments k-means is fitted on; the rest are assigned"
    )
    topic_max_comments: int = Field(
        default=50_000, ge=1000, le=1_000_000, description="comments read per report (a sample beyond)"
    )


class AuditSettings(CommonSettings):
    service_name: str = "audit"
    port: int = 8004
    database_url: str = "sqlite+aiosqlite:///var/audit.db"
    reports: ReportSettings = ReportSettings()

    # HMAC key of the hash chain. Never stored in the database; losing it means the chain can no
    # longer be verified, so keep it in the secret manager with a backup.
    audit_chain_key: SecretStr = SecretStr(DEV_CHAIN_KEY)
    # Ed25519 seed (64 hex digits) that signs checkpoints. Unset outside production: derived from the
    # chain key, which is good enough to test with and nothing more.
    audit_checkpoint_key: SecretStr | None = None
    # Signed checkpoints are appended here as JSON lines; ship the file elsewhere (see README).
    # Unset: beside a SQLite database (so a throwaway database gets throwaway checkpoints), else var/.
    audit_checkpoint_file: Path | None = None
    audit_checkpoint_interval_seconds: float = Field(default=300.0, gt=0)
    audit_verify_page: int = Field(default=2000, gt=0, le=50_000)

    # The same key ingest pseudonymises with: a privacy request names the person by platform user id.
    pseudonym_key: SecretStr | None = None
    # Keys the hashes kept in placeholders of redacted e-mails, phones, IBANs, cards, IPs.
    redaction_key: SecretStr | None = None
    # Who must answer an erasure before its request is done.
    privacy_services: list[str] = Field(default_factory=lambda: ["audit", "moderator", "responder"])

    def secrets(self) -> dict[str, SecretStr | None]:
        return {
            "reports__moderator_key": self.reports.moderator_key,
            "VIGIE_AUDIT_CHAIN_KEY": self.audit_chain_key,
            "VIGIE_AUDIT_CHECKPOINT_KEY": self.audit_checkpoint_key,
            "VIGIE_PSEUDONYM_KEY": self.pseudonym_key,
            "VIGIE_REDACTION_KEY": self.redaction_key,
        }

    def checkpoint_path(self) -> Path:
        if self.audit_checkpoint_file is not None:
            return self.audit_checkpoint_file
        prefix = "sqlite+aiosqlite:///"
        if self.database_url.startswith(prefix) and ":memory:" not in self.database_url:
            database = Path(self.database_url.removeprefix(prefix))
            return database.with_name(database.stem + "-checkpoints.jsonl")
        return Path("var/audit-checkpoints.jsonl")

    def chain_key_bytes(self) -> bytes:
        return self.audit_chain_key.get_secret_value().encode()

    def checkpoint_seed(self) -> bytes:
        if self.audit_checkpoint_key is not None:
            return bytes.fromhex(self.audit_checkpoint_key.get_secret_value())
        return hashlib.sha256(b"vigie-dev-checkpoint\x00" + self.chain_key_bytes()).digest()

    def redaction_key_bytes(self) -> bytes | None:
        return self.redaction_key.get_secret_value().encode() if self.redaction_key else None

    @model_validator(mode="after")
    def _keys_fit_for_production(self) -> Self:
        if self.audit_checkpoint_key is not None:
            try:
                seed = bytes.fromhex(self.audit_checkpoint_key.get_secret_value())
            except ValueError:
                raise ValueError("VIGIE_AUDIT_CHECKPOINT_KEY must be 64 hex digits") from None
            if len(seed) != 32:
                raise ValueError("VIGIE_AUDIT_CHECKPOINT_KEY must be 64 hex digits")
        if self.environment != "production":
            return self
        key = self.audit_chain_key.get_secret_value()
        if key.startswith(DEV_SECRET_PREFIX) or len(key.encode()) < MIN_CHAIN_KEY_BYTES:
            raise ValueError(f"production needs VIGIE_AUDIT_CHAIN_KEY of {MIN_CHAIN_KEY_BYTES}+ random bytes")
        if self.audit_checkpoint_key is None:
            raise ValueError("production needs VIGIE_AUDIT_CHECKPOINT_KEY (64 hex digits)")
        if self.pseudonym_key is None:
            raise ValueError("production needs VIGIE_PSEUDONYM_KEY (privacy requests)")
        return self

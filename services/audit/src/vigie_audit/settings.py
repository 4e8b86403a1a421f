from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr
from vigie_shared.settings import CommonSettings


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


class AuditSettings(CommonSettings):
    service_name: str = "audit"
    port: int = 8004
    database_url: str = "sqlite+aiosqlite:///var/audit.db"
    reports: ReportSettings = ReportSettings()

    def secrets(self) -> dict[str, SecretStr | None]:
        return {"reports__moderator_key": self.reports.moderator_key}

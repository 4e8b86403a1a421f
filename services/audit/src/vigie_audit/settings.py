from __future__ import annotations

from vigie_shared.settings import CommonSettings


class AuditSettings(CommonSettings):
    service_name: str = "audit"
    port: int = 8004
    database_url: str = "sqlite+aiosqlite:///var/audit.db"

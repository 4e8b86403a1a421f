from __future__ import annotations

from vigie_shared.settings import CommonSettings


class ResponderSettings(CommonSettings):
    service_name: str = "responder"
    port: int = 8003
    database_url: str = "sqlite+aiosqlite:///var/responder.db"

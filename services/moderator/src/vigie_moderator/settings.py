from __future__ import annotations

from pathlib import Path

from vigie_shared.settings import CommonSettings


class ModeratorSettings(CommonSettings):
    service_name: str = "moderator"
    port: int = 8002
    database_url: str = "sqlite+aiosqlite:///var/moderator.db"
    models_dir: Path | None = None
    onnx_threads: int = 1
    batch_max_records: int = 64
    batch_max_wait_seconds: float = 0.05

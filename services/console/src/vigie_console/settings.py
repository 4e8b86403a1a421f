from __future__ import annotations

from pydantic import AnyHttpUrl, Field
from vigie_shared.settings import CommonSettings


class ConsoleSettings(CommonSettings):
    """Where the console listens and where the services it fronts answer.

    `VIGIE_INGEST_URL`, `VIGIE_MODERATOR_URL`, `VIGIE_RESPONDER_URL`, `VIGIE_AUDIT_URL` default to
    the ports `make run` uses.
    """

    service_name: str = "console"
    port: int = 8000
    ingest_url: AnyHttpUrl = AnyHttpUrl("http://127.0.0.1:8001")
    moderator_url: AnyHttpUrl = AnyHttpUrl("http://127.0.0.1:8002")
    responder_url: AnyHttpUrl = AnyHttpUrl("http://127.0.0.1:8003")
    audit_url: AnyHttpUrl = AnyHttpUrl("http://127.0.0.1:8004")
    upstream_timeout_seconds: float = Field(default=30.0, gt=0)
    upstream_connect_timeout_seconds: float = Field(default=5.0, gt=0)
    max_body_bytes: int = Field(default=1_048_576, gt=0)

    def upstreams(self) -> dict[str, str]:
        return {
            "ingest": str(self.ingest_url).rstrip("/"),
            "moderator": str(self.moderator_url).rstrip("/"),
            "responder": str(self.responder_url).rstrip("/"),
            "audit": str(self.audit_url).rstrip("/"),
        }

"""The four services built the same way for cross-service tests: embedded bus and SQLite in one folder."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from tests.conftest import Tokens

SERVICES = ("ingest", "moderator", "responder", "audit")


def build(service: str, folder: Path, tokens: Tokens, **overrides: Any) -> FastAPI:
    """One service's app on a bus file and database of its own under `folder`."""
    common: dict[str, Any] = {
        "environment": "test",
        "bus_url": f"sqlite:///{folder}/bus.db",
        "api_tokens_file": tokens.path,
        "consumer_group": f"{service}-{folder.name}",
    }
    if service == "ingest":
        from vigie_ingest.app import create_app as ingest_app

        from tests.ingest.conftest import make_settings

        return ingest_app(make_settings(folder, **common, **overrides))
    common["database_url"] = f"sqlite+aiosqlite:///{folder}/{service}.db"
    common.update(overrides)
    if service == "moderator":
        from vigie_moderator.app import create_app as moderator_app
        from vigie_moderator.domain.scores import KeywordScorer
        from vigie_moderator.settings import ModeratorSettings

        return moderator_app(ModeratorSettings(**common), scorer=KeywordScorer())
    if service == "responder":
        from vigie_responder.app import create_app as responder_app
        from vigie_responder.settings import ResponderSettings

        return responder_app(ResponderSettings(**common))
    if service == "audit":
        from vigie_audit.app import create_app as audit_app
        from vigie_audit.settings import AuditSettings

        # Privacy requests name a person by platform user id: audit pseudonymises as ingest does.
        common.setdefault("pseudonym_key", "test-pseudonym-key")
        # Each test's chain gets its own checkpoints, whatever database it is on.
        common.setdefault("audit_checkpoint_file", folder / "audit-checkpoints.jsonl")
        return audit_app(AuditSettings(**common))
    raise ValueError(service)


@dataclass
class Running:
    app: FastAPI
    client: httpx.AsyncClient


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[Running]:
    """The app with its lifespan, driven over ASGI (no socket)."""
    async with (
        LifespanManager(app, startup_timeout=60, shutdown_timeout=90) as manager,
        httpx.AsyncClient(transport=httpx.ASGITransport(manager.app), base_url="http://svc") as client,
    ):
        yield Running(app, client)

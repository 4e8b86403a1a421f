"""A request that meets a failed dependency gets 503 and Retry-After; a bug stays a 500."""

from __future__ import annotations

import sqlite3

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError, OperationalError
from vigie_shared.bus import BusUnavailable
from vigie_shared.http import instrument
from vigie_shared.metrics import ServiceMetrics


def app_raising(error: Exception) -> FastAPI:
    app = FastAPI()
    instrument(app, ServiceMetrics("dependency-answers-test"), {})

    @app.get("/work")
    async def work() -> None:
        raise error

    return app


@pytest.mark.parametrize(
    ("error", "dependency"),
    [
        (BusUnavailable("kafka: no broker"), "bus"),
        (sqlite3.OperationalError("database is locked"), "database"),
        (OperationalError("SELECT 1", {}, ConnectionRefusedError("refused")), "database"),
    ],
    ids=["bus", "sqlite", "sqlalchemy"],
)
async def test_a_failed_dependency_is_a_503_with_retry_after(error: Exception, dependency: str) -> None:
    transport = httpx.ASGITransport(app_raising(error))
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        answer = await client.get("/work")
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "5"
    assert answer.json() == {"detail": f"{dependency} unavailable, retry later"}
    assert "refused" not in answer.text and "locked" not in answer.text


async def test_a_database_error_about_the_data_stays_a_500() -> None:
    error = IntegrityError("INSERT", {}, ValueError("duplicate key"))
    transport = httpx.ASGITransport(app_raising(error), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        answer = await client.get("/work")
    assert answer.status_code == 500

"""The audit service's HTTP side: verify with ranges and checkpoints, privacy requests, settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from pydantic import SecretStr, ValidationError
from sqlalchemy import update
from vigie_audit.adapters.store import AuditRow, AuditStore, NewEntry
from vigie_audit.app import create_app
from vigie_audit.settings import AuditSettings
from vigie_shared.db import session_factory

from tests.conftest import Tokens
from tests.e2e.system import wait_for


@pytest.fixture
async def audit(tmp_path: Path, tokens: Tokens) -> AsyncIterator[tuple[httpx.AsyncClient, FastAPI]]:
    settings = AuditSettings(
        environment="test",
        bus_url=f"sqlite:///{tmp_path}/bus.db",
        database_url=f"sqlite+aiosqlite:///{tmp_path}/audit.db",
        api_tokens_file=tokens.path,
        pseudonym_key=SecretStr("test-pseudonym-key"),
        audit_checkpoint_interval_seconds=3600,
    )
    app = create_app(settings)
    async with (
        LifespanManager(app, startup_timeout=60) as manager,
        httpx.AsyncClient(transport=httpx.ASGITransport(manager.app), base_url="http://audit") as client,
    ):
        yield client, app


async def fill(app: FastAPI, count: int) -> None:
    store: AuditStore = app.state.audit
    await store.append(
        *(
            NewEntry(
                f"e{n}",
                "moderation.decided",
                "t",
                "k",
                "s",
                "2026",
                f"c{n}",
                "page-1",
                {"n": n},
                datetime.now(UTC),
            )
            for n in range(count)
        )
    )


async def test_verify_answers_the_contract_keys_and_checks_a_range(
    audit: tuple[httpx.AsyncClient, FastAPI], tokens: Tokens
) -> None:
    client, app = audit
    await fill(app, 6)
    auditor = Tokens.header(tokens.auditor)
    whole = (await client.get("/v1/audit/verify", headers=auditor)).json()
    assert {k: whole[k] for k in ("ok", "checked", "first_bad_seq")} == {
        "ok": True,
        "checked": 6,
        "first_bad_seq": None,
    }
    part = (await client.get("/v1/audit/verify", params={"from_seq": 3, "to_seq": 4}, headers=auditor)).json()
    assert part["ok"] and part["checked"] == 2 and part["last_seq"] == 4
    assert (await client.get("/v1/audit/verify", headers=Tokens.header(tokens.moderator))).status_code == 403


async def test_verify_against_a_checkpoint_from_the_file_or_from_the_operator(
    audit: tuple[httpx.AsyncClient, FastAPI], tokens: Tokens
) -> None:
    client, app = audit
    auditor = Tokens.header(tokens.auditor)
    await fill(app, 4)
    checkpoint = (await client.post("/v1/audit/checkpoint", headers=auditor)).json()
    assert checkpoint["seq"] == 4
    assert (await client.get("/v1/audit/checkpoint", headers=auditor)).json() == checkpoint
    verified = (await client.get("/v1/audit/verify", headers=auditor)).json()
    assert (
        verified["ok"]
        and verified["checkpoint"]["source"] == "file"
        and verified["checkpoint"]["signature_ok"]
    )

    mine = {"checkpoint_seq": 2, "checkpoint_hash": "f" * 64}
    mismatch = (await client.get("/v1/audit/verify", params=mine, headers=auditor)).json()
    assert not mismatch["ok"] and mismatch["problem"] == "entry differs from the checkpoint"

    # The tail is cut: the chain that is left still holds, the signed checkpoint says what is missing.
    async with session_factory(app.state.engine).begin() as session:
        await session.execute(AuditRow.__table__.delete().where(AuditRow.seq == 4))
    cut = (await client.get("/v1/audit/verify", headers=auditor)).json()
    assert not cut["ok"] and cut["first_bad_seq"] is None and "before the checkpoint at 4" in cut["problem"]


async def test_errors_name_the_field_but_never_echo_the_value(
    audit: tuple[httpx.AsyncClient, FastAPI], tokens: Tokens
) -> None:
    client, _ = audit
    answer = await client.get(
        "/v1/audit/verify",
        params={"checkpoint_seq": 1, "checkpoint_hash": "SECRET-VALUE"},
        headers=Tokens.header(tokens.auditor),
    )
    assert answer.status_code == 422
    assert "SECRET-VALUE" not in answer.text
    assert answer.json()["detail"][0]["loc"] == ["query", "checkpoint_hash"]


async def test_an_erasure_stays_pending_until_every_service_has_answered(
    audit: tuple[httpx.AsyncClient, FastAPI], tokens: Tokens
) -> None:
    client, _ = audit
    admin = Tokens.header(tokens.admin)
    assert (
        await client.delete("/v1/privacy/subjects/facebook/42", headers=Tokens.header(tokens.auditor))
    ).status_code == 403
    assert (await client.delete("/v1/privacy/subjects/myspace/42", headers=admin)).status_code == 422
    accepted = await client.delete("/v1/privacy/subjects/facebook/42", headers=admin)
    assert accepted.status_code == 202
    request_id = accepted.json()["id"]

    async def audit_answered() -> dict[str, Any] | None:
        state: dict[str, Any] = (await client.get(f"/v1/privacy/requests/{request_id}", headers=admin)).json()
        return state if state["services"]["audit"]["status"] == "done" else None

    state = await wait_for(audit_answered, timeout=30)
    assert state["status"] == "pending"
    assert state["services"]["moderator"] == {"status": "pending", "erased": None, "at": None}
    assert state["services"]["audit"]["erased"] == {"audit_personal": 0, "report_topics": 0, "bus_records": 0}
    assert (await client.get("/v1/privacy/requests/nope", headers=admin)).status_code == 404


async def test_reading_the_log_records_who_read_whose_data(
    audit: tuple[httpx.AsyncClient, FastAPI], tokens: Tokens
) -> None:
    client, app = audit
    body = {
        "comment": {"platform": "facebook", "community": "page-1"},
        "author": {"pseudonym": "psn_x"},
        "text": "t",
    }
    await app.state.audit.append(
        NewEntry("a", "comment.received", "t", "k", "s", "2026", "c", "page-1", body, datetime.now(UTC))
    )
    page = (await client.get("/v1/audit/events", headers=Tokens.header(tokens.auditor))).json()
    assert page["events"][0]["body"]["text"] == "t"

    async def logged() -> list[dict[str, Any]]:
        return list((await client.get("/v1/audit/access", headers=Tokens.header(tokens.auditor))).json())

    [entry] = await wait_for(logged, timeout=30)
    assert (entry["principal"], entry["route"], entry["subjects"], entry["records"]) == (
        "auditor",
        "/v1/audit/events",
        ["facebook:psn_x"],
        1,
    )


async def test_tampering_shows_through_the_api(
    audit: tuple[httpx.AsyncClient, FastAPI], tokens: Tokens
) -> None:
    client, app = audit
    await fill(app, 3)
    async with session_factory(app.state.engine).begin() as session:
        await session.execute(update(AuditRow).where(AuditRow.seq == 2).values(community="page-9"))
    result = (await client.get("/v1/audit/verify", headers=Tokens.header(tokens.auditor))).json()
    assert (result["ok"], result["first_bad_seq"], result["checked"]) == (False, 2, 1)


@pytest.mark.parametrize(
    "overrides",
    [
        {},  # the development chain key
        {"audit_chain_key": SecretStr("short-but-not-dev")},
        {"audit_chain_key": SecretStr("x" * 40)},  # no checkpoint key
        {
            "audit_chain_key": SecretStr("x" * 40),
            "audit_checkpoint_key": SecretStr("ab" * 32),
        },  # no pseudonym key
    ],
)
def test_production_refuses_weak_or_missing_keys(overrides: dict[str, Any], tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        AuditSettings(environment="production", api_tokens_file=tmp_path / "t.json", **overrides)


def test_production_accepts_real_keys(tmp_path: Path) -> None:
    settings = AuditSettings(
        environment="production",
        api_tokens_file=tmp_path / "t.json",
        audit_chain_key=SecretStr("x" * 40),
        audit_checkpoint_key=SecretStr("ab" * 32),
        pseudonym_key=SecretStr("p" * 32),
        reports={"moderator_key": SecretStr("m" * 32)},
    )
    assert settings.checkpoint_seed() == bytes.fromhex("ab" * 32)

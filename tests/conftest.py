"""Fixtures every tier uses: isolated buses (embedded and real Kafka), tokens, signed webhooks."""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlparse

import pytest
from pydantic import SecretStr
from vigie_shared.auth import Role, TokenEntry, hash_token, write_token_file
from vigie_shared.bus import KafkaSecurity

KAFKA_URL = os.environ.get("VIGIE_TEST_KAFKA_URL", "kafka://127.0.0.1:9092")


def _kafka_reachable(url: str) -> bool:
    first = url.removeprefix("kafka://").split(",")[0]
    parsed = urlparse(f"//{first}")
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 9092), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def kafka_url() -> str:
    # Never a skip: a Kafka test without Kafka is a failed run, so CI cannot go green without it.
    if not _kafka_reachable(KAFKA_URL):
        pytest.fail(
            f"Kafka is not reachable at {KAFKA_URL}: run `make kafka-up` (make test does it for you)",
            pytrace=False,
        )
    return KAFKA_URL


@pytest.fixture(scope="session")
def kafka_security() -> KafkaSecurity | None:
    """TLS and SASL for the test broker; set by tests/shared/test_kafka_security.py, which runs the
    bus contract suite against a SASL_SSL broker it starts (VIGIE_TEST_KAFKA_SECURITY is JSON)."""
    raw = os.environ.get("VIGIE_TEST_KAFKA_SECURITY")
    if not raw:
        return None
    fields = json.loads(raw)
    password = fields.pop("password", None)
    return KafkaSecurity(**fields, password=SecretStr(password) if password is not None else None)


@pytest.fixture(params=["sqlite", pytest.param("kafka", marks=pytest.mark.kafka)])
def bus_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def topic_prefix() -> str:
    return f"t{uuid.uuid4().hex[:12]}."


@pytest.fixture
def bus_url(bus_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if bus_kind == "kafka":
        return str(request.getfixturevalue("kafka_url"))
    return f"sqlite:///{tmp_path}/bus.db"


class Tokens:
    """Plain tokens for tests; the file on disk holds only their hashes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.admin = "vgt_admin_" + uuid.uuid4().hex
        self.moderator = "vgt_mod_" + uuid.uuid4().hex
        self.moderator_elsewhere = "vgt_other_" + uuid.uuid4().hex
        self.auditor = "vgt_aud_" + uuid.uuid4().hex
        write_token_file(
            path,
            [
                TokenEntry(name="admin", sha256=hash_token(self.admin), roles=[Role.ADMIN]),
                TokenEntry(name="mod", sha256=hash_token(self.moderator), roles=[Role.MODERATOR]),
                TokenEntry(
                    name="mod-other",
                    sha256=hash_token(self.moderator_elsewhere),
                    roles=[Role.MODERATOR],
                    communities=["some-other-community"],
                ),
                TokenEntry(name="auditor", sha256=hash_token(self.auditor), roles=[Role.AUDITOR]),
            ],
        )

    @staticmethod
    def header(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def tokens(tmp_path: Path) -> Tokens:
    return Tokens(tmp_path / "tokens.json")


POSTGRES_URL = os.environ.get(
    "VIGIE_TEST_POSTGRES_URL", "postgresql+asyncpg://vigie:vigie@127.0.0.1:55432/vigie_test"
)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    parsed = urlparse(POSTGRES_URL.replace("postgresql+asyncpg", "postgresql"))
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 5432), timeout=2):
            pass
    except OSError:
        pytest.fail(
            f"PostgreSQL is not reachable at {parsed.hostname}:{parsed.port}: run `make postgres-up`"
            " (make test does it for you)",
            pytrace=False,
        )
    return POSTGRES_URL


@asynccontextmanager
async def fresh_postgres(base: str) -> AsyncIterator[str]:
    """A new empty database on the test server, dropped (even if still in use) on the way out."""
    import asyncpg

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin_dsn = base.replace("postgresql+asyncpg", "postgresql")
    connection = await asyncpg.connect(admin_dsn)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    try:
        yield base.rsplit("/", 1)[0] + f"/{name}"
    finally:
        connection = await asyncpg.connect(admin_dsn)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh database per test: a SQLite file, or a new schema-less database on the real server."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/store.db"
        return
    async with fresh_postgres(str(request.getfixturevalue("postgres_url"))) as url:
        yield url

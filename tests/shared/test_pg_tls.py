"""libpq's sslmode and sslrootcert in the database URL reach asyncpg as its `ssl` argument."""

from __future__ import annotations

import ssl
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from vigie_shared.db import create_engine
from vigie_shared.pg_tls import split_ssl

BASE = "postgresql+asyncpg://vigie:secret@db.example:5432/vigie"


@pytest.fixture(scope="module")
def ca_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("pg-ca")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=pg test CA",
         "-keyout", "ca.key", "-out", "ca.pem"],
        cwd=home, check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return home / "ca.pem"


def test_a_url_without_tls_parameters_is_left_alone() -> None:
    url = make_url(BASE + "?application_name=vigie")
    assert split_ssl(url) == (url, {})


def test_verify_full_with_a_ca_checks_chain_and_host(ca_file: Path) -> None:
    rest, args = split_ssl(make_url(f"{BASE}?sslmode=verify-full&sslrootcert={ca_file}&application_name=v"))
    assert dict(rest.query) == {"application_name": "v"}
    assert rest.password == "secret"
    context = args["ssl"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.get_ca_certs()[0]["subject"] == ((("commonName", "pg test CA"),),)


def test_verify_ca_checks_the_chain_but_not_the_host(ca_file: Path) -> None:
    _, args = split_ssl(make_url(f"{BASE}?sslmode=verify-ca&sslrootcert={ca_file}"))
    assert args["ssl"].verify_mode == ssl.CERT_REQUIRED and not args["ssl"].check_hostname


def test_plain_modes_pass_through_and_bad_ones_are_refused() -> None:
    assert split_ssl(make_url(f"{BASE}?sslmode=require"))[1] == {"ssl": "require"}
    assert split_ssl(make_url(f"{BASE}?sslmode=disable"))[1] == {"ssl": False}
    with pytest.raises(ValueError, match="sslmode must be"):
        split_ssl(make_url(f"{BASE}?sslmode=sometimes"))
    with pytest.raises(ValueError, match="go together"):
        split_ssl(make_url(f"{BASE}?sslmode=verify-full&sslcert=/c.pem"))


@pytest.mark.postgres
async def test_the_test_server_takes_disable_and_refuses_require(postgres_url: str) -> None:
    # The shared test server has no TLS: `require` failing proves the mode reached asyncpg.
    ok = create_engine(postgres_url + "?sslmode=disable")
    try:
        async with ok.connect() as connection:
            assert (await connection.execute(text("SELECT 1"))).scalar() == 1
    finally:
        await ok.dispose()
    strict = create_engine(postgres_url + "?sslmode=require")
    try:
        with pytest.raises(Exception, match=r"(?i)ssl|tls"):
            async with strict.connect() as connection:
                await connection.execute(text("SELECT 1"))
    finally:
        await strict.dispose()

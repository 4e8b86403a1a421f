"""Vigie's bus over TLS and SASL: a second local broker with a SASL_SSL listener and a certificate
signed by a CA this test makes; the bus contract suite runs through it.

The shared broker on 9092 is left alone: this one has its own ports and state directory, and is
stopped at the end of the module.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr
from vigie_shared.bus import BusUnavailable, KafkaSecurity, OutgoingRecord, open_bus
from vigie_shared.events.v1 import TOPICS

from tests.e2e.system import free_port
from tests.ops.conftest import ROOT

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

SCRIPT = ROOT / "deploy" / "kafka" / "kafka-secure.sh"
USER = "vigie-app"


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_certificates(home: Path, key_password: str) -> tuple[Path, Path]:
    """A CA, and a broker certificate it signs for localhost; returns (CA file, broker keystore)."""
    openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Vigie test CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        "-keyout", "ca.key", "-out", "ca.pem", cwd=home,
    )  # fmt: skip
    openssl(
        "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
        "-keyout", "broker.key", "-out", "broker.csr", cwd=home,
    )  # fmt: skip
    (home / "broker.ext").write_text(
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\n"
    )
    openssl(
        "x509", "-req", "-in", "broker.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-days", "2", "-extfile", "broker.ext", "-out", "broker.pem", cwd=home,
    )  # fmt: skip
    # Kafka's PEM keystore takes an encrypted PKCS#8 key followed by the certificate chain; the
    # JDK's key factories read PBE-SHA1-3DES, not OpenSSL's default PBES2.
    openssl(
        "pkcs8", "-topk8", "-v1", "PBE-SHA1-3DES", "-in", "broker.key", "-out", "broker.p8",
        "-passout", f"pass:{key_password}", cwd=home,
    )  # fmt: skip
    keystore = home / "keystore.pem"
    keystore.write_text("".join((home / n).read_text() for n in ("broker.p8", "broker.pem", "ca.pem")))
    keystore.chmod(0o600)
    return home / "ca.pem", keystore


@dataclass(frozen=True)
class SecureBroker:
    url: str
    ca_file: Path
    password: str

    def security(self, mechanism: str = "SCRAM-SHA-512", **overrides: object) -> KafkaSecurity:
        fields: dict[str, object] = {
            "protocol": "SASL_SSL",
            "sasl_mechanism": mechanism,
            "username": USER,
            "password": SecretStr(self.password),
            "ca_file": self.ca_file,
        }
        return KafkaSecurity(**(fields | overrides))  # type: ignore[arg-type]


async def _answers(url: str, security: KafkaSecurity) -> bool:
    bus = open_bus(url, client_id="probe", topic_prefix="probe.", security=security)
    try:
        await asyncio.wait_for(bus.start(), timeout=10)
    except (BusUnavailable, TimeoutError, OSError):
        return False
    finally:
        await bus.close()
    return True


@pytest.fixture(scope="module")
def secure_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureBroker]:
    home = tmp_path_factory.mktemp("secure-kafka")
    key_password = secrets.token_hex(16)
    ca_file, keystore = make_certificates(home, key_password)
    port = free_port()
    env = {
        **os.environ,
        "VIGIE_SECURE_KAFKA_STATE": str(home / "state"),
        "VIGIE_SECURE_KAFKA_PORT": str(port),
        "VIGIE_SECURE_KAFKA_INTERNAL_PORT": str(free_port()),
        "VIGIE_SECURE_KAFKA_CONTROLLER_PORT": str(free_port()),
        "VIGIE_SECURE_KAFKA_KEYSTORE": str(keystore),
        "VIGIE_SECURE_KAFKA_KEY_PASSWORD": key_password,
        "VIGIE_SECURE_KAFKA_USER": USER,
        "VIGIE_SECURE_KAFKA_PASSWORD": secrets.token_hex(16),
    }
    broker = SecureBroker(f"kafka://localhost:{port}", ca_file, env["VIGIE_SECURE_KAFKA_PASSWORD"])
    started = subprocess.run([str(SCRIPT), "up"], env=env, capture_output=True, text=True, timeout=300)
    assert started.returncode == 0, started.stdout + started.stderr
    try:
        deadline = time.monotonic() + 120
        pid = int((home / "state" / "kafka.pid").read_text())
        while not asyncio.run(_answers(broker.url, broker.security())):
            log = home / "state" / "broker.log"
            alive = Path(f"/proc/{pid}").exists()
            assert alive and time.monotonic() < deadline, (
                log.read_text()[-4000:] if log.exists() else "no log"
            )
            time.sleep(1)
        yield broker
    finally:
        subprocess.run([str(SCRIPT), "down"], env=env, capture_output=True, timeout=120, check=False)


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
async def test_each_sasl_mechanism_publishes_and_consumes(
    secure_broker: SecureBroker, mechanism: str
) -> None:
    prefix = f"sec{secrets.token_hex(4)}."
    bus = open_bus(
        secure_broker.url,
        client_id="sec-test",
        topic_prefix=prefix,
        security=secure_broker.security(mechanism),
    )
    await bus.start()
    try:
        topic = TOPICS["comment.received"]
        await bus.publish_many([OutgoingRecord(topic, "k", f"v{n}".encode()) for n in range(3)])
        consumer = bus.consumer(f"{prefix}g", [topic])
        await consumer.start()
        try:
            got: list[bytes] = []
            for _ in range(60):
                got += [m.value for m in await consumer.fetch(10, 0.5)]
                if len(got) >= 3:
                    break
            assert got == [b"v0", b"v1", b"v2"]
        finally:
            await consumer.stop()
    finally:
        await bus.close()


async def test_a_wrong_password_is_refused(secure_broker: SecureBroker) -> None:
    security = secure_broker.security("SCRAM-SHA-512", password=SecretStr("not-the-password"))
    assert not await _answers(secure_broker.url, security)


async def test_a_broker_certificate_from_another_ca_is_refused(
    secure_broker: SecureBroker, tmp_path: Path
) -> None:
    other, _ = make_certificates(tmp_path, "unused-password")
    assert not await _answers(secure_broker.url, secure_broker.security(ca_file=other))


def test_the_bus_contract_suite_passes_over_sasl_ssl(secure_broker: SecureBroker) -> None:
    security = {
        "protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "username": USER,
        "password": secure_broker.password,
        "ca_file": str(secure_broker.ca_file),
    }
    env = {
        **os.environ,
        "VIGIE_TEST_KAFKA_URL": secure_broker.url,
        "VIGIE_TEST_KAFKA_SECURITY": json.dumps(security),
    }
    suite = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "kafka", "-rs",
         "tests/shared/test_bus_contract.py"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    summary = suite.stdout.strip().splitlines()[-1] if suite.stdout.strip() else suite.stderr
    assert suite.returncode == 0, suite.stdout[-4000:] + suite.stderr[-2000:]
    assert " passed" in summary and "skipped" not in summary and "deselected" in summary, summary

"""How Vigie authenticates to a managed or Strimzi Kafka: TLS with a CA file, SASL PLAIN or SCRAM.

Built from settings (`VIGIE_KAFKA_SECURITY_PROTOCOL`, ...) in the app factory and handed to every
Kafka client Vigie opens: producer, consumers, admin and the lag reader.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import SecretStr

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]


@dataclass(frozen=True)
class KafkaSecurity:
    protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism | None = None
    username: str | None = None
    password: SecretStr | None = None
    # The CA that signed the brokers' certificates; None trusts the system's CAs.
    ca_file: Path | None = None
    # A client certificate and key, for brokers that authenticate clients by TLS (Strimzi `tls` users).
    cert_file: Path | None = None
    key_file: Path | None = None
    check_hostname: bool = True

    def __post_init__(self) -> None:
        if self.protocol.startswith("SASL_"):
            if self.sasl_mechanism is None or not self.username or self.password is None:
                raise ValueError(f"{self.protocol} needs a SASL mechanism, a username and a password")
        elif self.sasl_mechanism is not None:
            raise ValueError(f"a SASL mechanism is set but the security protocol {self.protocol} has no SASL")
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("a client certificate needs its key, and a key its certificate")
        if not self.protocol.endswith("SSL") and (self.ca_file or self.cert_file):
            raise ValueError(f"TLS files are set but the security protocol {self.protocol} has no TLS")

    @property
    def tls(self) -> bool:
        return self.protocol in ("SSL", "SASL_SSL")

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for aiokafka's producer, consumer and admin clients."""
        if self.protocol == "PLAINTEXT":
            return {}
        options: dict[str, Any] = {"security_protocol": self.protocol}
        if self.tls:
            from aiokafka.helpers import create_ssl_context

            context = create_ssl_context(cafile=self.ca_file, certfile=self.cert_file, keyfile=self.key_file)
            context.check_hostname = self.check_hostname
            options["ssl_context"] = context
        if self.sasl_mechanism is not None:
            assert self.password is not None
            options |= {
                "sasl_mechanism": self.sasl_mechanism,
                "sasl_plain_username": self.username,
                "sasl_plain_password": self.password.get_secret_value(),
            }
        return options

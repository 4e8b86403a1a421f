"""Schemathesis against each service's own OpenAPI document, on real uvicorn servers, past authentication.

Every operation of the four services gets generated requests: protected routes carry a real token
(sampled among an unlimited admin, a moderator, an auditor and a moderator limited to one
community) and webhook bodies are signed the way each platform signs them, so the fuzzing reaches
the handlers rather than stopping at 401. Each response must not be a 5xx and must match what the
document says: its status code is declared, and its body and content type match the declaration.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation import GenerationMode

from tests.conftest import Tokens
from tests.ingest import signing
from tests.ingest.servers import serve
from tests.services.apps import SERVICES, build

SIGNERS = {
    "meta": signing.meta,
    "slack": signing.slack,
    "twitch": signing.twitch,
    "telegram": signing.telegram,
    "discord": signing.discord,
    "mastodon": signing.mastodon,
    "generic": signing.generic,
}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Small on purpose: the whole file stays within about a minute on two shared cores.
EXAMPLES = 20
# Responses a check may skip, by (method, path): none left; kept for the next honest exception.
KNOWN_GAPS: dict[tuple[str, str], list[Any]] = {}


@pytest.fixture(scope="module")
def tokens(tmp_path_factory: pytest.TempPathFactory) -> Tokens:
    return Tokens(tmp_path_factory.mktemp("fuzz-tokens") / "tokens.json")


@pytest.fixture(scope="module", params=SERVICES)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, tokens: Tokens
) -> Iterator[tuple[str, str]]:
    name = str(request.param)
    folder: Path = tmp_path_factory.mktemp(f"fuzz-{name}")
    with serve(build(name, folder, tokens)) as base:
        yield name, base


def _platform(case: Any) -> str | None:
    path: str = case.path
    if not path.startswith("/webhooks/"):
        return None
    name = str((case.path_parameters or {}).get("platform", path.removeprefix("/webhooks/")))
    return name if name in SIGNERS else None


def request_for(case: Any, base: str, token: str | None) -> dict[str, Any]:
    """The request schemathesis would send, with a token or a platform signature added."""
    kwargs: dict[str, Any] = case.as_transport_kwargs(base_url=base)
    headers = {str(k): str(v) for k, v in (kwargs.pop("headers", None) or {}).items()}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    platform = _platform(case)
    if "json" in kwargs:
        # Serialised here so that a signature covers exactly the bytes sent.
        kwargs["content"] = json.dumps(kwargs.pop("json")).encode()
        headers.setdefault("Content-Type", "application/json")
    if platform is not None and case.method.upper() == "POST":
        body = kwargs.pop("content", None) or kwargs.pop("data", None) or b""
        body = body if isinstance(body, bytes) else str(body).encode()
        signed_body, signed_headers = SIGNERS[platform](body)
        kwargs["content"] = signed_body
        headers.update(signed_headers)
    if "data" in kwargs:
        data = kwargs.pop("data")
        kwargs["content"] = data if isinstance(data, bytes) else str(data).encode()
    kwargs["headers"] = headers
    kwargs.pop("cookies", None)
    return kwargs


@pytest.mark.slow
def test_no_generated_request_breaks_a_service_or_its_schema(served: tuple[str, str], tokens: Tokens) -> None:
    name, base = served
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, name
    choices = [tokens.admin, tokens.moderator, tokens.moderator_elsewhere, tokens.auditor]
    failures: list[str] = []
    with httpx.Client(timeout=30) as client:
        for operation in operations:
            # Valid and invalid requests alike: both must get a documented, non-5xx answer.
            cases = st.one_of(
                operation.as_strategy(GenerationMode.POSITIVE),
                operation.as_strategy(GenerationMode.NEGATIVE),
            )

            @given(case=cases, token=st.sampled_from(choices))
            @settings(
                max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None
            )
            def conforms(case: Any, token: str) -> None:
                kwargs = request_for(case, base, token)
                response = client.request(**kwargs)
                excluded = KNOWN_GAPS.get((case.method.upper(), case.path), [])
                case.validate_response(response, checks=[c for c in CHECKS if c not in excluded])

            # Every operation is tried even when one fails, so a run lists everything to fix.
            try:
                conforms()
            except (Exception, BaseExceptionGroup) as error:  # schemathesis raises a group
                failures.append(f"{operation.method.upper()} {operation.path}: {error}")
    assert not failures, "\n\n".join(failures)

"""Schemathesis against ingest's own OpenAPI, on a real uvicorn server: no input makes it fail (5xx)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from vigie_ingest.app import create_app

from tests.ingest import signing
from tests.ingest.conftest import make_settings
from tests.ingest.servers import serve
from tests.platforms.inbound.test_properties import json_objects


@pytest.fixture(scope="module")
def ingest_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # Every platform configured and the bus up: a 503 would then be a real fault, not a setting.
    app = create_app(make_settings(tmp_path_factory.mktemp("fuzz")))
    with serve(app) as base:
        yield base


@pytest.fixture(scope="module")
def ingest_schema(ingest_url: str) -> Any:
    return schemathesis.openapi.from_url(f"{ingest_url}/openapi.json")


@pytest.mark.slow
def test_no_input_is_a_server_error(ingest_schema: Any) -> None:
    # Driven by hand rather than with schemathesis' pytest plugin, whose fixture loader does not
    # yet work under pytest 9. Every operation gets its own Hypothesis run.
    operations = [result.ok() for result in ingest_schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/webhooks/meta", "/webhooks/generic", "/webhooks/{platform}"}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def no_server_error(case: Any) -> None:
            case.call_and_validate(checks=[not_a_server_error])

        no_server_error()


SIGNERS = {
    "meta": signing.meta,
    "slack": signing.slack,
    "twitch": signing.twitch,
    "telegram": signing.telegram,
    "discord": signing.discord,
    "mastodon": signing.mastodon,
    "generic": signing.generic,
}


@pytest.mark.slow
@given(payload=json_objects, platform=st.sampled_from(sorted(SIGNERS)))
@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
def test_signed_garbage_is_never_a_server_error(ingest_url: str, payload: Any, platform: str) -> None:
    # Past the signature check, where the schema-driven run above cannot reach.
    body, headers = SIGNERS[platform](payload)
    response = httpx.post(f"{ingest_url}/webhooks/{platform}", content=body, headers=headers, timeout=30)
    assert response.status_code in (200, 204, 400), (response.status_code, response.text)

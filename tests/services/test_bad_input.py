"""Input anyone can send gets a clear 4xx from every service, never a 500, and never an echo of itself."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from tests.conftest import Tokens
from tests.ingest.servers import serve
from tests.services.apps import SERVICES, Running, build, running

# One JSON route per service, with a body the route accepts the shape of.
JSON_ROUTES = {
    "ingest": ("/webhooks/generic", {"community": "c", "thread_id": "t", "comment_id": "1", "text": "hi"}),
    "moderator": ("/v1/score", {"texts": ["hello"], "community": "c"}),
    "responder": ("/v1/drafts/some-draft/reject", {"reason": "no"}),
    "audit": ("/v1/audit/events", None),
}


@pytest.fixture(params=SERVICES)
async def service(
    request: pytest.FixtureRequest, tmp_path: Path, tokens: Tokens
) -> AsyncIterator[tuple[str, Running]]:
    name = str(request.param)
    async with running(build(name, tmp_path, tokens)) as svc:
        yield name, svc


@pytest.mark.parametrize("raw", [b"\xff\xfe\xfd", "é-caf".encode(), b"a" * 65, b"bad id"])
async def test_a_strange_correlation_id_is_replaced_not_a_500(
    service: tuple[str, Running], raw: bytes
) -> None:
    name, svc = service
    with capture_logs() as logs:
        for path in ("/healthz", "/metrics", "/readyz", "/openapi.json"):
            response = await svc.client.get(path, headers={"X-Correlation-Id": raw})
            assert response.status_code < 500 or path == "/readyz", (name, path, response.status_code)
            replaced = response.headers["x-correlation-id"]
            assert replaced != raw.decode("latin-1")
            assert replaced.isascii()
    assert any(entry.get("correlation_id_replaced") for entry in logs) or all(
        entry.get("route") in ("/healthz", "/metrics", "/readyz") for entry in logs
    )
    # The caller's own id comes back unchanged when it is a plain token.
    ok = await svc.client.get("/healthz", headers={"X-Correlation-Id": "req-42.a:b"})
    assert ok.headers["x-correlation-id"] == "req-42.a:b"


async def test_a_twelve_mib_body_is_a_413_on_every_json_route(
    service: tuple[str, Running], tokens: Tokens
) -> None:
    name, svc = service
    path, _ = JSON_ROUTES[name]
    body = b'{"texts": ["' + b"a" * (12 * 1024 * 1024) + b'"]}'
    method = "GET" if JSON_ROUTES[name][1] is None else "POST"
    response = await svc.client.request(
        method,
        path,
        content=body,
        headers={"content-type": "application/json", **Tokens.header(tokens.admin)},
    )
    assert response.status_code == 413, (name, response.status_code, response.text[:200])


LONE_SURROGATE = b'"\\ud800 secret text \\udfff"'


async def test_a_lone_surrogate_gets_a_422_that_does_not_echo_the_input(
    tmp_path: Path, tokens: Tokens
) -> None:
    async with running(build("moderator", tmp_path, tokens)) as svc:
        body = b'{"texts": [' + LONE_SURROGATE + b'], "community": "c"}'
        response = await svc.client.post(
            "/v1/score",
            content=body,
            headers={"content-type": "application/json", **Tokens.header(tokens.moderator)},
        )
        assert response.status_code == 422, response.text
        assert "secret text" not in response.text
        assert response.json()["detail"][0]["loc"] == ["body", "texts", 0]
        # A field name is not the user's text, but an unknown one must not break the answer either.
        odd_key = b'{"texts": ["x"], "community": "c", "\\ud800": 1}'
        response = await svc.client.post(
            "/v1/score",
            content=odd_key,
            headers={"content-type": "application/json", **Tokens.header(tokens.moderator)},
        )
        assert response.status_code == 422
        json.loads(response.content)


async def test_validation_errors_never_echo_the_submitted_text(tmp_path: Path, tokens: Tokens) -> None:
    async with running(build("moderator", tmp_path, tokens)) as svc:
        secret = "my phone is 0612345678 " * 500
        response = await svc.client.post(
            "/v1/score",
            json={"texts": [secret], "community": "c"},
            headers=Tokens.header(tokens.moderator),
        )
        assert response.status_code == 422
        assert "0612345678" not in response.text
        assert response.json()["detail"][0]["type"] == "string_too_long"
        bad_policy = await svc.client.put(
            "/v1/policies/c",
            json={"thresholds": {"toxicity": {"review": "my secret words"}}},
            headers=Tokens.header(tokens.admin),
        )
        assert bad_policy.status_code == 422
        assert "my secret words" not in bad_policy.text


def test_over_a_real_socket_the_same_holds(tmp_path: Path, tokens: Tokens) -> None:
    """Real uvicorn: raw header bytes and a 12 MiB body as a client would really send them."""
    import socket

    import httpx

    app = build("moderator", tmp_path, tokens)
    with serve(app) as base:
        host, port = base.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as conn:
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Correlation-Id: \xff\xfe\x80\r\n\r\n")
            head = conn.recv(4096)
        assert head.startswith(b"HTTP/1.1 200"), head[:100]
        big = b'{"texts": ["' + b"a" * (12 * 1024 * 1024) + b'"], "community": "c"}'
        response = httpx.post(
            f"{base}/v1/score",
            content=big,
            headers={"content-type": "application/json", **Tokens.header(tokens.moderator)},
            timeout=30,
        )
        assert response.status_code == 413

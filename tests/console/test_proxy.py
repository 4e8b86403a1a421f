"""The console's server: its pages, their headers, and the proxy that forwards calls with the caller's token."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from vigie_console.app import CONTENT_SECURITY_POLICY, create_app
from vigie_console.settings import ConsoleSettings

SEEN: list[httpx.Request] = []


def upstream(request: httpx.Request) -> httpx.Response:
    SEEN.append(request)
    if request.url.host == "127.0.0.1" and request.url.port == 8004:
        raise httpx.ConnectError("refused", request=request)
    if request.url.port == 8003:
        raise httpx.ReadTimeout("slow", request=request)
    return httpx.Response(
        201,
        json={"path": request.url.raw_path.decode()},
        headers={"x-correlation-id": "corr-1", "set-cookie": "a=b", "server": "upstream"},
    )


@pytest.fixture
async def console() -> AsyncIterator[httpx.AsyncClient]:
    SEEN.clear()
    app = create_app(
        ConsoleSettings(moderator_url="http://moderator.test:9002", max_body_bytes=64),  # type: ignore[arg-type]
        transport=httpx.MockTransport(upstream),
    )
    async with (
        LifespanManager(app, startup_timeout=60) as manager,
        httpx.AsyncClient(transport=httpx.ASGITransport(manager.app), base_url="http://console") as client,
    ):
        yield client


async def test_a_call_reaches_the_service_with_the_token_and_nothing_else(console: httpx.AsyncClient) -> None:
    answer = await console.post(
        "/api/moderator/v1/reviews/a%2Fb%20c/decision?limit=5&community=x%20y",
        json={"verdict": "approve"},
        headers={
            "Authorization": "Bearer vgt_x",
            "Cookie": "session=secret",
            "X-Forwarded-For": "1.2.3.4",
            "X-Correlation-Id": "corr-1",
        },
    )
    assert answer.status_code == 201
    [request] = SEEN
    assert (
        str(request.url) == "http://moderator.test:9002/v1/reviews/a%2Fb%20c/decision?limit=5&community=x%20y"
    )
    assert request.method == "POST"
    assert request.headers["authorization"] == "Bearer vgt_x"
    assert "cookie" not in request.headers
    assert "x-forwarded-for" not in request.headers
    assert request.content == b'{"verdict":"approve"}'
    assert request.headers["x-correlation-id"] == "corr-1"
    assert answer.headers["x-correlation-id"] == "corr-1"
    assert answer.headers["cache-control"] == "no-store"
    assert "set-cookie" not in answer.headers
    assert answer.headers.get("server") != "upstream"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/elsewhere/v1/reviews", 404),
        ("/api/moderator/metrics", 404),
        ("/api/moderator/v1/%2e%2e/metrics", 400),
        ("/api/moderator/v1/reviews/..%2F..%2Fmetrics", 200),  # one encoded segment, not a dot segment
    ],
)
async def test_only_the_services_v1_routes_are_reachable(
    console: httpx.AsyncClient, path: str, status: int
) -> None:
    answer = await console.get(path)
    assert answer.status_code == (201 if status == 200 else status), answer.text
    if status != 200:
        assert SEEN == []


async def test_an_unreachable_or_slow_service_is_named_in_a_gateway_error(console: httpx.AsyncClient) -> None:
    down = await console.get("/api/audit/v1/audit/events")
    assert down.status_code == 502
    assert down.json()["detail"] == "audit is unreachable"
    slow = await console.get("/api/responder/v1/drafts")
    assert slow.status_code == 504
    assert "responder" in slow.json()["detail"]
    metrics = (await console.get("/metrics")).text
    assert 'vigie_console_upstream_calls_total{outcome="unreachable",service="audit"} 1.0' in metrics
    assert 'vigie_console_upstream_calls_total{outcome="timeout",service="responder"} 1.0' in metrics


async def test_a_body_over_the_limit_is_refused_before_it_is_forwarded(console: httpx.AsyncClient) -> None:
    answer = await console.put("/api/moderator/v1/policies/c", content=b"x" * 65)
    assert answer.status_code == 413
    assert SEEN == []


async def test_the_page_and_its_assets_carry_a_strict_policy(console: httpx.AsyncClient) -> None:
    page = await console.get("/")
    assert page.status_code == 200
    assert '<script type="module" src="/static/js/app.js">' in page.text
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self';" in CONTENT_SECURITY_POLICY
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cache-control"] == "no-cache"
    script = await console.get("/static/js/app.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert script.headers["cache-control"] == "no-cache"
    assert script.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert (await console.get("/favicon.ico")).status_code == 200
    assert (await console.get("/readyz")).json()["status"] == "ready"
    # No external origin anywhere in what the browser loads: everything is served from here.
    for asset in ("/", "/static/style.css", "/static/js/app.js", "/static/js/i18n.js"):
        assert "https://" not in (await console.get(asset)).text


def test_every_interface_string_exists_in_both_languages() -> None:
    import re

    from vigie_console.app import static_dir

    source = (static_dir() / "js" / "i18n.js").read_text()
    english, french = source.split("\n  fr: {\n")
    keys = {
        lang: set(re.findall(r'^\s+"?([\w.]+)"?: "', text, re.M))
        for lang, text in (("en", english), ("fr", french))
    }
    assert keys["en"] == keys["fr"], keys["en"] ^ keys["fr"]
    used = set()
    for script in (static_dir() / "js").glob("*.js"):
        used |= set(re.findall(r'\bt\("([\w.]+)"', script.read_text()))
    used |= set(re.findall(r'data-i18n="([\w.]+)"', (static_dir() / "index.html").read_text()))
    assert used <= keys["en"], used - keys["en"]

"""The report pages in a real browser: Debian's Chromium, headless, driven by Playwright.

The audit service runs as a process, fed through the embedded bus; the browser loads each page
with an auditor's token and checks that it rendered, that its charts are there and drawn, and that
nothing went to the console. Set VIGIE_SCREENSHOTS=<dir> to keep the screenshots (docs/images).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from vigie_shared.bus import OutgoingRecord, open_bus
from vigie_shared.events.v1 import TOPICS

from tests.audit import scenario
from tests.conftest import Tokens
from tests.e2e.system import ServiceProcess, SystemConfig

CHROMIUM = Path("/usr/bin/chromium")
# Nothing on the page should reach out: no network services, no updates, no first-run work.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.slow


@pytest.fixture
def audit_process(tmp_path: Path, tokens: Tokens) -> Iterator[str]:
    if not CHROMIUM.exists():
        # A failure, not a skip: `make test` installs it through scripts/chromium.sh.
        pytest.fail("Debian's chromium is not installed: run scripts/chromium.sh", pytrace=False)
    config = SystemConfig(
        bus_url=f"sqlite:///{tmp_path}/bus.db",
        prefix=f"t{uuid.uuid4().hex[:8]}.",
        workdir=tmp_path,
        tokens_file=tokens.path,
    )
    service = ServiceProcess(config, "audit")
    service.start()
    try:
        asyncio.run(service.wait_ready())
        asyncio.run(_feed(config, f"http://127.0.0.1:{service.port}", tokens.auditor))
        yield f"http://127.0.0.1:{service.port}"
    finally:
        service.stop()


async def _feed(config: SystemConfig, base: str, token: str) -> None:
    bus = open_bus(config.bus_url, client_id="test", topic_prefix=config.prefix)
    await bus.start()
    events = scenario.events()
    await bus.publish_many(
        [OutgoingRecord(TOPICS[e.type], e.data.key(), e.body(), e.headers()) for e in events]
    )
    await bus.close()
    async with httpx.AsyncClient(base_url=base, headers=Tokens.header(token), timeout=30) as client:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            insights = (await client.get("/v1/reports/insights", params={"community": "page-1"})).json()
            bias = (await client.get("/v1/reports/bias", params={"community": "page-1"})).json()
            if (bias["volume"], bias["reviewed"], insights["comments"], insights["replied"]) == (
                500,
                100,
                500,
                125,
            ):
                return
            await asyncio.sleep(0.2)
    pytest.fail("the audit service never caught up with the events")


@pytest.mark.parametrize(
    ("path", "charts", "heading", "screenshot"),
    [
        (
            "/v1/reports/bias",
            ["flag-rates", "overturn-rates", "aucs", "shadow"],
            "Bias report",
            "bias-report.png",
        ),
        ("/v1/reports/insights", ["activity", "sentiment"], "Community insights", "insights-report.png"),
    ],
)
def test_the_report_page_renders_in_headless_chromium(
    audit_process: str,
    tokens: Tokens,
    tmp_path: Path,
    path: str,
    charts: list[str],
    heading: str,
    screenshot: str,
) -> None:
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),  # a fresh profile for every run
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            extra_http_headers=Tokens.header(tokens.auditor),
            viewport={"width": 1280, "height": 900},
        )
        try:
            page = context.new_page()
            page.on(
                "console", lambda message: problems.append(message.text) if message.type == "error" else None
            )
            page.on("pageerror", lambda error: problems.append(str(error)))
            response = page.goto(f"{audit_process}{path}?community=page-1", wait_until="load")
            assert response is not None and response.status == 200
            assert response.headers["content-type"].startswith("text/html")
            assert page.locator("h1").inner_text() == heading
            for chart in charts:
                figure = page.locator(f'figure[data-chart="{chart}"]')
                assert figure.count() == 1, chart
                svg = figure.locator("svg")
                box = svg.bounding_box()
                assert box is not None and box["width"] > 200 and box["height"] > 100, chart
                # Drawn, not just present: matplotlib's bars, markers and lines are paths.
                assert svg.locator("path").count() > 10, chart
            if path.endswith("bias"):
                first_row = page.locator("tbody tr").first
                assert "Muslim" in first_row.locator("th").inner_text()
                assert "flagged" in (first_row.get_attribute("class") or "")
            else:
                # One table of topics per language, the largest topic named by its own words.
                english = page.locator('table[data-topics="en"] tbody tr').first
                assert english.locator("th").inner_text().startswith(("great", "thanks", "video"))
            target = tmp_path / screenshot
            page.screenshot(path=str(target), full_page=True)
            assert target.stat().st_size > 10_000
            keep = os.environ.get("VIGIE_SCREENSHOTS")
            if keep:
                Path(keep).mkdir(parents=True, exist_ok=True)
                shutil.copy(target, Path(keep) / screenshot)
        finally:
            context.close()
    assert problems == []

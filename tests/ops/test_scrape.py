"""Debian's Prometheus scrapes the four running services with the repository's scrape configuration.

The services run as processes on the embedded bus, the way `make run` starts them; Prometheus gets
deploy/prometheus/prometheus.yml with only its targets (and intervals, to keep the test short)
rewritten, and loads alerts.yml beside it. Everything is asserted through Prometheus's HTTP API.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.conftest import Tokens
from tests.e2e.system import ServiceProcess, SystemConfig, free_port, signed_meta_delivery, wait_for
from tests.ops.conftest import ROOT
from tests.ops.test_dashboard import catalogue, dashboard_expressions

pytestmark = [pytest.mark.prometheus, pytest.mark.slow]

SERVICES = ("audit", "responder", "moderator", "ingest")
CONFIG = ROOT / "deploy" / "prometheus"


@pytest.fixture
def services(tmp_path: Path, tokens: Tokens) -> Iterator[dict[str, ServiceProcess]]:
    fast = {"VIGIE_METRICS_SAMPLE_SECONDS": "1"}
    config = SystemConfig(
        bus_url=f"sqlite:///{tmp_path}/bus.db",
        prefix="",
        workdir=tmp_path,
        tokens_file=tokens.path,
        extra_env=dict.fromkeys(SERVICES, fast),
    )
    running = {service: ServiceProcess(config, service) for service in SERVICES}
    try:
        for process in running.values():
            process.start()
        yield running
    finally:
        for process in running.values():
            process.stop()


def scrape_config(ports: dict[str, int]) -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load((CONFIG / "prometheus.yml").read_text())
    config["global"]["scrape_interval"] = "1s"
    config["global"]["evaluation_interval"] = "1s"
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {f"vigie-{service}" for service in SERVICES}
    for service, port in ports.items():
        [static] = jobs[f"vigie-{service}"]["static_configs"]
        static["targets"] = [f"127.0.0.1:{port}"]
    return config


@pytest.fixture
async def prometheus_api(
    prometheus: str, services: dict[str, ServiceProcess], tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    home = tmp_path / "prometheus"
    home.mkdir()
    shutil.copy(CONFIG / "alerts.yml", home / "alerts.yml")
    (home / "prometheus.yml").write_text(
        yaml.safe_dump(scrape_config({s: p.port for s, p in services.items()}))
    )
    port = free_port()
    log = (home / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [
            prometheus,
            f"--config.file={home / 'prometheus.yml'}",
            f"--storage.tsdb.path={home / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        stdout=log,
        stderr=log,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:

            async def ready() -> bool:
                assert process.poll() is None, (home / "prometheus.log").read_text()[-3000:]
                try:
                    return (await client.get("/-/ready")).status_code == 200
                except httpx.TransportError:
                    return False

            await wait_for(ready, timeout=60)
            yield client
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


async def query(api: httpx.AsyncClient, expr: str) -> list[dict[str, Any]]:
    response = await api.get("/api/v1/query", params={"query": expr})
    body = response.json()
    assert response.status_code == 200 and body["status"] == "success", (expr, body)
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


async def scalar(api: httpx.AsyncClient, expr: str) -> float:
    result = await query(api, expr)
    return float(result[0]["value"][1]) if result else 0.0


async def test_prometheus_scrapes_every_service_and_sees_a_webhook_end_to_end(
    services: dict[str, ServiceProcess], prometheus_api: httpx.AsyncClient
) -> None:
    for process in services.values():
        await process.wait_ready()
    api = prometheus_api

    async def all_up() -> list[dict[str, Any]] | None:
        result = await query(api, 'up{job=~"vigie-.+"} == 1')
        return result if len(result) == len(SERVICES) else None

    up = await wait_for(all_up, timeout=60)
    assert {r["metric"]["job"] for r in up} == {f"vigie-{s}" for s in SERVICES}

    ingest = services["ingest"]
    body, headers = signed_meta_delivery([{"post": "p7", "id": "c7", "text": "Thanks for the update!"}])
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ingest.port}") as client:
        accepted = await client.post("/webhooks/meta", content=body, headers=headers)
        assert accepted.status_code == 200, accepted.text
        forged = await client.post("/webhooks/meta", content=body + b" ", headers=headers)
        assert forged.status_code == 401

    async def moved() -> dict[str, float] | None:
        seen = {
            "accepted": await scalar(api, 'sum(vigie_ingest_webhooks_total{outcome="accepted"})'),
            "unauthenticated": await scalar(
                api, 'sum(vigie_ingest_webhooks_total{outcome="unauthenticated"})'
            ),
            "decisions": await scalar(api, "sum(vigie_moderator_decisions_total)"),
            "inferences": await scalar(api, "sum(vigie_moderator_inference_duration_seconds_count)"),
            "audited": await scalar(api, "max(vigie_audit_chain_length)"),
        }
        # At least comment.received and moderation.decided are in the audit chain.
        done = all(seen[k] >= 1 for k in ("accepted", "unauthenticated", "decisions", "inferences"))
        return seen if done and seen["audited"] >= 2 else None

    seen = await wait_for(moved, timeout=90, every=1)
    assert seen["accepted"] == 1
    assert seen["unauthenticated"] == 1
    assert seen["decisions"] == 1

    # Consumer lag is sampled per group and topic from the embedded bus, and worked off.
    async def lag_drained() -> list[dict[str, Any]] | None:
        result = await query(api, 'vigie_audit_bus_consumer_lag{topic="vigie.comments.received.v1"}')
        return result if result and all(float(r["value"][1]) == 0 for r in result) else None

    await wait_for(lag_drained, timeout=30, every=1)

    # What /metrics serves, as Prometheus stored it, is what docs/metrics.md lists.
    names = (await api.get("/api/v1/label/__name__/values")).json()["data"]
    served = {name for name in names if name.startswith("vigie_")}
    assert served, names
    undocumented = served - catalogue()
    assert not undocumented, f"served but not in docs/metrics.md: {sorted(undocumented)}"

    # The alert rules were loaded and evaluate; none fires on a healthy system.
    groups = (await api.get("/api/v1/rules")).json()["data"]["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    assert len(rules) == 8
    assert all(rule["health"] == "ok" for rule in rules), rules
    assert all(rule["state"] == "inactive" for rule in rules), [
        r["name"] for r in rules if r["state"] != "inactive"
    ]

    # Every dashboard query is valid PromQL for this Prometheus, and the domain panels have data.
    for expr in dashboard_expressions():
        await query(api, expr.replace("$__rate_interval", "1m").replace("$__range", "5m"))
    assert await query(api, "sum by (action) (vigie_moderator_decisions_total)")

"""A person's name and texts go through every service, then an erasure leaves no byte of them anywhere."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from vigie_responder.privacy import erase_subject as erase_drafts
from vigie_shared.privacy import start_erasure_consumer

from tests.conftest import Tokens
from tests.e2e.system import FACTORIES, SystemConfig, signed_meta_delivery, wait_for

pytestmark = pytest.mark.slow

HOLD_POLICY = {
    "version": "privacy-test-1",
    "thresholds": {},
    "term_rules": [{"name": "hold", "action": "review", "terms": ["holdme"]}],
}


@pytest.fixture
def config(tmp_path: Path, topic_prefix: str, tokens: Tokens) -> SystemConfig:
    # The embedded bus only: its file is one of the stores searched byte for byte.
    return SystemConfig(
        bus_url=f"sqlite:///{tmp_path}/bus.db", prefix=topic_prefix, workdir=tmp_path, tokens_file=tokens.path
    )


@asynccontextmanager
async def system(config: SystemConfig) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    clients: dict[str, httpx.AsyncClient] = {}
    async with AsyncExitStack() as stack:
        for service in ("audit", "responder", "moderator", "ingest"):
            app = FACTORIES[service](config.settings(service))
            manager = await stack.enter_async_context(LifespanManager(app, startup_timeout=60))
            if service == "responder":
                # What the responder's lifespan is to do (see vigie_responder.privacy).
                start_erasure_consumer(
                    app.state.runtime,
                    service="responder",
                    group=app.state.settings.group,
                    erase=partial(erase_drafts, app.state.engine),
                )
            clients[service] = await stack.enter_async_context(
                httpx.AsyncClient(transport=httpx.ASGITransport(manager.app), base_url=f"http://{service}")
            )
        yield clients


def stores(workdir: Path) -> dict[str, bytes]:
    """Every file the services wrote (databases, their WAL, the bus, checkpoints), read raw."""
    return {
        str(path.relative_to(workdir)): path.read_bytes() for path in workdir.rglob("*") if path.is_file()
    }


def holding(needle: str, files: dict[str, bytes]) -> list[str]:
    return sorted(name for name, data in files.items() if needle.encode() in data)


async def test_an_erased_person_leaves_no_byte_in_any_store_and_the_chain_still_verifies(
    config: SystemConfig, tokens: Tokens
) -> None:
    tag = uuid.uuid4().hex[:10]
    name = f"Quentin Zyx{tag}"
    question = f"How do I reset my password qz{tag}?"
    held = f"holdme and my secret is sz{tag}"
    bystander = f"I am someone else bz{tag}"
    admin = Tokens.header(tokens.admin)

    async with system(config) as svc:
        policy = await svc["moderator"].put("/v1/policies/page-42", json=HOLD_POLICY, headers=admin)
        assert policy.status_code == 200, policy.text
        body, headers = signed_meta_delivery(
            [
                {"post": "p1", "id": "c1", "text": question, "user": "u-erase", "name": name},
                {"post": "p1", "id": "c2", "text": held, "user": "u-erase", "name": name},
                {"post": "p1", "id": "c3", "text": bystander, "user": "u-keep", "name": "Someone Else"},
            ]
        )
        assert (await svc["ingest"].post("/webhooks/meta", content=body, headers=headers)).status_code == 200

        async def everywhere() -> bool:
            reviews = (await svc["moderator"].get("/v1/reviews", headers=admin)).json()
            drafts = (await svc["responder"].get("/v1/drafts", headers=admin)).json()
            log = await svc["audit"].get("/v1/audit/events", params={"limit": 1000}, headers=admin)
            types = [e["event_type"] for e in log.json()["events"]]
            # The reports' topic facts (embedding and words of each decided comment) are in too.
            insights = await svc["audit"].get(
                "/v1/reports/insights", params={"community": "page-42"}, headers=admin
            )
            embedded = sum(language["comments"] for language in insights.json()["topics"])
            return (
                embedded == 3
                and any(f"sz{tag}" in r["text"] for r in reviews)
                and any(f"qz{tag}" in d.get("comment_text", "") for d in drafts)
                and types.count("moderation.decided") == 3
                and "reply.drafted" in types
            )

        await wait_for(everywhere)
        before = stores(config.workdir)
        for needle in (name, f"qz{tag}", f"sz{tag}"):
            assert {"bus.db", "audit.db"} <= {n.removesuffix("-wal") for n in holding(needle, before)}, needle

        exported = await svc["audit"].get("/v1/privacy/subjects/facebook/u-erase", headers=admin)
        assert exported.status_code == 200, exported.text
        export = exported.json()
        texts = [e["body"].get("text") for e in export["events"]]
        assert question in texts and held in texts
        assert all(f"bz{tag}" not in str(e) for e in export["events"])
        assert export["pseudonym"].startswith("psn_")
        forbidden = await svc["audit"].get(
            "/v1/privacy/subjects/facebook/u-erase", headers=Tokens.header(tokens.auditor)
        )
        assert forbidden.status_code == 403

        accepted = await svc["audit"].delete("/v1/privacy/subjects/facebook/u-erase", headers=admin)
        assert accepted.status_code == 202, accepted.text
        request_id = accepted.json()["id"]

        async def done() -> dict[str, Any] | None:
            answer = await svc["audit"].get(f"/v1/privacy/requests/{request_id}", headers=admin)
            assert answer.status_code == 200, answer.text
            state: dict[str, Any] = answer.json()
            return state if state["status"] == "done" else None

        state = await wait_for(done)
        services = state["services"]
        assert set(services) == {"audit", "moderator", "responder"}
        assert services["audit"]["erased"]["audit_personal"] >= 4
        assert services["audit"]["erased"]["bus_records"] >= 4
        assert services["audit"]["erased"]["report_topics"] == 2
        assert services["moderator"]["erased"] == {"moderator_reviews": 1}
        assert services["responder"]["erased"] == {"responder_drafts": 1, "responder_jobs": 0}

        verified = (await svc["audit"].get("/v1/audit/verify", headers=admin)).json()
        assert verified["ok"], verified
        assert verified["erased"] >= 4

        access = (await svc["audit"].get("/v1/audit/access", headers=admin)).json()
        assert any(a["purpose"] == "subject access export" and a["principal"] == "admin" for a in access)

        # Searched while everything still runs, write-ahead logs included (a clean stop would
        # checkpoint and delete them, hiding what a crash or a copy of the disk would show).
        running = stores(config.workdir)
        assert any(name.endswith("-wal") for name in running)
        for needle in (name, f"qz{tag}", f"sz{tag}"):
            assert holding(needle, running) == [], needle

    after = stores(config.workdir)
    for needle in (name, f"qz{tag}", f"sz{tag}"):
        assert holding(needle, after) == [], needle
    # The bystander's comment is untouched: the erasure was about one person only.
    assert "audit.db" in holding(f"bz{tag}", after)
    assert "bus.db" in holding(f"bz{tag}", after)


@pytest.mark.kafka
async def test_an_erasure_completes_across_services_on_kafka(
    kafka_url: str, topic_prefix: str, tmp_path: Path, tokens: Tokens
) -> None:
    config = SystemConfig(bus_url=kafka_url, prefix=topic_prefix, workdir=tmp_path, tokens_file=tokens.path)
    admin = Tokens.header(tokens.admin)
    async with system(config) as svc:
        accepted = await svc["audit"].delete(
            "/v1/privacy/subjects/facebook/nobody-in-particular", headers=admin
        )
        assert accepted.status_code == 202, accepted.text
        request_id = accepted.json()["id"]

        async def done() -> dict[str, Any] | None:
            state: dict[str, Any] = (
                await svc["audit"].get(f"/v1/privacy/requests/{request_id}", headers=admin)
            ).json()
            return state if state["status"] == "done" else None

        state = await wait_for(done, timeout=120)
        # On Kafka there is no bus file to scrub: records age out with the topics' retention.
        assert state["services"]["audit"]["erased"] == {"audit_personal": 0, "report_topics": 0}
        assert state["services"]["moderator"]["erased"] == {"moderator_reviews": 0}
        assert state["services"]["responder"]["erased"] == {"responder_drafts": 0, "responder_jobs": 0}

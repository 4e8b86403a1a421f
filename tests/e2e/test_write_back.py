"""What Vigie does back on a platform, end to end: four services, a bus, and a fake Graph API on a port.

A signed comment is drafted, approved with an edit and posted once under the comment; a comment the
policy hides is hidden once; a responder killed between the platform's answer and recording it does
not post twice when it comes back.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from vigie_shared.bus import open_bus
from vigie_shared.events import Envelope
from vigie_shared.events.v1 import TOPICS, Action, Author, CommentRef, ModerationDecided, Platform

from tests.conftest import Tokens
from tests.e2e.system import (
    ServiceProcess,
    SystemConfig,
    in_process,
    serve_asgi,
    signed_meta_delivery,
    wait_for,
)
from tests.platforms.outbound.fakes import TOKENS, FakePlatforms

pytestmark = pytest.mark.slow

PAGE = "page-42"


def responder_env(fakes: FakePlatforms, origin: str, workdir: Path, **extra: str) -> dict[str, str]:
    credentials = workdir / "platform-credentials.json"
    credentials.write_text(
        json.dumps(
            [{"platform": "facebook", "community": PAGE, "credentials": {"access_token": TOKENS["facebook"]}}]
        )
    )
    return {
        **fakes.env(origin),
        "VIGIE_PLATFORM_CREDENTIALS_FILE": str(credentials),
        "VIGIE_DISPATCH_POLL_SECONDS": "0.05",
        "VIGIE_DISPATCH_RETRY_BASE_SECONDS": "0.1",
        **extra,
    }


@pytest.fixture
async def graph() -> AsyncIterator[tuple[FakePlatforms, str]]:
    fakes = FakePlatforms(hang_seconds=30.0)
    fakes.graph.owners[TOKENS["facebook"]] = PAGE
    async with serve_asgi(fakes.app()) as origin:
        yield fakes, origin


async def test_approved_words_and_a_hide_reach_the_platform_once(
    bus_url: str, topic_prefix: str, tmp_path: Path, tokens: Tokens, graph: tuple[FakePlatforms, str]
) -> None:
    fakes, origin = graph
    config = SystemConfig(
        bus_url=bus_url,
        prefix=topic_prefix,
        workdir=tmp_path,
        tokens_file=tokens.path,
        extra_env={"responder": responder_env(fakes, origin, tmp_path)},
    )
    async with in_process(config, "audit", "responder", "moderator", "ingest") as svc:
        policy = {
            "version": "write-back-1",
            "thresholds": {"toxicity": {"review": 0.99}},
            "term_rules": [{"name": "follower-spam", "action": "hide", "terms": ["cheapfollowers"]}],
        }
        put = await svc["moderator"].put(
            f"/v1/policies/{PAGE}", json=policy, headers=Tokens.header(tokens.admin)
        )
        assert put.status_code == 200, put.text

        body, headers = signed_meta_delivery(
            [
                {"post": "p1", "id": "c1", "text": "When does the shop open on Sunday?"},
                {"post": "p1", "id": "c2", "text": "get cheapfollowers at my profile"},
            ]
        )
        assert (await svc["ingest"].post("/webhooks/meta", content=body, headers=headers)).status_code == 200

        async def one_draft() -> list[dict[str, Any]]:
            listed = await svc["responder"].get("/v1/drafts", headers=Tokens.header(tokens.moderator))
            return list(listed.json())

        [draft] = await wait_for(one_draft)
        words = "We open at 10am on Sundays."
        approved = await svc["responder"].post(
            f"/v1/drafts/{draft['id']}/approve", json={"text": words}, headers=Tokens.header(tokens.moderator)
        )
        assert approved.status_code == 200, approved.text

        async def published() -> dict[str, Any] | None:
            current = await svc["responder"].get(
                f"/v1/drafts/{draft['id']}", headers=Tokens.header(tokens.moderator)
            )
            found: dict[str, Any] = current.json()
            return found if found["status"] in ("published", "failed") else None

        delivered = await wait_for(published, timeout=30)
        assert delivered["status"] == "published", delivered
        assert [(p.text, p.target) for p in fakes.graph.posted] == [(words, f"{PAGE}_p1_c1")]
        assert delivered["platform_reply_id"] == fakes.graph.posted[0].id

        async def hidden() -> list[Any]:
            return list(fakes.graph.actions)

        await wait_for(hidden, timeout=30)

        async def announced() -> list[dict[str, Any]]:
            events = await svc["audit"].get(
                "/v1/audit/events", params={"type": "platform.action"}, headers=Tokens.header(tokens.auditor)
            )
            return [e for e in events.json()["events"] if e["body"]["status"] == "done"]

        [done] = await wait_for(announced, timeout=30)
        assert done["body"]["kind"] == "hide"
        assert [(a.operation, a.target) for a in fakes.graph.actions] == [("hide", f"{PAGE}_p1_c2")]
        # The comment that was hidden never got a draft: only the question did.
        for state, count in (("pending", 0), ("published", 1)):
            listed = await svc["responder"].get(
                "/v1/drafts", params={"status": state}, headers=Tokens.header(tokens.moderator)
            )
            assert len(listed.json()) == count


async def test_a_responder_killed_after_the_platform_answered_does_not_post_twice(
    tmp_path: Path, topic_prefix: str, tokens: Tokens, graph: tuple[FakePlatforms, str]
) -> None:
    fakes, origin = graph
    bus_url = f"sqlite:///{tmp_path}/bus.db"
    env = responder_env(
        fakes,
        origin,
        tmp_path,
        VIGIE_DISPATCH_LEASE_SECONDS="3",
        VIGIE_PLATFORM_TIMEOUT_SECONDS="25",
    )
    config = SystemConfig(
        bus_url=bus_url,
        prefix=topic_prefix,
        workdir=tmp_path,
        tokens_file=tokens.path,
        extra_env={"responder": env},
    )
    ref = CommentRef(
        platform=Platform.FACEBOOK, community=PAGE, thread_id=f"{PAGE}_p7", comment_id=f"{PAGE}_p7_c7"
    )
    decision = ModerationDecided(
        comment=ref,
        author=Author(pseudonym="psn_kill"),
        text="Do you ship to Belgium?",
        language="en",
        scores={},
        action=Action.ALLOW,
        reasons=[],
        policy_version="t",
        model_versions={},
    )
    bus = open_bus(bus_url, client_id="test", topic_prefix=topic_prefix)
    await bus.start()
    envelope = Envelope.wrap(decision, source="vigie/test", correlationid=str(uuid.uuid4()))
    await bus.publish(TOPICS["moderation.decided"], decision.key(), envelope.body(), envelope.headers())
    await bus.close()

    # The fake records the reply, then holds the answer back: the responder dies waiting for it.
    fakes.graph.fail_next("timeout", 1, on="reply")
    responder = ServiceProcess(config, "responder")
    responder.start()
    try:
        await responder.wait_ready()
        import httpx

        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{responder.port}") as client:
            auth = Tokens.header(tokens.moderator)

            async def listed() -> list[dict[str, Any]]:
                return list((await client.get("/v1/drafts", headers=auth)).json())

            [draft] = await wait_for(listed)
            assert (await client.post(f"/v1/drafts/{draft['id']}/approve", headers=auth)).status_code == 200

            async def posted() -> list[Any]:
                return list(fakes.graph.posted)

            await wait_for(posted, timeout=30)
        responder.kill()

        responder.start()
        await responder.wait_ready()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{responder.port}") as client:

            async def delivered() -> dict[str, Any] | None:
                found: dict[str, Any] = (await client.get(f"/v1/drafts/{draft['id']}", headers=auth)).json()
                return found if found["status"] in ("published", "failed") else None

            final = await wait_for(delivered, timeout=60)
        assert final["status"] == "published", final
        assert [p.text for p in fakes.graph.posted] == [draft["text"]]
        assert final["platform_reply_id"] == fakes.graph.posted[0].id
        assert datetime.now(UTC) > datetime.fromisoformat(final["delivery"]["delivered_at"])
    finally:
        responder.stop()

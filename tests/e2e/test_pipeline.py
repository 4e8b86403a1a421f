"""A signed webhook in, a decision, a draft and an audit trail out: on the embedded bus and on Kafka."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog

from tests.conftest import Tokens
from tests.e2e.system import (
    META_SECRET,
    PSEUDONYM_KEY,
    ServiceProcess,
    SystemConfig,
    in_process,
    signed_meta_delivery,
    wait_for,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def config(bus_url: str, topic_prefix: str, tmp_path: Path, tokens: Tokens) -> SystemConfig:
    return SystemConfig(bus_url=bus_url, prefix=topic_prefix, workdir=tmp_path, tokens_file=tokens.path)


async def audit_events(audit: httpx.AsyncClient, token: str, **params: Any) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    after = 0
    while True:
        response = await audit.get(
            "/v1/audit/events", params={**params, "after": after, "limit": 1000}, headers=Tokens.header(token)
        )
        assert response.status_code == 200, response.text
        page = response.json()
        events += page["events"]
        if page["next_after"] is None:
            return events
        after = page["next_after"]


async def test_a_signed_comment_flows_to_a_draft_and_is_audited_in_order(
    config: SystemConfig, tokens: Tokens
) -> None:
    async with in_process(config, "audit", "responder", "moderator", "ingest") as svc:
        body, headers = signed_meta_delivery(
            [{"post": "p1", "id": "c1", "text": "How do I reset my password?"}]
        )
        accepted = await svc["ingest"].post("/webhooks/meta", content=body, headers=headers)
        assert accepted.status_code == 200, accepted.text

        async def trail() -> list[dict[str, Any]] | None:
            events = await audit_events(svc["audit"], tokens.auditor)
            return events if len(events) >= 3 else None

        events = await wait_for(trail)
        assert [e["event_type"] for e in events] == [
            "comment.received",
            "moderation.decided",
            "reply.drafted",
        ]
        assert len({e["correlation_id"] for e in events}) == 1
        assert [e["body"]["comment"]["comment_id"] for e in events] == ["page-42_p1_c1"] * 3
        # The raw platform user id never leaves ingest: only the keyed pseudonym travels.
        assert "1234567890" not in str(events)
        assert events[0]["body"]["author"]["pseudonym"].startswith("psn_")

        drafts = await svc["responder"].get("/v1/drafts", headers=Tokens.header(tokens.moderator))
        assert drafts.status_code == 200
        [draft] = drafts.json()
        approved = await svc["responder"].post(
            f"/v1/drafts/{draft['id']}/approve",
            json={"text": "Use the 'forgot password' link on the sign-in page."},
            headers=Tokens.header(tokens.moderator),
        )
        assert approved.status_code == 200, approved.text
        assert approved.json()["status"] == "edited"
        again = await svc["responder"].post(
            f"/v1/drafts/{draft['id']}/reject",
            json={"reason": "too late"},
            headers=Tokens.header(tokens.admin),
        )
        assert again.status_code == 409

        async def reviewed() -> list[dict[str, Any]]:
            return await audit_events(svc["audit"], tokens.auditor, type="reply.reviewed")

        [verdict] = await wait_for(reviewed)
        assert verdict["correlation_id"] == events[0]["correlation_id"]
        assert verdict["body"]["verdict"] == "edited"

        # No credentials were configured for the page: nothing is sent, and the failure is on record.
        async def failed() -> list[dict[str, Any]]:
            return await audit_events(svc["audit"], tokens.auditor, type="reply.failed")

        [failure] = await wait_for(failed)
        assert failure["body"]["error"] == "no_credentials"
        assert failure["correlation_id"] == events[0]["correlation_id"]

        chain = await svc["audit"].get("/v1/audit/verify", headers=Tokens.header(tokens.auditor))
        verified = chain.json()
        assert {k: verified[k] for k in ("ok", "checked", "first_bad_seq", "problem")} == {
            "ok": True,
            "checked": 5,
            "first_bad_seq": None,
            "problem": None,
        }


async def test_logs_carry_ids_but_no_text_no_user_id_and_no_secret(
    config: SystemConfig, tokens: Tokens
) -> None:
    secret_text = "Mon numéro est le 0612345678, rappelez-moi ?"
    with structlog.testing.capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        async with in_process(config, "audit", "responder", "moderator", "ingest") as svc:
            body, headers = signed_meta_delivery(
                [
                    {
                        "post": "p9",
                        "id": "c9",
                        "text": secret_text,
                        "user": "998877665544",
                        "name": "Zoé Martin",
                    }
                ]
            )
            assert (
                await svc["ingest"].post("/webhooks/meta", content=body, headers=headers)
            ).status_code == 200

            async def decided() -> list[dict[str, Any]]:
                return await audit_events(svc["audit"], tokens.auditor, type="moderation.decided")

            await wait_for(decided)
    dumped = repr(logs)
    assert logs, "nothing was logged"
    for forbidden in (
        secret_text,
        "0612345678",
        "998877665544",
        "Zoé Martin",
        META_SECRET,
        PSEUDONYM_KEY,
        tokens.auditor,
    ):
        assert forbidden not in dumped, forbidden
    decided = [entry for entry in logs if entry.get("event") == "comment_decided"]
    assert decided
    assert all(entry.get("correlation_id") for entry in decided)


async def test_a_bad_signature_publishes_nothing(config: SystemConfig, tokens: Tokens) -> None:
    async with in_process(config, "audit", "ingest") as svc:
        body, headers = signed_meta_delivery([{"post": "p1", "id": "c1", "text": "hello"}])
        forged = await svc["ingest"].post(
            "/webhooks/meta", content=body.replace(b"hello", b"hullo"), headers=headers
        )
        assert forged.status_code == 401
        good_body, good_headers = signed_meta_delivery([{"post": "p2", "id": "c2", "text": "real one"}])
        assert (
            await svc["ingest"].post("/webhooks/meta", content=good_body, headers=good_headers)
        ).status_code == 200

        async def received() -> list[dict[str, Any]]:
            return await audit_events(svc["audit"], tokens.auditor)

        events = await wait_for(received)
        assert [e["body"]["text"] for e in events] == ["real one"]


async def test_killing_the_moderator_mid_stream_loses_and_duplicates_nothing(
    config: SystemConfig, tokens: Tokens
) -> None:
    total = 40
    moderator = ServiceProcess(config, "moderator")
    moderator.start()
    try:
        async with in_process(config, "audit", "ingest") as svc:
            await moderator.wait_ready()
            for n in range(total):
                body, headers = signed_meta_delivery(
                    [{"post": f"p{n % 4}", "id": f"c{n}", "text": f"Message number {n}, is it fine?"}]
                )
                response = await svc["ingest"].post("/webhooks/meta", content=body, headers=headers)
                assert response.status_code == 200

            async def some_decided() -> bool:
                events = await audit_events(svc["audit"], tokens.auditor, type="moderation.decided")
                return len(events) >= 3

            await wait_for(some_decided)
            moderator.kill()
            moderator.start()
            await moderator.wait_ready()

            async def all_decided() -> list[dict[str, Any]] | None:
                events = await audit_events(svc["audit"], tokens.auditor)
                decided = [e for e in events if e["event_type"] == "moderation.decided"]
                return events if len(decided) >= total else None

            events = await wait_for(all_decided, timeout=120)
            counts = Counter(e["event_type"] for e in events)
            assert counts == {"comment.received": total, "moderation.decided": total}
            decided_comments = [
                e["body"]["comment"]["comment_id"] for e in events if e["event_type"] == "moderation.decided"
            ]
            assert len(set(decided_comments)) == total
            # Per thread, decisions follow the order the comments arrived in.
            for thread in range(4):
                ids = [c for c in decided_comments if c.startswith(f"page-42_p{thread}_")]
                assert ids == sorted(ids, key=lambda c: int(c.rsplit("_c", 1)[1]))
    finally:
        moderator.stop()

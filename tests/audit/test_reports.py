"""The report routes on the running audit service, fed through the bus like in production."""

from __future__ import annotations

import asyncio
import csv
import io
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import select
from vigie_audit.adapters.facts import CommentFact, DecisionFact, ReportFacts, Scope, WorkFact
from vigie_audit.app import create_app
from vigie_audit.settings import AuditSettings
from vigie_shared.auth import Role, TokenEntry, TokenFile, hash_token, write_token_file
from vigie_shared.bus import OutgoingRecord, open_bus
from vigie_shared.db import session_factory
from vigie_shared.events.v1 import TOPICS

from tests.audit import scenario
from tests.conftest import Tokens

AUDITOR_ELSEWHERE = "vgt_aud_elsewhere_0123456789"


EXPECTED = (500, 100, 500, 125, 225)  # decisions, reviewed, comments, replied, human decisions


async def caught_up(facts: ReportFacts, timeout: float = 120) -> None:
    """Topics are consumed in no set order between them: wait until every kind of fact is in."""
    scope = Scope(frozenset({"page-1"}), None, None)
    deadline = time.monotonic() + timeout
    while True:
        cells = await facts.bias_cells(scope)
        comments = await facts.comments(scope)
        seen = (
            sum(cell.count for cell in cells),
            sum(cell.count for cell in cells if cell.verdict is not None),
            len(comments),
            sum(1 for comment in comments if comment.first_reply_at is not None),
            len(await facts.work(scope)),
        )
        if seen == EXPECTED:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"facts never caught up: {seen}, expected {EXPECTED}")
        await asyncio.sleep(0.2)


@pytest.fixture
async def audit(
    tmp_path: Path, tokens: Tokens, bus_url: str, topic_prefix: str
) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    path = tokens.path  # the usual tokens, plus an auditor limited to another community
    file = TokenFile.model_validate_json(path.read_text())
    write_token_file(
        path,
        [
            *file.tokens,
            TokenEntry(
                name="auditor-elsewhere",
                sha256=hash_token(AUDITOR_ELSEWHERE),
                roles=[Role.AUDITOR],
                communities=["elsewhere"],
            ),
        ],
    )
    settings = AuditSettings(
        bus_url=bus_url,
        bus_topic_prefix=topic_prefix,
        consumer_group=f"{topic_prefix}audit",
        database_url=f"sqlite+aiosqlite:///{tmp_path}/audit.db",
        api_tokens_file=path,
        environment="test",
    )
    app = create_app(settings)
    bus = open_bus(bus_url, client_id="test", topic_prefix=topic_prefix)
    async with (
        LifespanManager(app, startup_timeout=60) as manager,
        httpx.AsyncClient(transport=httpx.ASGITransport(manager.app), base_url="http://audit") as client,
    ):
        await bus.start()
        events = scenario.events()
        await bus.publish_many(
            [OutgoingRecord(TOPICS[e.type], e.data.key(), e.body(), e.headers()) for e in events]
        )
        await bus.close()
        await caught_up(app.state.report_facts)
        yield client, app


async def test_the_unfairly_treated_group_comes_first_and_the_fair_one_is_not_flagged(
    audit: tuple[httpx.AsyncClient, Any], tokens: Tokens
) -> None:
    client, _ = audit
    response = await client.get(
        "/v1/reports/bias", params={"community": "page-1"}, headers=Tokens.header(tokens.auditor)
    )
    assert response.status_code == 200
    report = response.json()
    first = report["groups"][0]
    assert first["group"] == "religion:muslim"
    assert first["flagged"]
    metrics = {finding["metric"] for finding in first["findings"]}
    assert {"flag_rate", "overturn_rate", "subgroup_auc"} <= metrics
    assert first["flag_rate"] == pytest.approx(0.6)
    assert first["overturn_rate"] == pytest.approx(0.8)
    assert first["reference_flag_rate"] == pytest.approx(0.1)
    assert first["shadow"]["stricter_rate"] == pytest.approx(0.4)
    christian = next(g for g in report["groups"] if g["group"] == "religion:christian")
    assert christian["shown"] and not christian["flagged"]
    assert christian["flag_rate"] == pytest.approx(0.1)
    # 10 reviewed is under the minimum of 30: no overturn rate, no AUC.
    assert christian["overturn_rate"] is None and christian["subgroup_auc"] is None
    languages = {g["group"] for g in report["groups"] if g["dimension"] == "language"}
    assert languages == {"language:en", "language:fr"}
    assert report["overall_auc"]["low"] <= report["overall_auc"]["value"] <= report["overall_auc"]["high"]


async def test_reports_follow_roles_and_community_scopes(
    audit: tuple[httpx.AsyncClient, Any], tokens: Tokens
) -> None:
    client, _ = audit
    assert (await client.get("/v1/reports/bias")).status_code == 401
    assert (await client.get("/v1/reports/bias", headers=Tokens.header(tokens.moderator))).status_code == 403
    elsewhere = Tokens.header(AUDITOR_ELSEWHERE)
    for route in ("/v1/reports/bias", "/v1/reports/insights"):
        denied = await client.get(route, params={"community": "page-1"}, headers=elsewhere)
        assert denied.status_code == 403
    # Without a community, a scoped token sees only its own communities: none of these decisions.
    mine = await client.get("/v1/reports/bias", headers=elsewhere)
    assert mine.status_code == 200 and mine.json()["volume"] == 0
    window = await client.get(
        "/v1/reports/bias",
        params={"community": "page-1", "since": "2020-01-01T00:00:00Z", "until": "2020-02-01T00:00:00Z"},
        headers=Tokens.header(tokens.auditor),
    )
    assert window.json()["volume"] == 0
    backwards = await client.get(
        "/v1/reports/bias",
        params={"since": "2020-02-01T00:00:00Z", "until": "2020-01-01T00:00:00Z"},
        headers=Tokens.header(tokens.auditor),
    )
    assert backwards.status_code == 422


async def test_the_html_page_has_its_charts_and_escapes_what_it_is_given(
    audit: tuple[httpx.AsyncClient, Any], tokens: Tokens
) -> None:
    client, _ = audit
    headers = Tokens.header(tokens.auditor) | {"Accept": "text/html"}
    page = await client.get("/v1/reports/bias", params={"community": "page-1"}, headers=headers)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    html = page.text
    for chart in ("flag-rates", "overturn-rates", "aucs", "shadow"):
        assert f'data-chart="{chart}"' in html
    assert html.count("<svg") >= 4
    assert "<script" not in html
    assert html.index("Religion: Muslim") < html.index("Religion: Christian")
    hostile = await client.get(
        "/v1/reports/bias", params={"community": "<script>alert(1)</script>"}, headers=headers
    )
    assert hostile.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hostile.text
    assert "<script" not in hostile.text


async def test_insights_in_json_csv_and_html(audit: tuple[httpx.AsyncClient, Any], tokens: Tokens) -> None:
    client, _ = audit
    auth = Tokens.header(tokens.auditor)
    params = {"community": "page-1"}
    body = (await client.get("/v1/reports/insights", params=params, headers=auth)).json()
    assert body["comments"] == 500
    assert body["replied"] == 125  # every fourth comment got a reply
    assert body["response_rate"] == pytest.approx(0.25)
    assert body["median_first_response_s"] == pytest.approx(25 * 60)  # received -> published
    assert set(body["most_active_hours"]) <= {9, 12, 18, 19, 20, 21}
    assert body["action_rates"]["review"] == pytest.approx(100 / 500)
    # One topic per kind of comment in each language, named by its words, largest first.
    topics = {language["language"]: language for language in body["topics"]}
    assert set(topics) == {"en", "fr"} and not body["topics_sampled"]
    assert sum(language["comments"] for language in topics.values()) == 500
    english = topics["en"]["topics"]
    assert [topic["size"] for topic in english] == sorted((topic["size"] for topic in english), reverse=True)
    assert len(english) == 3 and english[0]["words"][0] in {"great", "video", "thanks"}
    assert {"muslims", "christians"} <= {topic["words"][0] for topic in english[1:]}
    assert {topic["words"][0] for topic in topics["fr"]["topics"]} >= {"musulmans", "chrétiens"}
    moderators = {m["moderator"]: m for m in body["moderators"]}
    assert len(moderators) == 2 and all(name.startswith("mod_") for name in moderators)
    assert "alice" not in str(body) and "bruno" not in str(body)
    assert sum(m["reviews"] for m in moderators.values()) == 100
    assert sum(m["replies"] for m in moderators.values()) == 125

    exported = await client.get("/v1/reports/insights", params=params, headers=auth | {"Accept": "text/csv"})
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert rows[0] == ["section", "key", "subkey", "value"]
    assert ["summary", "comments", "", "500"] in rows
    assert ["topic", "en:1", "size", str(english[0]["size"])] in rows
    assert ["topic", "en:1", "words", " ".join(english[0]["words"])] in rows

    page = await client.get(
        "/v1/reports/insights", params=params | {"format": "html", "tz": "Europe/Paris"}, headers=auth
    )
    assert page.status_code == 200 and 'data-chart="activity"' in page.text and "Europe/Paris" in page.text
    assert 'data-topics="fr"' in page.text and "musulmans" in page.text
    bad = await client.get("/v1/reports/insights", params={"tz": "Mars/Olympus"}, headers=auth)
    assert bad.status_code == 422
    assert (await client.get("/v1/reports/bias", params={"format": "csv"}, headers=auth)).status_code == 406


async def test_the_facts_keep_no_comment_text(audit: tuple[httpx.AsyncClient, Any]) -> None:
    _, app = audit
    sessions = session_factory(app.state.audit.engine)
    async with sessions() as session:
        for model in (DecisionFact, CommentFact, WorkFact):
            rows = (await session.execute(select(model))).scalars().all()
            assert rows
            for row in rows:
                values = [str(getattr(row, column.name)) for column in model.__table__.columns]
                assert not any(scenario.MARKER in value for value in values)
                assert not any(name in values for name in ("alice", "bruno"))

"""Mastodon admin webhooks, shapes from docs.joinmastodon.org/admin/webhooks and the Status entity."""

from __future__ import annotations

from typing import Any

from tests.ingest import signing
from tests.ingest.conftest import Running, comments, published

STATUS: dict[str, Any] = {
    "id": "113570000000000001",
    "created_at": "2026-11-29T12:00:00.000Z",
    "in_reply_to_id": None,
    "in_reply_to_account_id": None,
    "sensitive": False,
    "spoiler_text": "",
    "visibility": "public",
    "language": "fr",
    "uri": "https://mastodon.example/users/alice/statuses/113570000000000001",
    "url": "https://mastodon.example/@alice/113570000000000001",
    "content": '<p>Salut <a href="https://mastodon.example/@bob" class="u-url mention">@<span>bob</span></a> &amp; bonne journée</p><p>second</p>',
    "account": {"id": "109000000000000001", "username": "alice", "acct": "alice", "display_name": "Alice"},
}


async def test_status_created_is_plain_text_with_language(ingest: Running) -> None:
    payload = {"event": "status.created", "created_at": "2026-11-29T12:00:00.100Z", "object": STATUS}
    response = await ingest.post("/webhooks/mastodon", signing.mastodon(payload))
    assert response.json() == {"published": 1, "duplicates": 0, "ignored": 0}
    [comment] = comments(await published(ingest.settings))
    assert comment.text == "Salut @bob & bonne journée\nsecond"
    assert comment.language_hint == "fr"
    assert comment.comment.community == "mastodon.example"
    assert comment.permalink == STATUS["url"]
    assert comment.author.display_name == "Alice"


async def test_status_updated_and_replay(ingest: Running) -> None:
    updated = {"event": "status.updated", "created_at": "x", "object": {**STATUS, "content": "<p>edited</p>"}}
    for _ in range(2):
        await ingest.post("/webhooks/mastodon", signing.mastodon(updated))
    [comment] = comments(await published(ingest.settings))
    assert (comment.change.value, comment.text) == ("edited", "edited")


async def test_report_publishes_each_reported_status(ingest: Running) -> None:
    reply = {**STATUS, "id": "2", "in_reply_to_id": "113570000000000001", "content": "<p>nasty</p>"}
    report = {
        "event": "report.created",
        "created_at": "2023-10-26T13:34:00.351Z",
        "object": {
            "id": "8437",
            "action_taken": False,
            "category": "violation",
            "comment": "",
            "forwarded": True,
            "created_at": "2023-10-26T13:34:00.348Z",
            "account": {"id": "123456789", "username": "bobisaburger"},
            "target_account": {"id": "109000000000000001", "username": "alice"},
            "statuses": [STATUS, reply],
            "rules": [],
        },
    }
    response = await ingest.post("/webhooks/mastodon", signing.mastodon(report))
    assert response.json()["published"] == 2
    got = comments(await published(ingest.settings))
    assert got[1].parent_id == "113570000000000001"
    account_report = {"event": "report.created", "object": {**report["object"], "statuses": []}}
    assert (await ingest.post("/webhooks/mastodon", signing.mastodon(account_report))).json()["ignored"] == 1


async def test_account_events_ignored_and_bad_signature_refused(ingest: Running) -> None:
    created = {"event": "account.created", "created_at": "x", "object": {"id": "1", "username": "new"}}
    assert (await ingest.post("/webhooks/mastodon", signing.mastodon(created))).json()["ignored"] == 1
    forged = signing.mastodon(created, secret="nope")
    assert (await ingest.post("/webhooks/mastodon", forged)).status_code == 401
    body, headers = signing.mastodon(created)
    wrong_scheme = {**headers, "x-hub-signature": headers["x-hub-signature"].replace("sha256=", "sha1=")}
    assert (
        await ingest.client.post("/webhooks/mastodon", content=body, headers=wrong_scheme)
    ).status_code == 401

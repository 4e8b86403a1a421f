"""Meta: Facebook Page feed comments and Instagram comments, shapes from Meta's webhook reference."""

from __future__ import annotations

import time
from typing import Any

from vigie_ingest.settings import IngestSettings
from vigie_shared.privacy import pseudonymise

from tests.ingest import signing
from tests.ingest.conftest import Running, comments, published

PAGE = "1234567890"


def feed_change(
    verb: str, comment_id: str, message: str | None = "Great post!", **extra: Any
) -> dict[str, Any]:
    value: dict[str, Any] = {
        "from": {"id": "9988776655", "name": "Camille Dupont"},
        "post": {
            "status_type": "added_photos",
            "is_published": True,
            "permalink_url": "https://www.facebook.com/p/1",
        },
        "post_id": f"{PAGE}_111",
        "comment_id": comment_id,
        "created_time": 1732900000,
        "item": "comment",
        "parent_id": f"{PAGE}_111",
        "verb": verb,
        **extra,
    }
    if message is not None:
        value["message"] = message
    return {"field": "feed", "value": value}


def page_delivery(*changes: dict[str, Any]) -> dict[str, Any]:
    return {"object": "page", "entry": [{"id": PAGE, "time": int(time.time()), "changes": list(changes)}]}


def instagram_delivery(field: str = "comments") -> dict[str, Any]:
    return {
        "object": "instagram",
        "entry": [
            {
                "id": "17841405822304914",
                "time": 1732900100,
                "changes": [
                    {
                        "field": field,
                        "value": {
                            "from": {"id": "232323232", "username": "camille.d"},
                            "media": {"id": "123123123", "media_product_type": "FEED"},
                            "id": "17865799348089039",
                            "parent_id": "1231231234",
                            "text": "Trop beau ! 😍",
                        },
                    }
                ],
            }
        ],
    }


async def test_handshake_echoes_the_challenge(ingest: Running) -> None:
    ok = await ingest.client.get(
        "/webhooks/meta",
        params={
            "hub.mode": "subscribe",
            "hub.verify_token": signing.META_VERIFY_TOKEN,
            "hub.challenge": "1158201444",
        },
    )
    assert ok.status_code == 200
    assert ok.text == "1158201444"
    wrong = await ingest.client.get(
        "/webhooks/meta",
        params={"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"},
    )
    assert wrong.status_code == 403


async def test_feed_comment_is_published_once_with_a_pseudonym(ingest: Running) -> None:
    response = await ingest.post(
        "/webhooks/meta", signing.meta(page_delivery(feed_change("add", f"{PAGE}_111_1")))
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"published": 1, "duplicates": 0, "ignored": 0}
    [envelope] = await published(ingest.settings)
    comment = envelope.data
    assert envelope.type == "comment.received"
    assert comment.comment.key() == f"facebook:{PAGE}:{PAGE}_111"
    assert comment.parent_id is None  # the post is not a parent comment
    assert comment.text == "Great post!"
    assert comment.author.display_name == "Camille Dupont"
    assert comment.author.pseudonym == pseudonymise(signing.PSEUDONYM_KEY.encode(), "facebook", "9988776655")
    assert "9988776655" not in envelope.body().decode()
    assert comment.permalink == "https://www.facebook.com/p/1"


async def test_batched_delivery_becomes_one_event_per_change(ingest: Running) -> None:
    delivery = page_delivery(
        feed_change("add", f"{PAGE}_111_1", "first"),
        feed_change("add", f"{PAGE}_111_2", "reply", parent_id=f"{PAGE}_111_1"),
        {"field": "feed", "value": {"item": "reaction", "verb": "add", "post_id": f"{PAGE}_111"}},
    )
    delivery["entry"].append(
        {"id": PAGE, "time": 1, "changes": [feed_change("add", f"{PAGE}_111_3", "third")]}
    )
    response = await ingest.post("/webhooks/meta", signing.meta(delivery))
    assert response.json() == {"published": 3, "duplicates": 0, "ignored": 1}
    got = comments(await published(ingest.settings))
    assert [c.comment.comment_id for c in got] == [f"{PAGE}_111_1", f"{PAGE}_111_2", f"{PAGE}_111_3"]
    assert got[1].parent_id == f"{PAGE}_111_1"


async def test_edited_and_removed_comments(ingest: Running) -> None:
    cid = f"{PAGE}_111_9"
    for verb, text in (("add", "v1"), ("edited", "v2"), ("remove", None)):
        response = await ingest.post(
            "/webhooks/meta", signing.meta(page_delivery(feed_change(verb, cid, text)))
        )
        assert response.json()["published"] == 1
    got = comments(await published(ingest.settings))
    assert [(c.change.value, c.text) for c in got] == [("created", "v1"), ("edited", "v2"), ("deleted", "")]
    # One comment, one correlation id, every version a distinct event.
    envelopes = await published(ingest.settings)
    assert len({e.correlationid for e in envelopes}) == 1
    assert len({e.id for e in envelopes}) == 3


async def test_hide_is_acknowledged_not_published(ingest: Running) -> None:
    response = await ingest.post(
        "/webhooks/meta", signing.meta(page_delivery(feed_change("hide", f"{PAGE}_1_1")))
    )
    assert response.json() == {"published": 0, "duplicates": 0, "ignored": 1}
    assert ingest.metric("vigie_ingest_webhooks_ignored_total", platform="meta") == 1
    assert await published(ingest.settings) == []


async def test_replayed_delivery_is_not_published_twice(ingest: Running) -> None:
    signed = signing.meta(page_delivery(feed_change("add", f"{PAGE}_111_1")))
    first = await ingest.post("/webhooks/meta", signed)
    again = await ingest.post("/webhooks/meta", signed)
    assert first.json()["published"] == 1
    assert again.status_code == 200
    assert again.json() == {"published": 0, "duplicates": 1, "ignored": 0}
    assert len(await published(ingest.settings)) == 1
    assert ingest.metric("vigie_ingest_comments_duplicate_total", platform="meta") == 1


async def test_instagram_comments_and_live_comments(ingest: Running) -> None:
    for field in ("comments", "live_comments"):
        response = await ingest.post("/webhooks/meta", signing.meta(instagram_delivery(field)))
        assert response.status_code == 200
    got = comments(await published(ingest.settings))
    # Same comment id and text from both fields: one event (the second is a re-delivery).
    assert len(got) == 1
    comment = got[0]
    assert comment.comment.platform.value == "instagram"
    assert comment.comment.thread_id == "123123123"
    assert comment.parent_id == "1231231234"
    assert comment.text == "Trop beau ! 😍"
    assert comment.author.display_name == "camille.d"


async def test_previous_secret_still_valid_during_rotation(ingest: Running) -> None:
    signed = signing.meta(page_delivery(feed_change("add", f"{PAGE}_1_5")), secret=signing.META_OLD_SECRET)
    assert (await ingest.post("/webhooks/meta", signed)).status_code == 200


async def test_tampered_body_is_refused_and_counted(ingest: Running) -> None:
    body, headers = signing.meta(page_delivery(feed_change("add", f"{PAGE}_1_1", "hello")))
    response = await ingest.client.post(
        "/webhooks/meta", content=body.replace(b"hello", b"hullo"), headers=headers
    )
    assert response.status_code == 401
    assert response.json() == {"detail": "bad signature"}
    missing = await ingest.client.post(
        "/webhooks/meta", content=body, headers={"content-type": "application/json"}
    )
    assert missing.status_code == 401
    assert missing.json() == {"detail": "missing signature"}
    assert ingest.metric("vigie_ingest_webhooks_rejected_total", platform="meta", reason="bad signature") == 1
    assert (
        ingest.metric("vigie_ingest_webhooks_rejected_total", platform="meta", reason="missing signature")
        == 1
    )
    assert await published(ingest.settings) == []


async def test_signed_but_undocumented_shape_is_a_400(ingest: Running) -> None:
    delivery = page_delivery({"field": "feed", "value": {"item": "comment", "verb": "add"}})  # no ids
    response = await ingest.post("/webhooks/meta", signing.meta(delivery))
    assert response.status_code == 400
    assert await published(ingest.settings) == []


async def test_unconfigured_meta_is_404(tmp_path: Any, start: Any) -> None:
    from tests.ingest.conftest import make_settings

    settings: IngestSettings = make_settings(tmp_path, meta_app_secret=None)
    async with start(settings) as ingest:
        response = await ingest.post("/webhooks/meta", signing.meta(page_delivery()))
        assert response.status_code == 404
        assert "VIGIE_META_APP_SECRET" in response.json()["detail"]

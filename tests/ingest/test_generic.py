"""The generic signed-JSON endpoint of CONTRACT.md: X-Vigie-Timestamp + body, HMAC-SHA256."""

from __future__ import annotations

import time
from typing import Any

from tests.ingest import signing
from tests.ingest.conftest import Running, comments, published


def delivery(**extra: Any) -> dict[str, Any]:
    return {
        "id": "forum-delivery-1",
        "comments": [
            {
                "community": "forum.example",
                "thread_id": "topic-7",
                "comment_id": "post-99",
                "author": {"id": "user-5", "display_name": "Jo"},
                "text": "Cafe\u0301 au lait",  # decomposed: must come out NFC
                "language": "fr",
                "created_at": "2026-11-29T12:00:00Z",
                "permalink": "https://forum.example/t/7#99",
            }
        ],
        **extra,
    }


def test_signature_vector() -> None:
    # A fixed vector (computed with openssl-equivalent HMAC) that other senders can check against.
    from vigie_platforms.generic import inbound as generic

    body = b'{"comments":[]}'
    expected = "cec41a1d2d35230187980c9115886583900a72c6c169926485a4e94894df4ab4"
    assert signing.hex_hmac("s3cret", b"1732900000" + body) == expected
    generic.verify((b"s3cret",), body, f"sha256={expected}", "1732900000", now=1732900010, max_skew=300)


async def test_signed_delivery_published_and_retry_recognised(ingest: Running) -> None:
    assert (await ingest.post("/webhooks/generic", signing.generic(delivery()))).json()["published"] == 1
    again = await ingest.post("/webhooks/generic", signing.generic(delivery()))
    assert again.json() == {"published": 0, "duplicates": 1, "ignored": 0}
    [comment] = comments(await published(ingest.settings))
    assert comment.text == "Café au lait"
    assert comment.comment.platform.value == "generic"
    assert comment.delivery_id == "forum-delivery-1"
    assert "user-5" not in comment.model_dump_json()


async def test_stale_or_forged_or_unschematic(ingest: Running) -> None:
    stale = await ingest.post("/webhooks/generic", signing.generic(delivery(), at=time.time() - 400))
    assert (stale.status_code, stale.json()["detail"]) == (401, "stale timestamp")
    future = await ingest.post("/webhooks/generic", signing.generic(delivery(), at=time.time() + 400))
    assert future.status_code == 401
    forged = await ingest.post("/webhooks/generic", signing.generic(delivery(), secret="guess"))
    assert forged.status_code == 401
    bad = await ingest.post("/webhooks/generic", signing.generic({"comments": [{"text": "no ids"}]}))
    assert (bad.status_code, bad.json()["detail"]) == (400, "body does not match GenericDelivery")
    assert await published(ingest.settings) == []

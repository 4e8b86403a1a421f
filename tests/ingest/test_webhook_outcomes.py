"""vigie_ingest_webhooks counts every delivery once, by platform and a bounded outcome."""

from __future__ import annotations

from tests.ingest import signing
from tests.ingest.conftest import Running
from tests.ingest.test_meta import PAGE, feed_change, page_delivery


def outcomes(ingest: Running) -> dict[str, float]:
    found = {}
    for outcome in ("accepted", "unauthenticated", "malformed", "unsupported_media", "too_large"):
        value = ingest.metric("vigie_ingest_webhooks_total", platform="meta", outcome=outcome)
        if value:
            found[outcome] = value
    return found


async def test_each_delivery_counts_once_under_its_outcome(ingest: Running) -> None:
    good = signing.meta(page_delivery(feed_change("add", f"{PAGE}_9_1")))
    assert (await ingest.post("/webhooks/meta", good)).status_code == 200
    # A redelivery is still an accepted delivery (its comment is counted as a duplicate).
    assert (await ingest.post("/webhooks/meta", good)).status_code == 200

    body, headers = good
    forged = await ingest.client.post("/webhooks/meta", content=body + b" ", headers=headers)
    assert forged.status_code == 401
    wrong_type = await ingest.client.post(
        "/webhooks/meta", content=body, headers={**headers, "content-type": "text/plain"}
    )
    assert wrong_type.status_code == 415
    malformed = await ingest.post("/webhooks/meta", signing.meta({"object": "page", "entry": "no"}))
    assert malformed.status_code == 400

    assert outcomes(ingest) == {"accepted": 2, "unauthenticated": 1, "unsupported_media": 1, "malformed": 1}

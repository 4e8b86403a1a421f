"""Ingest's own metrics, on the service's injected registry. Labels: platform and fixed reasons only."""

from __future__ import annotations

from prometheus_client import Counter
from vigie_shared.metrics import ServiceMetrics

# A refusal's HTTP status, as the outcome label of vigie_ingest_webhooks (a bounded set).
REFUSAL_OUTCOMES = {
    400: "malformed",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_configured",
    413: "too_large",
    415: "unsupported_media",
    503: "unavailable",
}


class IngestMetrics:
    def __init__(self, base: ServiceMetrics) -> None:
        r = base.registry
        self.webhooks = Counter(
            "vigie_ingest_webhooks",
            "Webhook deliveries by platform and outcome (accepted, handshake, revoked or a refusal)",
            ["platform", "outcome"],
            registry=r,
        )
        self.accepted = Counter(
            "vigie_ingest_comments_accepted", "Comments published", ["platform"], registry=r
        )
        self.rejected = Counter(
            "vigie_ingest_webhooks_rejected", "Deliveries refused", ["platform", "reason"], registry=r
        )
        self.ignored = Counter(
            "vigie_ingest_webhooks_ignored",
            "Verified deliveries (or parts of them) that held no comment",
            ["platform"],
            registry=r,
        )
        self.duplicates = Counter(
            "vigie_ingest_comments_duplicate",
            "Comments recognised as re-deliveries and not published again",
            ["platform"],
            registry=r,
        )
        self.handshakes = Counter(
            "vigie_ingest_handshakes", "Subscription handshakes answered", ["platform"], registry=r
        )
        self.revocations = Counter(
            "vigie_ingest_subscription_revocations",
            "Subscriptions the platform revoked (Twitch EventSub), by documented status",
            ["platform", "status"],
            registry=r,
        )
        self.state_errors = Counter(
            "vigie_ingest_state_store_errors",
            "Idempotency store failures (deliveries still published: at-least-once)",
            ["operation"],
            registry=r,
        )
        self.youtube_polls = Counter(
            "vigie_ingest_youtube_polls", "YouTube channel polls by outcome", ["outcome"], registry=r
        )
        self.youtube_quota_units = Counter(
            "vigie_ingest_youtube_quota_units", "YouTube Data API quota units spent", registry=r
        )

    def refused(self, platform: str, code: int) -> None:
        self.webhooks.labels(platform=platform, outcome=REFUSAL_OUTCOMES.get(code, "refused")).inc()

"""Ingest's own metrics, on the service's injected registry. Labels: platform and fixed reasons only."""

from __future__ import annotations

from prometheus_client import Counter
from vigie_shared.metrics import ServiceMetrics


class IngestMetrics:
    def __init__(self, base: ServiceMetrics) -> None:
        r = base.registry
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

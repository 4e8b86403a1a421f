"""The moderator's own metrics. Labels come from closed sets: actions, model categories, languages."""

from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import func, select
from vigie_shared.metrics import ServiceMetrics
from vigie_shared.sampling import Probe

from vigie_moderator.adapters.store import ReviewRow, ReviewStore
from vigie_moderator.domain.scores import CATEGORIES, LANGUAGES

# Up to the largest batch the consumer hands over (VIGIE_BATCH_MAX_RECORDS tops out in the hundreds).
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
INFERENCE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class ModeratorMetrics:
    def __init__(self, base: ServiceMetrics) -> None:
        r = base.registry
        self.decisions = Counter(
            "vigie_moderator_decisions",
            "Live decisions by action, triggering category (a community rule counts as `rule`,"
            " nothing as `none`) and detected language",
            ["action", "category", "language"],
            registry=r,
        )
        self.inference = Histogram(
            "vigie_moderator_inference_duration_seconds",
            "Time to score one batch with the models",
            registry=r,
            buckets=INFERENCE_BUCKETS,
        )
        self.batch_size = Histogram(
            "vigie_moderator_inference_batch_size",
            "Comments scored together in one batch",
            registry=r,
            buckets=BATCH_BUCKETS,
        )
        self.explanations = Counter(
            "vigie_moderator_explanations",
            "Comments the live policy acted on, by whether their words were explained or skipped"
            " because the consumer was behind and the explanation budget spent",
            ["outcome"],
            registry=r,
        )
        self.review_pending = Gauge(
            "vigie_moderator_review_queue_pending",
            "Comments waiting for a human decision (sampled)",
            registry=r,
        )
        self.review_oldest_age = Gauge(
            "vigie_moderator_review_queue_oldest_age_seconds",
            "Age of the oldest comment waiting for review (sampled; 0 when the queue is empty)",
            registry=r,
        )

    def decided(self, action: str, categories: list[str], language: str) -> None:
        # Categories also hold community rule names, which are free text: folded into `rule`.
        labels = {c if c in CATEGORIES else "rule" for c in categories} or {"none"}
        lang = language if language in LANGUAGES else "other"
        for category in sorted(labels):
            self.decisions.labels(action=action, category=category, language=lang).inc()

    def queue_probe(self, reviews: ReviewStore) -> Probe:
        async def probe() -> None:
            async with reviews.sessions() as session:
                pending, oldest = (
                    await session.execute(
                        select(func.count(), func.min(ReviewRow.created_at)).where(
                            ReviewRow.status == "pending"
                        )
                    )
                ).one()
            self.review_pending.set(pending)
            age = 0.0
            if oldest is not None:
                if oldest.tzinfo is None:
                    oldest = oldest.replace(tzinfo=UTC)
                age = max(0.0, (datetime.now(UTC) - oldest).total_seconds())
            self.review_oldest_age.set(age)

        return probe

"""Prometheus metrics on an injected registry; names carry the service, labels stay low-cardinality."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

__all__ = ["CONTENT_TYPE_LATEST", "ServiceMetrics", "generate_latest"]


class ServiceMetrics:
    def __init__(self, service: str, registry: CollectorRegistry | None = None) -> None:
        self.service = service
        self.registry = registry if registry is not None else CollectorRegistry()
        p = f"vigie_{service}"
        r = self.registry
        self.http_requests = Counter(
            f"{p}_http_requests", "HTTP requests served", ["method", "route", "status"], registry=r
        )
        self.http_latency = Histogram(
            f"{p}_http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=r,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.consumed = Counter(
            f"{p}_bus_consumed", "Records handled by outcome", ["topic", "outcome"], registry=r
        )
        self.handle_latency = Histogram(
            f"{p}_bus_handle_duration_seconds", "Time to handle one batch", ["group"], registry=r
        )
        self.published = Counter(f"{p}_bus_published", "Records published", ["topic"], registry=r)
        self.deadlettered = Counter(
            f"{p}_bus_deadlettered", "Records sent to the dead-letter topic", ["topic"], registry=r
        )
        self.consumer_up = Gauge(
            f"{p}_bus_consumer_running", "1 while the consumer loop runs", ["group"], registry=r
        )
        self.consumer_paused = Gauge(
            f"{p}_bus_consumer_paused",
            "1 while the consumer waits for a dependency, holding its position",
            ["group"],
            registry=r,
        )
        self.consumer_paused_seconds = Counter(
            f"{p}_bus_consumer_paused_seconds",
            "Time spent waiting for a dependency",
            ["group"],
            registry=r,
        )
        self.dependency_failures = Counter(
            f"{p}_bus_dependency_failures",
            "Attempts that failed because a dependency was unavailable",
            ["group", "dependency"],
            registry=r,
        )
        self.consumer_restarts = Counter(
            f"{p}_bus_consumer_restarts", "Consumer loop restarts after an error", ["group"], registry=r
        )
        self.commit_failures = Counter(
            f"{p}_bus_commit_failures",
            "Offset commits that did not go through, by reason",
            ["group", "reason"],
            registry=r,
        )
        self.consumer_lag = Gauge(
            f"{p}_bus_consumer_lag",
            "Records a group has not committed yet, per topic and partition (sampled)",
            ["group", "topic", "partition"],
            registry=r,
        )
        # Set by each /readyz answer; the kubelet's and compose's probes keep it current.
        self.ready = Gauge(
            f"{p}_ready", "1 if the check passed at the last /readyz, 0 if it failed", ["check"], registry=r
        )
        self.sample_failures = Counter(
            f"{p}_metrics_sample_failures",
            "Sampled gauges that could not be refreshed, by probe (their last values stand)",
            ["probe"],
            registry=r,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)

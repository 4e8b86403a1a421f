"""docs/metrics.md is what the services' registries hold, and the domain metrics move with the work."""

from __future__ import annotations

import pytest

from tests.ops.conftest import ROOT, load_script

pytestmark = pytest.mark.slow


async def test_docs_metrics_md_matches_the_registries() -> None:
    doc = load_script("metrics_doc")
    generated = doc.render(await doc.collect())
    committed = (ROOT / "docs" / "metrics.md").read_text()
    assert committed == generated, "docs/metrics.md is stale: run `uv run python scripts/metrics_doc.py`"


async def test_the_catalogue_lists_the_issue_metrics_with_their_labels() -> None:
    doc = load_script("metrics_doc")
    by_name = {d.name: d for d in await doc.collect()}
    expected = {
        "vigie_ingest_webhooks": ("platform", "outcome"),
        "vigie_moderator_decisions": ("action", "category", "language"),
        "vigie_moderator_inference_duration_seconds": (),
        "vigie_moderator_inference_batch_size": (),
        "vigie_moderator_review_queue_pending": (),
        "vigie_moderator_review_queue_oldest_age_seconds": (),
        "vigie_responder_drafts": ("status",),
        "vigie_responder_platform_calls": ("platform", "operation", "outcome"),
        "vigie_responder_outbox_pending": (),
        "vigie_moderator_outbox_oldest_age_seconds": (),
        "vigie_audit_bus_deadlettered": ("topic",),
        "vigie_audit_chain_length": (),
        "vigie_audit_chain_verify_ok": (),
        "vigie_audit_bus_consumer_lag": ("group", "topic", "partition"),
        "vigie_audit_ready": ("check",),
    }
    for name, labels in expected.items():
        assert name in by_name, name
        assert by_name[name].labels == labels, name

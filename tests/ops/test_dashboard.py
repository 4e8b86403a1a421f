"""The Grafana dashboard only queries metrics the services serve (as listed in docs/metrics.md)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from tests.ops.conftest import ROOT, load_script

DASHBOARD = ROOT / "deploy" / "grafana" / "vigie.json"
KEYWORDS = {
    "and",
    "or",
    "unless",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "offset",
}
# Label lists after these words name labels, not metrics.
LABEL_LISTS = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")


def catalogue() -> set[str]:
    names: set[str] = load_script("metrics_doc").catalogue()
    return names


def metric_names(expr: str) -> set[str]:
    """Metric names a PromQL expression selects by name (`__name__` matchers are checked apart)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", "{}", text)
    text = re.sub(r"\[[^\]]*\]", "[]", text)
    text = LABEL_LISTS.sub(" ", text)
    names = set()
    for match in re.finditer(r"(?<![\w$.])([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?", text):
        name, call = match.group(1), match.group(2)
        if call or name in KEYWORDS:
            continue
        names.add(name)
    return names


def expressions(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("expr"), str):
            yield node["expr"]
        for value in node.values():
            yield from expressions(value)
    elif isinstance(node, list):
        for value in node:
            yield from expressions(value)


def dashboard_expressions() -> list[str]:
    return list(expressions(json.loads(DASHBOARD.read_text())))


def test_the_parser_finds_names_and_skips_functions_labels_and_keywords() -> None:
    expr = (
        'histogram_quantile(0.99, sum by (job, le) (rate(a_seconds_bucket{x="y z"}[5m])))'
        " / on (job) group_left sum(b_total offset 5m) and c unless up"
    )
    assert metric_names(expr) == {"a_seconds_bucket", "b_total", "c", "up"}


def test_every_metric_the_dashboard_queries_is_served() -> None:
    served = catalogue() | {"up"}
    exprs = dashboard_expressions()
    assert len(exprs) >= 20
    used: set[str] = set()
    for expr in exprs:
        names = metric_names(expr)
        missing = names - served
        assert not missing, f"{expr}: {sorted(missing)} not in docs/metrics.md"
        used |= names
        for pattern in re.findall(r'__name__=~"([^"]+)"', expr):
            assert any(re.fullmatch(pattern, n) for n in served), f"{pattern} matches no served metric"
            used |= {n for n in served if re.fullmatch(pattern, n)}
    # The list of domain metrics is on the dashboard.
    for wanted in (
        "vigie_ingest_webhooks_total",
        "vigie_moderator_decisions_total",
        "vigie_moderator_inference_duration_seconds_bucket",
        "vigie_moderator_review_queue_pending",
        "vigie_responder_drafts",
        "vigie_responder_platform_calls_total",
        "vigie_moderator_outbox_pending",
        "vigie_audit_bus_deadlettered_total",
        "vigie_audit_chain_length",
        "vigie_moderator_bus_consumer_lag",
    ):
        assert wanted in used, wanted


def test_panels_have_unique_ids_and_a_templated_datasource() -> None:
    board = json.loads(DASHBOARD.read_text())
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids))
    for panel in board["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${datasource}", panel["title"]

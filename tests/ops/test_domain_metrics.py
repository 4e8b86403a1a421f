"""Label values of the domain metrics stay in closed sets whatever the input."""

from __future__ import annotations

from vigie_moderator.metrics import ModeratorMetrics
from vigie_shared.metrics import ServiceMetrics


def test_decisions_fold_rule_names_and_unknown_languages() -> None:
    base = ServiceMetrics("moderator")
    metrics = ModeratorMetrics(base)
    metrics.decided("hide", ["toxicity", "insult", "no-links-please"], "fr")
    metrics.decided("allow", [], "en")
    metrics.decided("review", ["my custom rule", "other rule"], "xx")

    def count(action: str, category: str, language: str) -> float | None:
        return base.registry.get_sample_value(
            "vigie_moderator_decisions_total", {"action": action, "category": category, "language": language}
        )

    assert count("hide", "toxicity", "fr") == 1
    assert count("hide", "insult", "fr") == 1
    assert count("hide", "rule", "fr") == 1
    assert count("allow", "none", "en") == 1
    # Two rule names on one decision count once under `rule`.
    assert count("review", "rule", "other") == 1
    families = [f for f in base.registry.collect() if f.name == "vigie_moderator_decisions"]
    labels = {
        tuple(sorted(s.labels.items())) for f in families for s in f.samples if s.name.endswith("_total")
    }
    assert len(labels) == 5

"""The alert rules pass promtool's checks and their unit tests; every alert has tests and a runbook."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.ops.conftest import ROOT

pytestmark = pytest.mark.prometheus

RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
RULE_TESTS = ROOT / "deploy" / "prometheus" / "alerts_test.yml"
RUNBOOKS = ROOT / "docs" / "runbooks"


def alerts() -> list[dict[str, object]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)


def test_promtool_accepts_the_rules_and_the_scrape_config(promtool: str) -> None:
    checked = run(promtool, "check", "rules", str(RULES))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    config = run(promtool, "check", "config", str(ROOT / "deploy" / "prometheus" / "prometheus.yml"))
    assert config.returncode == 0, config.stdout + config.stderr


def test_the_rules_unit_tests_pass(promtool: str) -> None:
    tested = run(promtool, "test", "rules", str(RULE_TESTS))
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_a_wrong_expectation_fails_promtool(promtool: str, tmp_path: Path) -> None:
    # The unit tests could pass for the wrong reason (a file never read); a broken copy must fail.
    (tmp_path / "alerts.yml").write_text(RULES.read_text().replace("> 300", "> 3000"))
    (tmp_path / "alerts_test.yml").write_text(RULE_TESTS.read_text())
    tested = run(promtool, "test", "rules", str(tmp_path / "alerts_test.yml"))
    assert tested.returncode != 0
    assert "VigieOutboxStuck" in tested.stdout + tested.stderr


def test_every_alert_has_firing_and_quiet_cases() -> None:
    tests = yaml.safe_load(RULE_TESTS.read_text())["tests"]
    cases = [case for test in tests for case in test.get("alert_rule_test", [])]
    for rule in alerts():
        name = rule["alert"]
        mine = [case for case in cases if case["alertname"] == name]
        assert any(case["exp_alerts"] for case in mine), f"{name}: no case where it fires"
        assert any(not case["exp_alerts"] for case in mine), f"{name}: no case where it stays quiet"


def test_every_alert_has_a_runbook_it_links_to() -> None:
    for rule in alerts():
        name = str(rule["alert"])
        annotations = rule["annotations"]
        assert isinstance(annotations, dict)
        assert annotations["runbook_url"] == f"docs/runbooks/{name}.md"
        runbook = (RUNBOOKS / f"{name}.md").read_text()
        assert runbook.startswith(f"# {name}\n"), name
        for section in ("## Meaning", "## Impact", "## Diagnosis", "## Mitigation"):
            assert section in runbook, f"{name}: missing {section}"


def test_rules_only_use_metrics_the_services_serve() -> None:
    from tests.ops.test_dashboard import catalogue, metric_names

    served = catalogue()
    for rule in alerts():
        for name in metric_names(str(rule["expr"])):
            assert name in served or name == "up", f"{rule['alert']}: {name} is not in docs/metrics.md"
        for pattern in re.findall(r'__name__=~"([^"]+)"', str(rule["expr"])):
            assert any(re.fullmatch(pattern, n) for n in served), (
                f"{rule['alert']}: {pattern} matches nothing"
            )

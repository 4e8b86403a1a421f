"""The bias maths against values worked out by hand."""

from __future__ import annotations

import pytest
from vigie_audit.domain.bias import (
    Cell,
    ReportConfig,
    Verdict,
    build_report,
    roc_auc,
    score_bin,
)

H, A = Verdict.HARMFUL, Verdict.ACCEPTABLE


def reviewed(groups: set[str], score: float, verdict: Verdict, count: int = 1) -> Cell:
    return Cell(frozenset(groups), "review", None, verdict, score_bin(score), count)


def decided(groups: set[str], action: str, count: int, shadow: str | None = None) -> Cell:
    return Cell(frozenset(groups), action, shadow, None, None, count)


def test_auc_counts_pairs_won_and_half_the_ties() -> None:
    # 0.9 and 0.8 beat both negatives, 0.3 beats 0.1 only: 5 of 6 pairs.
    assert roc_auc([0.9, 0.8, 0.3], [0.1, 0.4]) == pytest.approx(5 / 6)
    assert roc_auc([0.5], [0.5]) == pytest.approx(0.5)
    assert roc_auc([0.5, 0.7], [0.5]) == pytest.approx(0.75)
    assert roc_auc([0.1], [0.9]) == 0.0


# Group g: harmful 0.6, 0.9; acceptable 0.85, 0.2.  Background: harmful 0.8, 0.95; acceptable 0.1, 0.65, 0.95.
HAND = [
    reviewed({"g"}, 0.6, H),
    reviewed({"g"}, 0.9, H),
    reviewed({"g"}, 0.85, A),
    reviewed({"g"}, 0.2, A),
    reviewed(set(), 0.8, H),
    reviewed(set(), 0.95, H),
    reviewed(set(), 0.1, A),
    reviewed(set(), 0.65, A),
    reviewed(set(), 0.95, A),
]


def test_subgroup_bpsn_and_bnsp_match_the_hand_computed_values() -> None:
    report = build_report(HAND, ReportConfig(min_group_size=1, bootstrap=50))
    (group,) = report.groups
    # subgroup: 0.6 beats 0.2; 0.9 beats 0.85 and 0.2 -> 3/4
    assert group.subgroup_auc is not None and group.subgroup_auc.value == pytest.approx(3 / 4)
    # BPSN, background harmful vs group acceptable: 0.8 beats 0.2; 0.95 beats both -> 3/4
    assert group.bpsn_auc is not None and group.bpsn_auc.value == pytest.approx(3 / 4)
    # BNSP, group harmful vs background acceptable: 0.6 beats 0.1; 0.9 beats 0.1, 0.65 -> 3/6
    assert group.bnsp_auc is not None and group.bnsp_auc.value == pytest.approx(3 / 6)
    # overall: 2 + 4 + 3 + 4.5 (0.95 ties 0.95) wins over 4 x 5 pairs
    assert report.overall_auc is not None and report.overall_auc.value == pytest.approx(13.5 / 20)


def test_the_intervals_hold_the_value_and_repeat_with_the_seed() -> None:
    config = ReportConfig(min_group_size=1, bootstrap=200)
    first = build_report(HAND * 10, config).groups[0]
    again = build_report(HAND * 10, config).groups[0]
    assert first.subgroup_auc == again.subgroup_auc
    for interval in (first.subgroup_auc, first.bpsn_auc, first.bnsp_auc):
        assert interval is not None
        assert interval.low <= interval.value <= interval.high
    # Ten times the data, the same proportions: a narrower interval around the same value.
    larger = build_report(HAND * 100, config).groups[0]
    assert larger.subgroup_auc is not None and first.subgroup_auc is not None
    assert larger.subgroup_auc.value == pytest.approx(first.subgroup_auc.value)
    assert (larger.subgroup_auc.high - larger.subgroup_auc.low) < (
        first.subgroup_auc.high - first.subgroup_auc.low
    )


def test_rates_overturns_and_shadow_differences_per_group() -> None:
    cells = [
        decided({"g"}, "allow", 5, shadow="allow"),
        decided({"g"}, "hide", 1, shadow="remove"),
        reviewed({"g"}, 0.7, A, count=3),
        reviewed({"g"}, 0.9, H, count=1),
        decided(set(), "allow", 10, shadow="review"),
    ]
    report = build_report(cells, ReportConfig(min_group_size=1, bootstrap=20))
    g = next(group for group in report.groups if group.group == "g")
    assert g.volume == 10
    assert g.flag_rate == pytest.approx(0.5)  # 1 hide + 4 review of 10
    assert g.action_rates == pytest.approx({"allow": 0.5, "review": 0.4, "hide": 0.1, "remove": 0.0})
    assert g.reviewed == 4
    assert g.overturn_rate == pytest.approx(0.75)
    assert g.reference_flag_rate == 0.0
    assert g.shadow is not None
    assert g.shadow.compared == 6  # the reviewed cells carry no shadow decision
    assert g.shadow.differ_rate == pytest.approx(1 / 6)
    assert g.shadow.stricter_rate == pytest.approx(1 / 6)
    assert g.shadow.more_lenient_rate == 0.0
    assert g.shadow.candidate_flag_rate == pytest.approx(1 / 6)
    assert report.volume == 20
    assert report.shadow is not None and report.shadow.stricter_rate == pytest.approx(11 / 16)


def test_a_group_under_the_minimum_size_shows_no_figure() -> None:
    cells = [decided({"small"}, "remove", 4), decided(set(), "allow", 100)]
    report = build_report(cells, ReportConfig(min_group_size=5))
    (small,) = report.groups
    assert small.volume == 4
    assert not small.shown
    assert small.flag_rate is None and small.subgroup_auc is None and not small.findings


def background(n: int) -> list[Cell]:
    """Per 100 comments: 10 held, of which 2 approved and 8 removed, with an informative score."""
    k = n // 100
    return [
        decided({"language:en"}, "allow", 90 * k),
        reviewed({"language:en"}, 0.8, H, 4 * k),
        reviewed({"language:en"}, 0.6, H, 4 * k),
        reviewed({"language:en"}, 0.55, A, 1 * k),
        reviewed({"language:en"}, 0.3, A, 1 * k),
    ]


def test_a_group_treated_unfairly_comes_first_and_a_fair_one_is_not_flagged() -> None:
    unfair = {"language:en", "religion:muslim"}
    fair = {"language:en", "religion:christian"}
    cells = [
        *background(4000),
        # Mentions of the unfair group: held six times as often, and moderators approve most.
        decided(unfair, "allow", 240),
        reviewed(unfair, 0.75, A, 120),
        reviewed(unfair, 0.7, H, 40),
        # The fair group looks like everyone else.
        decided(fair, "allow", 360),
        reviewed(fair, 0.8, H, 16),
        reviewed(fair, 0.6, H, 16),
        reviewed(fair, 0.55, A, 4),
        reviewed(fair, 0.3, A, 4),
    ]
    report = build_report(cells, ReportConfig(margin=0.05, min_group_size=30, bootstrap=200))
    first = report.groups[0]
    assert first.group == "religion:muslim"
    assert {finding.metric for finding in first.findings} >= {"flag_rate", "overturn_rate", "bpsn_auc"}
    christian = next(group for group in report.groups if group.group == "religion:christian")
    assert christian.shown and not christian.flagged
    assert [group.group for group in report.groups if group.flagged] == ["religion:muslim"]


def test_a_wide_gap_in_a_small_group_is_not_enough_on_its_own() -> None:
    # 3 flagged of 30 in the background rate would be 10%; 6 of 30 is 20%: past the margin, but an
    # interval that wide still holds no difference at all.
    cells = [
        decided({"g"}, "review", 6),
        decided({"g"}, "allow", 24),
        decided(set(), "review", 10),
        decided(set(), "allow", 90),
    ]
    (group,) = build_report(cells, ReportConfig(min_group_size=30)).groups
    assert group.flag_rate == pytest.approx(0.2)
    assert group.reference_flag_rate == pytest.approx(0.1)
    assert not group.flagged

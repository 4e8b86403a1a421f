"""Bias figures per group of comments: rates, human overturns, AUCs with bootstrap intervals. Pure.

The input is a list of cells, each a count of decisions that share everything the report looks at
(the groups the comment belongs to, the live and shadow actions, the human verdict and, for reviewed
comments, the score bin), so a database can aggregate a million decisions into a few thousand rows.

AUC definitions follow Borkan et al., "Nuanced Metrics for Measuring Unintended Bias with Real
Data for Text Classification" (WWW 2019): with D the labelled comments and D_g those that mention
group g,
  subgroup AUC = AUC(D_g+ , D_g-)             how well the score ranks within the group,
  BPSN AUC     = AUC(D_bg+ , D_g-)            background positives against group negatives: low
                                               when acceptable comments about g score high,
  BNSP AUC     = AUC(D_g+ , D_bg-)            group positives against background negatives: low
                                               when harmful comments about g score low,
where D_bg is D minus D_g. The label is the moderator's verdict (removed = harmful), so the
figures exist only where people reviewed; AUC(P, N) = P(score(p) > score(n)) + 1/2 P(equal).

Rates (flag rate, overturn rate) are compared with a reference: for an identity group, the comments
that mention no identity group at all; for a language, the comments in other languages. Comparing
with "everything else" instead would let one badly treated group drag the others' reference and
make a fairly treated group look different.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from math import sqrt
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

SCORE_BINS = 1_000
"""Scores are compared at three decimals: closer scores count as ties (half a win each). This keeps
every bootstrap draw to 1,001 bins; the AUC moves by at most the share of pairs closer than 0.001."""

ACTIONS = ("allow", "review", "hide", "remove")
FLAGGING = frozenset({"review", "hide", "remove"})
SEVERITY = {action: rank for rank, action in enumerate(ACTIONS)}
LANGUAGE = "language:"

Counts = npt.NDArray[np.int64]


class Verdict(StrEnum):
    HARMFUL = "harmful"  # the moderator removed the held comment: the flag stood
    ACCEPTABLE = "acceptable"  # the moderator approved it: the flag was overturned


@dataclass(frozen=True, slots=True)
class Cell:
    groups: frozenset[str]
    action: str
    shadow_action: str | None
    verdict: Verdict | None
    score_bin: int | None
    count: int


def score_bin(score: float) -> int:
    return min(SCORE_BINS, max(0, round(score * SCORE_BINS)))


@dataclass(frozen=True, slots=True)
class ReportConfig:
    margin: float = 0.05
    """Smallest gap (rate points or AUC) that puts a group at the top of the report."""
    min_group_size: int = 30
    """Below this many decisions (or reviewed decisions, for AUCs) a group's figures are withheld."""
    bootstrap: int = 200
    confidence: float = 0.95
    seed: int = 20190513


@dataclass(frozen=True, slots=True)
class Interval:
    value: float
    low: float
    high: float


@dataclass(frozen=True, slots=True)
class Finding:
    metric: str
    value: float
    reference: float
    gap: float
    """value - reference; its sign says which way the group differs."""


@dataclass(frozen=True, slots=True)
class ShadowFigures:
    compared: int
    differ_rate: float
    stricter_rate: float
    more_lenient_rate: float
    candidate_flag_rate: float


@dataclass(frozen=True, slots=True)
class GroupFigures:
    group: str
    volume: int
    reviewed: int
    shown: bool
    """False when the group is under the minimum size: only its volume is given."""
    flag_rate: float | None = None
    action_rates: dict[str, float] = field(default_factory=dict)
    overturn_rate: float | None = None
    reference_flag_rate: float | None = None
    reference_overturn_rate: float | None = None
    subgroup_auc: Interval | None = None
    bpsn_auc: Interval | None = None
    bnsp_auc: Interval | None = None
    shadow: ShadowFigures | None = None
    findings: tuple[Finding, ...] = ()

    @property
    def flagged(self) -> bool:
        return bool(self.findings)

    @property
    def dimension(self) -> str:
        return self.group.partition(":")[0]


@dataclass(frozen=True, slots=True)
class BiasReport:
    volume: int
    reviewed: int
    flag_rate: float | None
    action_rates: dict[str, float]
    overturn_rate: float | None
    overall_auc: Interval | None
    shadow: ShadowFigures | None
    groups: tuple[GroupFigures, ...]
    config: ReportConfig


def auc_from_histograms(positives: Counts, negatives: Counts) -> npt.NDArray[np.float64]:
    """AUC for each row of two count matrices over the same ascending score bins (Mann-Whitney)."""
    positives = np.atleast_2d(positives).astype(np.float64)
    negatives = np.atleast_2d(negatives).astype(np.float64)
    below = np.cumsum(negatives, axis=1) - negatives
    wins = np.sum(positives * (below + 0.5 * negatives), axis=1)
    pairs = positives.sum(axis=1) * negatives.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(pairs > 0, wins / np.where(pairs > 0, pairs, 1.0), np.nan)


def roc_auc(positive_scores: Sequence[float], negative_scores: Sequence[float]) -> float:
    """The same AUC from raw scores, for callers and tests that hold scores rather than counts."""
    positives = np.bincount([score_bin(s) for s in positive_scores], minlength=SCORE_BINS + 1)
    negatives = np.bincount([score_bin(s) for s in negative_scores], minlength=SCORE_BINS + 1)
    return float(auc_from_histograms(positives, negatives)[0])


def _resample(histogram: Counts, times: int, rng: np.random.Generator) -> Counts:
    """`times` bootstrap draws of a sample given as counts per bin: multinomial over its own bins."""
    draws = np.zeros((times, histogram.size), dtype=np.int64)
    total = int(histogram.sum())
    if total == 0:
        return draws
    # Drawn over the occupied bins only: a group's cells usually fill a few dozen of the 1,001.
    occupied = np.flatnonzero(histogram)
    draws[:, occupied] = rng.multinomial(total, histogram[occupied] / total, size=times)
    return draws


def _interval(value: float, draws: npt.NDArray[np.float64], confidence: float) -> Interval:
    alpha = (1.0 - confidence) / 2.0
    low, high = np.nanquantile(draws, [alpha, 1.0 - alpha])
    return Interval(value, float(low), float(high))


@dataclass(slots=True)
class _Tally:
    volume: int = 0
    actions: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ACTIONS, 0))
    reviewed: int = 0
    overturned: int = 0
    shadow_compared: int = 0
    shadow_differ: int = 0
    shadow_stricter: int = 0
    shadow_lenient: int = 0
    shadow_flagged: int = 0

    def add(self, cell: Cell) -> None:
        n = cell.count
        self.volume += n
        self.actions[cell.action] = self.actions.get(cell.action, 0) + n
        if cell.verdict is not None:
            self.reviewed += n
            if cell.verdict is Verdict.ACCEPTABLE:
                self.overturned += n
        if cell.shadow_action is not None:
            self.shadow_compared += n
            live, candidate = SEVERITY.get(cell.action, 0), SEVERITY.get(cell.shadow_action, 0)
            if cell.shadow_action != cell.action:
                self.shadow_differ += n
            if candidate > live:
                self.shadow_stricter += n
            elif candidate < live:
                self.shadow_lenient += n
            if cell.shadow_action in FLAGGING:
                self.shadow_flagged += n

    def minus(self, other: _Tally) -> _Tally:
        return _Tally(
            volume=self.volume - other.volume,
            actions={a: self.actions.get(a, 0) - other.actions.get(a, 0) for a in self.actions},
            reviewed=self.reviewed - other.reviewed,
            overturned=self.overturned - other.overturned,
            shadow_compared=self.shadow_compared - other.shadow_compared,
            shadow_differ=self.shadow_differ - other.shadow_differ,
            shadow_stricter=self.shadow_stricter - other.shadow_stricter,
            shadow_lenient=self.shadow_lenient - other.shadow_lenient,
            shadow_flagged=self.shadow_flagged - other.shadow_flagged,
        )

    @property
    def flagged(self) -> int:
        return sum(n for action, n in self.actions.items() if action in FLAGGING)

    def flag_rate(self) -> float | None:
        return self.flagged / self.volume if self.volume else None

    def overturn_rate(self) -> float | None:
        return self.overturned / self.reviewed if self.reviewed else None

    def action_rates(self) -> dict[str, float]:
        if not self.volume:
            return {}
        return {action: n / self.volume for action, n in self.actions.items()}

    def shadow(self) -> ShadowFigures | None:
        n = self.shadow_compared
        if not n:
            return None
        return ShadowFigures(
            compared=n,
            differ_rate=self.shadow_differ / n,
            stricter_rate=self.shadow_stricter / n,
            more_lenient_rate=self.shadow_lenient / n,
            candidate_flag_rate=self.shadow_flagged / n,
        )


def _proportion_gap(
    hits: int, n: int, reference_hits: int, reference_n: int, z: float
) -> tuple[float, float, float] | None:
    """Difference of two proportions with its normal-approximation interval."""
    if n == 0 or reference_n == 0:
        return None
    p, q = hits / n, reference_hits / reference_n
    spread = z * sqrt(p * (1 - p) / n + q * (1 - q) / reference_n)
    gap = p - q
    return gap, gap - spread, gap + spread


def _rate_finding(
    metric: str,
    counts: tuple[int, int, int, int],
    config: ReportConfig,
    z: float,
) -> Finding | None:
    """A rate gap is reported when it passes the margin and its interval leaves out zero, so a
    small group's chance wobble does not jump to the top."""
    gap = _proportion_gap(*counts, z=z)
    if gap is None:
        return None
    difference, low, high = gap
    if abs(difference) <= config.margin or low <= 0.0 <= high:
        return None
    hits, n, reference_hits, reference_n = counts
    return Finding(metric, hits / n, reference_hits / reference_n, difference)


def _auc_finding(
    metric: str, interval: Interval | None, overall: Interval | None, margin: float
) -> Finding | None:
    """An AUC is reported when it falls short of the overall AUC by more than the margin and its
    whole interval stays below the overall value."""
    if interval is None or overall is None:
        return None
    gap = interval.value - overall.value
    if -gap <= margin or interval.high >= overall.value:
        return None
    return Finding(metric, interval.value, overall.value, gap)


def build_report(cells: Iterable[Cell], config: ReportConfig | None = None) -> BiasReport:
    config = config or ReportConfig()
    z = NormalDist().inv_cdf(0.5 + config.confidence / 2)
    total = _Tally()
    unmarked = _Tally()  # comments that mention no identity group
    tallies: dict[str, _Tally] = defaultdict(_Tally)
    all_pos = np.zeros(SCORE_BINS + 1, dtype=np.int64)
    all_neg = np.zeros(SCORE_BINS + 1, dtype=np.int64)
    group_pos: dict[str, Counts] = {}
    group_neg: dict[str, Counts] = {}
    for cell in cells:
        if cell.count <= 0:
            continue
        total.add(cell)
        if all(group.startswith(LANGUAGE) for group in cell.groups):
            unmarked.add(cell)
        for group in cell.groups:
            tallies[group].add(cell)
        if cell.verdict is None or cell.score_bin is None:
            continue
        harmful = cell.verdict is Verdict.HARMFUL
        (all_pos if harmful else all_neg)[cell.score_bin] += cell.count
        for group in cell.groups:
            target = group_pos if harmful else group_neg
            if group not in target:
                target[group] = np.zeros(SCORE_BINS + 1, dtype=np.int64)
            target[group][cell.score_bin] += cell.count

    overall = _overall_auc(all_pos, all_neg, config)
    figures = [
        _group_figures(
            group,
            tally,
            total.minus(tally) if group.startswith(LANGUAGE) else unmarked,
            group_pos.get(group),
            group_neg.get(group),
            (all_pos, all_neg),
            overall,
            config,
            z,
        )
        for group, tally in tallies.items()
    ]
    figures.sort(key=_order)
    return BiasReport(
        volume=total.volume,
        reviewed=total.reviewed,
        flag_rate=total.flag_rate(),
        action_rates=total.action_rates(),
        overturn_rate=total.overturn_rate(),
        overall_auc=overall,
        shadow=total.shadow(),
        groups=tuple(figures),
        config=config,
    )


def _order(figures: GroupFigures) -> tuple[int, float, int, str]:
    """Flagged groups first, the widest gap first among them; then the rest by volume."""
    widest = max((abs(finding.gap) for finding in figures.findings), default=0.0)
    return (0 if figures.flagged else 1, -widest, -figures.volume, figures.group)


def _rng(config: ReportConfig, group: str) -> np.random.Generator:
    """One stream per group, so a group's interval does not change when other groups come or go."""
    return np.random.default_rng([config.seed, zlib.crc32(group.encode())])


def _overall_auc(positives: Counts, negatives: Counts, config: ReportConfig) -> Interval | None:
    n_pos, n_neg = int(positives.sum()), int(negatives.sum())
    if n_pos == 0 or n_neg == 0 or n_pos + n_neg < config.min_group_size:
        return None
    value = float(auc_from_histograms(positives, negatives)[0])
    rng = _rng(config, "*")
    draws = auc_from_histograms(
        _resample(positives, config.bootstrap, rng), _resample(negatives, config.bootstrap, rng)
    )
    return _interval(value, draws, config.confidence)


def _group_figures(
    group: str,
    tally: _Tally,
    reference: _Tally,
    sub_pos: Counts | None,
    sub_neg: Counts | None,
    everything: tuple[Counts, Counts],
    overall: Interval | None,
    config: ReportConfig,
    z: float,
) -> GroupFigures:
    if tally.volume < config.min_group_size:
        return GroupFigures(group=group, volume=tally.volume, reviewed=tally.reviewed, shown=False)
    aucs = _group_aucs(group, sub_pos, sub_neg, everything, tally.reviewed, config)
    findings = [
        _rate_finding(
            "flag_rate", (tally.flagged, tally.volume, reference.flagged, reference.volume), config, z
        ),
        _rate_finding(
            "overturn_rate",
            (tally.overturned, tally.reviewed, reference.overturned, reference.reviewed),
            config,
            z,
        )
        if tally.reviewed >= config.min_group_size
        else None,
        *(
            _auc_finding(metric, aucs.get(metric), overall, config.margin)
            for metric in ("subgroup_auc", "bpsn_auc", "bnsp_auc")
        ),
    ]
    return GroupFigures(
        group=group,
        volume=tally.volume,
        reviewed=tally.reviewed,
        shown=True,
        flag_rate=tally.flag_rate(),
        action_rates=tally.action_rates(),
        overturn_rate=tally.overturn_rate() if tally.reviewed >= config.min_group_size else None,
        reference_flag_rate=reference.flag_rate(),
        reference_overturn_rate=reference.overturn_rate(),
        subgroup_auc=aucs.get("subgroup_auc"),
        bpsn_auc=aucs.get("bpsn_auc"),
        bnsp_auc=aucs.get("bnsp_auc"),
        shadow=tally.shadow(),
        findings=tuple(finding for finding in findings if finding is not None),
    )


def _group_aucs(
    group: str,
    sub_pos: Counts | None,
    sub_neg: Counts | None,
    everything: tuple[Counts, Counts],
    reviewed: int,
    config: ReportConfig,
) -> Mapping[str, Interval]:
    if reviewed < config.min_group_size:
        return {}
    empty = np.zeros(SCORE_BINS + 1, dtype=np.int64)
    sub_pos = empty if sub_pos is None else sub_pos
    sub_neg = empty if sub_neg is None else sub_neg
    bg_pos, bg_neg = everything[0] - sub_pos, everything[1] - sub_neg
    # Each of the four cells is resampled on its own (a stratified bootstrap), so every draw keeps
    # the cell sizes and each AUC stays defined whenever its point value is.
    rng = _rng(config, group)
    b = config.bootstrap
    draws = {
        "sub_pos": _resample(sub_pos, b, rng),
        "sub_neg": _resample(sub_neg, b, rng),
        "bg_pos": _resample(bg_pos, b, rng),
        "bg_neg": _resample(bg_neg, b, rng),
    }
    pairs = {
        "subgroup_auc": (sub_pos, sub_neg, "sub_pos", "sub_neg"),
        "bpsn_auc": (bg_pos, sub_neg, "bg_pos", "sub_neg"),
        "bnsp_auc": (sub_pos, bg_neg, "sub_pos", "bg_neg"),
    }
    result: dict[str, Interval] = {}
    for metric, (positives, negatives, pos_key, neg_key) in pairs.items():
        if positives.sum() == 0 or negatives.sum() == 0:
            continue
        value = float(auc_from_histograms(positives, negatives)[0])
        result[metric] = _interval(
            value, auc_from_histograms(draws[pos_key], draws[neg_key]), config.confidence
        )
    return result

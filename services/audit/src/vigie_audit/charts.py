"""Charts for the report pages, drawn on the server as inline SVG (matplotlib, Agg backend).

Text is drawn as paths, so the SVG carries no markup from the data and renders the same in every
browser without fonts; each chart sits in a <figure> whose caption and the table beside it say
the same thing in words.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure

from vigie_audit.domain.bias import BiasReport, GroupFigures
from vigie_audit.domain.insights import Insights

FLAGGED = "#b3261e"
NORMAL = "#3d5a80"
MUTED = "#98a2b3"
_rc: dict[Any, Any] = {"svg.fonttype": "path", "font.size": 9, "svg.hashsalt": "vigie"}
# pyplot is never used (it keeps global figures); Figure objects are independent, but matplotlib's
# font cache and rcParams are process-wide, so drawing is serialised.
_lock = threading.Lock()


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    with matplotlib.rc_context(_rc):
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _shown(report: BiasReport) -> list[GroupFigures]:
    return [group for group in report.groups if group.shown]


def flag_rates(report: BiasReport, labels: dict[str, str]) -> str | None:
    groups = _shown(report)
    if not groups or report.flag_rate is None:
        return None
    with _lock, matplotlib.rc_context(_rc):
        figure = Figure(figsize=(7.5, 0.35 * len(groups) + 1.0))
        axes = figure.subplots()
        names = [labels.get(g.group, g.group) for g in groups][::-1]
        values = [100 * (g.flag_rate or 0.0) for g in groups][::-1]
        colours = [FLAGGED if g.flagged else NORMAL for g in groups][::-1]
        axes.barh(names, values, color=colours)
        axes.axvline(100 * report.flag_rate, color="black", linestyle="--", linewidth=1)
        axes.set_xlabel("flagged (review, hide or remove), % of decisions; dashed: all comments")
        axes.set_xlim(0, max(100.0, *values) if values else 100.0)
        axes.spines[["top", "right"]].set_visible(False)
        return _svg(figure)


def overturn_rates(report: BiasReport, labels: dict[str, str]) -> str | None:
    groups = [g for g in _shown(report) if g.overturn_rate is not None]
    if not groups or report.overturn_rate is None:
        return None
    with _lock, matplotlib.rc_context(_rc):
        figure = Figure(figsize=(7.5, 0.35 * len(groups) + 1.0))
        axes = figure.subplots()
        names = [labels.get(g.group, g.group) for g in groups][::-1]
        values = [100 * (g.overturn_rate or 0.0) for g in groups][::-1]
        colours = [FLAGGED if g.flagged else NORMAL for g in groups][::-1]
        axes.barh(names, values, color=colours)
        axes.axvline(100 * report.overturn_rate, color="black", linestyle="--", linewidth=1)
        axes.set_xlabel("held comments a moderator approved, %; dashed: all reviewed comments")
        axes.set_xlim(0, 100)
        axes.spines[["top", "right"]].set_visible(False)
        return _svg(figure)


def aucs(report: BiasReport, labels: dict[str, str]) -> str | None:
    groups = [g for g in _shown(report) if g.subgroup_auc or g.bpsn_auc or g.bnsp_auc]
    if not groups or report.overall_auc is None:
        return None
    metrics = (("subgroup_auc", "subgroup", "o"), ("bpsn_auc", "BPSN", "s"), ("bnsp_auc", "BNSP", "^"))
    with _lock, matplotlib.rc_context(_rc):
        figure = Figure(figsize=(7.5, 0.5 * len(groups) + 1.2))
        axes = figure.subplots()
        positions = list(range(len(groups)))[::-1]
        for offset, (attribute, name, marker) in zip((-0.2, 0.0, 0.2), metrics, strict=True):
            xs, ys, low, high = [], [], [], []
            for position, group in zip(positions, groups, strict=True):
                interval = getattr(group, attribute)
                if interval is None:
                    continue
                xs.append(interval.value)
                ys.append(position + offset)
                low.append(interval.value - interval.low)
                high.append(interval.high - interval.value)
            axes.errorbar(xs, ys, xerr=[low, high], fmt=marker, capsize=2, label=name)
        axes.axvline(report.overall_auc.value, color="black", linestyle="--", linewidth=1)
        axes.set_yticks(positions, [labels.get(g.group, g.group) for g in groups])
        axes.set_xlabel("AUC against moderators' verdicts, with 95% bootstrap interval; dashed: overall")
        # A little room either side, so an AUC of exactly 0 or 1 is not drawn on the frame.
        axes.set_xlim(-0.03, 1.03)
        axes.legend(loc="lower left", fontsize=8)
        axes.spines[["top", "right"]].set_visible(False)
        return _svg(figure)


def shadow_differences(report: BiasReport, labels: dict[str, str]) -> str | None:
    groups = [g for g in _shown(report) if g.shadow is not None]
    if not groups:
        return None
    with _lock, matplotlib.rc_context(_rc):
        figure = Figure(figsize=(7.5, 0.35 * len(groups) + 1.0))
        axes = figure.subplots()
        names = [labels.get(g.group, g.group) for g in groups][::-1]
        stricter = [100 * g.shadow.stricter_rate for g in groups if g.shadow][::-1]
        lenient = [100 * g.shadow.more_lenient_rate for g in groups if g.shadow][::-1]
        axes.barh(names, stricter, color=FLAGGED, label="candidate stricter")
        axes.barh(names, lenient, left=stricter, color=MUTED, label="candidate more lenient")
        axes.set_xlabel("decisions where the shadow policy would have acted differently, %")
        axes.legend(loc="lower right", fontsize=8)
        axes.spines[["top", "right"]].set_visible(False)
        return _svg(figure)


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def activity(insights: Insights) -> str | None:
    if not insights.comments:
        return None
    with _lock, matplotlib.rc_context(_rc):
        figure = Figure(figsize=(7.5, 2.6))
        axes = figure.subplots()
        image = axes.imshow(insights.by_weekday_hour, aspect="auto", cmap="Blues")
        axes.set_yticks(range(7), WEEKDAYS)
        axes.set_xticks(range(0, 24, 2), [f"{h:02d}" for h in range(0, 24, 2)])
        axes.set_xlabel(f"hour ({insights.timezone})")
        figure.colorbar(image, ax=axes, label="comments")
        return _svg(figure)


def sentiment(insights: Insights) -> str | None:
    days = [day for day in insights.sentiment if day.total]
    if not days:
        return None
    with _lock, matplotlib.rc_context(_rc):
        figure = Figure(figsize=(7.5, 2.6))
        axes = figure.subplots()
        names = [day.day.isoformat() for day in days]
        shares: dict[str, Sequence[float]] = {
            "negative": [100 * d.negative / d.total for d in days],
            "neutral": [100 * d.neutral / d.total for d in days],
            "positive": [100 * d.positive / d.total for d in days],
        }
        bottom = [0.0] * len(days)
        for band, colour in (("negative", FLAGGED), ("neutral", MUTED), ("positive", "#2e7d32")):
            axes.bar(names, shares[band], bottom=bottom, color=colour, label=band)
            bottom = [b + s for b, s in zip(bottom, shares[band], strict=True)]
        axes.set_ylabel("% of decided comments")
        axes.set_ylim(0, 100)
        axes.tick_params(axis="x", labelrotation=45)
        axes.legend(loc="upper left", fontsize=8, ncols=3)
        axes.spines[["top", "right"]].set_visible(False)
        return _svg(figure)

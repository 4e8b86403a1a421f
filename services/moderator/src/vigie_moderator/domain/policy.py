"""A community's moderation policy and the pure decision it takes on a set of scores."""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from vigie_shared.events.v1 import Action

from vigie_moderator.domain.scores import CATEGORIES, TextScores
from vigie_moderator.domain.terms import fold, matches

# Later entries win: a text that crosses both the review and the remove line is removed.
SEVERITY: tuple[Action, ...] = (Action.ALLOW, Action.REVIEW, Action.HIDE, Action.REMOVE)
Probability = float


class Thresholds(BaseModel):
    """Score at or above which each action applies; None switches that action off."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    review: Probability | None = Field(default=None, ge=0.0, le=1.0)
    hide: Probability | None = Field(default=None, ge=0.0, le=1.0)
    remove: Probability | None = Field(default=None, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        set_ = [
            (a, v)
            for a, v in (("review", self.review), ("hide", self.hide), ("remove", self.remove))
            if v is not None
        ]
        for (low_name, low), (high_name, high) in itertools.pairwise(set_):
            if high < low:
                raise ValueError(f"{high_name} threshold {high} is below {low_name} threshold {low}")
        return self

    def action_for(self, score: float) -> Action:
        for action in reversed(SEVERITY[1:]):
            threshold = getattr(self, action.value)
            if threshold is not None and score >= threshold:
                return action
        return Action.ALLOW


class TermRule(BaseModel):
    """Words or patterns a community does not accept, whatever the models say."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    action: Action
    terms: list[str] = Field(default_factory=list, max_length=2_000)
    patterns: list[str] = Field(
        default_factory=list, max_length=100, description="regular expressions over the folded text"
    )
    languages: list[str] = Field(default_factory=list, description="empty means every language")

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"pattern {pattern!r} does not compile: {error}") from None
        return patterns

    def hits(self, text: str, language: str, allowed: list[str]) -> list[str]:
        if self.languages and language not in self.languages:
            return []
        found = matches(text, self.terms, allowed)
        folded = fold(text)
        found += [p for p in self.patterns if re.search(p, folded)]
        return found


class Policy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = "default-1"
    thresholds: dict[str, Thresholds]
    # Per-language overrides, e.g. {"fr": {"toxicity": {...}}}: models are less sure in French.
    language_thresholds: dict[str, dict[str, Thresholds]] = Field(default_factory=dict)
    term_rules: list[TermRule] = Field(default_factory=list, max_length=100)
    allow_terms: list[str] = Field(
        default_factory=list, max_length=2_000, description="words that never count as a term hit"
    )
    allow_authors: list[str] = Field(
        default_factory=list, max_length=10_000, description="author pseudonyms always allowed"
    )

    @model_validator(mode="after")
    def _known_categories(self) -> Policy:
        known = set(CATEGORIES)
        unknown = set(self.thresholds) - known
        for overrides in self.language_thresholds.values():
            unknown |= set(overrides) - known
        if unknown:
            raise ValueError(f"unknown categories: {sorted(unknown)}; known: {sorted(known)}")
        return self

    def thresholds_for(self, category: str, language: str) -> Thresholds | None:
        return self.language_thresholds.get(language, {}).get(category) or self.thresholds.get(category)


class Decision(BaseModel):
    model_config = ConfigDict(frozen=True)

    action: Action
    reasons: list[str]
    policy_version: str
    categories: list[str] = Field(
        default_factory=list, description="what triggered: categories and rule names"
    )


def _more_severe(a: Action, b: Action) -> Action:
    return a if SEVERITY.index(a) >= SEVERITY.index(b) else b


def decide(policy: Policy, scored: TextScores, text: str = "", author: str | None = None) -> Decision:
    if author is not None and author in policy.allow_authors:
        return Decision(
            action=Action.ALLOW, reasons=["author is allow-listed"], policy_version=policy.version
        )
    action = Action.ALLOW
    reasons: list[str] = []
    triggered: list[str] = []
    for rule in policy.term_rules:
        hits = rule.hits(text, scored.language, policy.allow_terms)
        if hits:
            reasons.append(f"rule {rule.name!r} matched: {', '.join(hits[:5])}")
            triggered.append(f"rule:{rule.name}")
            action = _more_severe(rule.action, action)
    for category in CATEGORIES:
        thresholds = policy.thresholds_for(category, scored.language)
        if thresholds is None:
            continue
        score = scored.scores[category]
        category_action = thresholds.action_for(score)
        if category_action is Action.ALLOW:
            continue
        terms = scored.top_terms.get(category) or []
        because = f" (terms: {', '.join(terms[:5])})" if terms else ""
        reasons.append(f"{category} {score:.2f} >= {category_action.value} threshold{because}")
        triggered.append(category)
        action = _more_severe(category_action, action)
    return Decision(action=action, reasons=reasons, policy_version=policy.version, categories=triggered)


DEFAULT_POLICY = Policy(
    version="default-1",
    thresholds={
        "toxicity": Thresholds(review=0.6, hide=0.9),
        "insult": Thresholds(review=0.7, hide=0.92),
        "threat": Thresholds(review=0.5, remove=0.9),
        "identity_attack": Thresholds(review=0.5, hide=0.85),
        "spam": Thresholds(review=0.7, hide=0.95),
    },
)


def scores_summary(scored: TextScores) -> Mapping[str, float]:
    return {name: round(value, 4) for name, value in scored.scores.items()}

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
        for pattern in self.patterns:
            match = re.search(pattern, folded)
            if match:
                # The matched words explain a decision better than the expression that found them.
                found.append(repr(match.group(0)))
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


# Phrases the models miss: no corpus here labels English threats (see docs/models), so the default
# policy holds them for a human instead of trusting a threat score that stays near zero.
DEFAULT_THREAT_RULE = TermRule(
    name="threat-phrases",
    action=Action.REVIEW,
    terms=[],
    patterns=[
        r"\b(i('| a)?m going to|i ?'?ll|i will|gonna|we will|we'?ll) (kill|hurt|find|shoot|stab|burn|beat) (you|u|him|her|them)\b",
        r"\b(you|u) (will|are going to|gonna) (die|pay|regret)\b",
        r"\b(je|on) (vais|va|vas) (te|vous|le|la) (tuer|buter|crever|retrouver|defoncer|frapper)\b",
        r"\b(tu|vous) (vas|allez) (mourir|payer|le regretter)\b",
    ],
)


def default_policy(suggested: Mapping[str, Mapping[str, float]] | None) -> Policy:
    """The policy of a community that has none: the models' own per-language thresholds.

    A score at the suggested threshold (best F1 on validation, capped at a 10% flag rate on ordinary
    text) is held for review; hiding, or removing a threat, waits until the score is 60% of the way
    from there to certainty. Languages the models have no threshold for use the strictest one known.
    """
    if not suggested:
        return DEFAULT_POLICY

    def ladder(category: str, threshold: float) -> Thresholds:
        severe = round(threshold + 0.6 * (1 - threshold), 4)
        if category == "threat":
            return Thresholds(review=threshold, remove=severe)
        return Thresholds(review=threshold, hide=severe)

    general: dict[str, Thresholds] = {}
    per_language: dict[str, dict[str, Thresholds]] = {}
    for category, by_language in suggested.items():
        if category not in CATEGORIES or not by_language:
            continue
        general[category] = ladder(category, max(by_language.values()))
        for language, threshold in by_language.items():
            per_language.setdefault(language, {})[category] = ladder(category, threshold)
    return Policy(
        version="default-2",
        thresholds=general,
        language_thresholds=per_language,
        term_rules=[DEFAULT_THREAT_RULE],
    )


def scores_summary(scored: TextScores) -> Mapping[str, float]:
    return {name: round(value, 4) for name, value in scored.scores.items()}

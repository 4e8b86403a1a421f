"""A community where comments mentioning one group are treated unfairly, as bus events.

Per 100 decided comments: the background holds 10 and moderators remove 8 of them; comments that
mention Muslims are held 60 times and moderators approve 48 of those (the flags were wrong), with
a shadow policy that would hold even more of them; comments that mention Christians are treated
like the background. Each decided comment also arrives as comment.received, and some get a reply.
Each decision carries a synthetic sentence embedding: one direction per kind of comment plus
noise, so the insights find one topic per kind.
"""

from __future__ import annotations

import base64
import random
from datetime import UTC, datetime, timedelta

import numpy as np
from vigie_shared.events import Envelope, event_id_for
from vigie_shared.events.v1 import (
    Action,
    Author,
    CommentReceived,
    CommentRef,
    Keyed,
    ModerationDecided,
    ModerationReviewed,
    Platform,
    ReplyPublished,
    ReplyReviewed,
    ReplyVerdict,
    ReviewVerdict,
    ShadowDecision,
    TextEmbedding,
)

MARKER = "zq-unique-marker"  # in every text, so a test can prove the facts never keep texts

TEXTS = {
    "background": ("great video, thanks {m}", "merci pour la vidéo {m}"),
    "unfair": ("muslims were at the match {m}", "les musulmans du quartier {m}"),
    "fair": ("christians were at the match {m}", "les chrétiens du quartier {m}"),
}
# (action, verdict, score) per 100 comments of each kind.
PLAN: dict[str, list[tuple[Action, ReviewVerdict | None, float, int]]] = {
    "background": [
        (Action.ALLOW, None, 0.05, 90),
        (Action.REVIEW, ReviewVerdict.REMOVE, 0.8, 8),
        (Action.REVIEW, ReviewVerdict.APPROVE, 0.3, 2),
    ],
    "unfair": [
        (Action.ALLOW, None, 0.05, 40),
        (Action.REVIEW, ReviewVerdict.APPROVE, 0.75, 48),
        (Action.REVIEW, ReviewVerdict.REMOVE, 0.7, 12),
    ],
    "fair": [
        (Action.ALLOW, None, 0.05, 90),
        (Action.REVIEW, ReviewVerdict.REMOVE, 0.8, 8),
        (Action.REVIEW, ReviewVerdict.APPROVE, 0.3, 2),
    ],
}


DIMENSION = 384
_DIRECTIONS = np.random.default_rng(11).normal(size=(len(TEXTS) + 1, DIMENSION))


def embedding(kind: str, n: int) -> TextEmbedding:
    """Near its kind's direction, all kinds sharing a common one (as a real encoder's do)."""
    noise = np.random.default_rng(n).normal(size=DIMENSION) / np.sqrt(DIMENSION)
    vector = (
        2.0 * _DIRECTIONS[-1] / np.sqrt(DIMENSION)
        + _DIRECTIONS[list(TEXTS).index(kind)] / np.sqrt(DIMENSION)
        + 0.4 * noise
    )
    vector /= np.linalg.norm(vector)
    packed = base64.b64encode(vector.astype("<f2").tobytes()).decode()
    return TextEmbedding(encoder="synthetic", dimension=DIMENSION, float16=packed)


def envelope(data: Keyed, correlation_id: str, event_id: str, at: datetime) -> Envelope[Keyed]:
    return Envelope[Keyed](
        id=event_id,
        type=data.event_type,
        source="vigie/test",
        time=at,
        correlationid=correlation_id,
        dataschema=data.schema_uri(),
        data=data,
    )


def events(
    community: str = "page-1", hundreds: dict[str, int] | None = None, seed: int = 7
) -> list[Envelope[Keyed]]:
    hundreds = hundreds or {"background": 3, "unfair": 1, "fair": 1}
    rng = random.Random(seed)
    # Midnight six days ago: every comment falls on the hour planned for it, and before now.
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=6)
    out: list[Envelope[Keyed]] = []
    n = 0
    for kind, times in hundreds.items():
        for _ in range(times):
            for action, verdict, score, count in PLAN[kind]:
                for _ in range(count):
                    n += 1
                    out += comment_events(community, kind, n, action, verdict, score, rng, start)
    return out


def comment_events(
    community: str,
    kind: str,
    n: int,
    action: Action,
    verdict: ReviewVerdict | None,
    score: float,
    rng: random.Random,
    start: datetime,
) -> list[Envelope[Keyed]]:
    ref = CommentRef(platform=Platform.FACEBOOK, community=community, thread_id="post-1", comment_id=f"c{n}")
    correlation = event_id_for("comment", community, str(n))
    language = "en" if n % 3 else "fr"
    text = TEXTS[kind][0 if language == "en" else 1].format(m=MARKER)
    author = Author(pseudonym=f"psn_{n:06d}")
    # Most comments in the evening, on the community's clock.
    created = start + timedelta(
        days=rng.randrange(6), hours=rng.choice((9, 12, 18, 19, 20, 21)), minutes=rng.randrange(60)
    )
    received = created + timedelta(seconds=2)
    decided_id = event_id_for("moderation.decided", correlation)
    shadow_action = Action.REVIEW if kind == "unfair" and action is Action.ALLOW else action
    out = [
        envelope(
            CommentReceived(comment=ref, author=author, text=text, created_at=created, received_at=received),
            correlation,
            event_id_for("comment.received", correlation),
            received,
        ),
        envelope(
            ModerationDecided(
                comment=ref,
                author=author,
                text=text,
                language=language,
                scores={
                    "toxicity": score,
                    "insult": score / 2,
                    "threat": 0.0,
                    "spam": 0.01,
                    "identity_attack": 0.0,
                    "sentiment": rng.choice((-0.6, 0.0, 0.6)),
                },
                action=action,
                reasons=[],
                policy_version="page-1/live/1",
                model_versions={"toxicity": "test"},
                shadow=ShadowDecision(policy_version="page-1/shadow/2", action=shadow_action, reasons=[]),
                review_id=decided_id if action is Action.REVIEW else None,
                embedding=embedding(kind, n),
            ),
            correlation,
            decided_id,
            received + timedelta(seconds=1),
        ),
    ]
    if verdict is not None:
        out.append(
            envelope(
                ModerationReviewed(
                    comment=ref,
                    review_id=decided_id,
                    verdict=verdict,
                    reviewer=rng.choice(("alice", "bruno")),
                    decided_at=received + timedelta(minutes=30),
                ),
                correlation,
                event_id_for("moderation.reviewed", decided_id),
                received + timedelta(minutes=30),
            )
        )
    if n % 4 == 0:
        draft = f"d{n}"
        out += [
            envelope(
                ReplyReviewed(
                    comment=ref,
                    draft_id=draft,
                    verdict=ReplyVerdict.APPROVED,
                    reviewer="alice",
                    reviewed_at=received + timedelta(minutes=20),
                ),
                correlation,
                event_id_for("reply.reviewed", draft),
                received + timedelta(minutes=20),
            ),
            envelope(
                ReplyPublished(
                    comment=ref,
                    draft_id=draft,
                    platform_reply_id=f"r{n}",
                    published_at=received + timedelta(minutes=25),
                ),
                correlation,
                event_id_for("reply.published", draft),
                received + timedelta(minutes=25),
            ),
        ]
    return out

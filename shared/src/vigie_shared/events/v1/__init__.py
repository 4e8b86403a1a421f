"""Version 1 of every Vigie event body. Additive changes only; a breaking change is a new type."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from vigie_shared.events.registry import EventData, register

NonEmpty = Annotated[str, StringConstraints(min_length=1, max_length=512)]
Score = Annotated[float, Field(ge=0.0, le=1.0)]
MAX_EMBEDDING_DIMENSION = 4096


class Platform(StrEnum):
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    YOUTUBE = "youtube"
    DISCORD = "discord"
    SLACK = "slack"
    TWITCH = "twitch"
    TELEGRAM = "telegram"
    MASTODON = "mastodon"
    GENERIC = "generic"


class Action(StrEnum):
    ALLOW = "allow"
    REVIEW = "review"
    HIDE = "hide"
    REMOVE = "remove"


class CommentRef(BaseModel):
    """Where a comment lives; also the source of the record key that keeps a thread in order."""

    model_config = ConfigDict(frozen=True)

    platform: Platform
    community: NonEmpty
    thread_id: NonEmpty
    comment_id: NonEmpty

    def key(self) -> str:
        return f"{self.platform.value}:{self.community}:{self.thread_id}"


class Author(BaseModel):
    model_config = ConfigDict(frozen=True)

    pseudonym: NonEmpty = Field(
        description="keyed hash of the platform user id; the raw id never leaves ingest"
    )
    display_name: str | None = Field(default=None, max_length=256)


class CommentChange(StrEnum):
    CREATED = "created"
    EDITED = "edited"
    DELETED = "deleted"


class Keyed(EventData):
    comment: CommentRef

    def key(self) -> str:
        return self.comment.key()


@register("comment.received", 1)
class CommentReceived(Keyed):
    change: CommentChange = CommentChange.CREATED
    parent_id: str | None = None
    author: Author
    text: str = Field(max_length=65_536, description="NFC-normalised comment text")
    language_hint: str | None = None
    created_at: AwareDatetime
    received_at: AwareDatetime
    permalink: str | None = None
    delivery_id: str | None = Field(default=None, description="the platform's own delivery or event id")


class ShadowDecision(BaseModel):
    model_config = ConfigDict(frozen=True)

    policy_version: str
    action: Action
    reasons: list[str]


class TextEmbedding(BaseModel):
    """The comment's sentence embedding, published so the audit service can group comments by
    topic without keeping their texts: L2-normalised, little-endian float16, base64 (384
    dimensions make 1,024 characters). Derived from the text, so it is personal data like the text
    (vigie_shared.privacy.PERSONAL_FIELDS)."""

    model_config = ConfigDict(frozen=True)

    encoder: NonEmpty = Field(description="the encoder's manifest version: vectors of two encoders never mix")
    dimension: int = Field(ge=1, le=MAX_EMBEDDING_DIMENSION)
    float16: str = Field(
        max_length=4 * ((2 * MAX_EMBEDDING_DIMENSION + 2) // 3),
        pattern=r"^[A-Za-z0-9+/]*={0,2}$",
        description="base64 of dimension little-endian IEEE 754 half floats",
    )

    @model_validator(mode="after")
    def _length_matches(self) -> TextEmbedding:
        try:
            size = len(base64.b64decode(self.float16, validate=True))
        except binascii.Error:
            raise ValueError("float16 is not valid base64") from None
        if size != 2 * self.dimension:
            raise ValueError("float16 must hold exactly `dimension` half floats")
        return self


@register("moderation.decided", 1)
class ModerationDecided(Keyed):
    author: Author
    text: str = Field(max_length=65_536)
    language: str
    scores: dict[str, float]
    action: Action
    reasons: list[str]
    policy_version: str
    model_versions: dict[str, str]
    shadow: ShadowDecision | None = None
    review_id: str | None = Field(default=None, description="set when the action is review")
    embedding: TextEmbedding | None = Field(
        default=None, description="absent when the scorer has no sentence encoder"
    )


class ReviewVerdict(StrEnum):
    APPROVE = "approve"
    REMOVE = "remove"


@register("moderation.reviewed", 1)
class ModerationReviewed(Keyed):
    review_id: NonEmpty
    verdict: ReviewVerdict
    reason: str | None = Field(default=None, max_length=2_000)
    reviewer: NonEmpty
    decided_at: AwareDatetime


class DraftSource(StrEnum):
    FAQ = "faq"
    TEMPLATE = "template"
    LLM = "llm"


@register("reply.drafted", 1)
class ReplyDrafted(Keyed):
    draft_id: NonEmpty
    text: str = Field(min_length=1, max_length=10_000)
    source: DraftSource
    language: str
    intent: str | None = Field(default=None, description="question, complaint, request, praise or other")
    kb_entry_id: str | None = Field(
        default=None, description="the knowledge-base entry the answer comes from"
    )


class ReplyVerdict(StrEnum):
    APPROVED = "approved"
    EDITED = "edited"
    REJECTED = "rejected"


@register("reply.reviewed", 1)
class ReplyReviewed(Keyed):
    draft_id: NonEmpty
    verdict: ReplyVerdict
    final_text: str | None = Field(default=None, max_length=10_000)
    reason: str | None = Field(default=None, max_length=2_000)
    reviewer: NonEmpty
    reviewed_at: AwareDatetime


@register("reply.published", 1)
class ReplyPublished(Keyed):
    draft_id: NonEmpty
    platform_reply_id: NonEmpty
    published_at: AwareDatetime


@register("reply.failed", 1)
class ReplyFailed(Keyed):
    draft_id: NonEmpty
    error: str = Field(max_length=2_000)
    retryable: bool
    failed_at: AwareDatetime


class PlatformActionKind(StrEnum):
    HIDE = "hide"
    DELETE = "delete"


class PlatformActionStatus(StrEnum):
    REQUESTED = "requested"
    DONE = "done"
    FAILED = "failed"


@register("platform.action", 1)
class PlatformAction(Keyed):
    action_id: NonEmpty
    kind: PlatformActionKind
    status: PlatformActionStatus
    requested_by: NonEmpty = Field(description="policy version or reviewer that asked for it")
    error: str | None = Field(default=None, max_length=2_000)
    at: datetime


class ErasureStatus(StrEnum):
    REQUESTED = "requested"
    DONE = "done"


Pseudonym = Annotated[str, StringConstraints(min_length=1, max_length=64)]


@register("privacy.erasure", 1)
class PrivacyErasure(EventData):
    """A data subject's erasure: requested once by audit, then answered done by each service."""

    request_id: NonEmpty
    platform: Platform
    pseudonym: Pseudonym
    status: ErasureStatus
    service: str | None = Field(default=None, max_length=64, description="who answers (status done)")
    erased: dict[str, int] = Field(
        default_factory=dict, description="what the service erased: number of rows or records per store"
    )
    requested_by: str | None = Field(default=None, max_length=128)
    at: AwareDatetime

    def key(self) -> str:
        return f"{self.platform.value}:{self.pseudonym}"


@register("personal_data.accessed", 1)
class PersonalDataAccessed(EventData):
    """Somebody read personal data through an API: who, what and when, kept in the audit log."""

    service: NonEmpty
    principal: NonEmpty = Field(description="the token's name")
    route: NonEmpty = Field(description="route template, never the raw path")
    purpose: NonEmpty = Field(description="export, review queue, audit log read, ...")
    subjects: list[Annotated[str, StringConstraints(max_length=128)]] = Field(
        default_factory=list, max_length=1000, description="platform:pseudonym of the people read"
    )
    records: int = Field(ge=0, description="how many records the answer held")
    at: AwareDatetime

    def key(self) -> str:
        return self.service


TOPICS: dict[str, str] = {
    "comment.received": "vigie.comments.received.v1",
    "moderation.decided": "vigie.moderation.decided.v1",
    "moderation.reviewed": "vigie.moderation.reviewed.v1",
    "reply.drafted": "vigie.replies.drafted.v1",
    "reply.reviewed": "vigie.replies.reviewed.v1",
    "reply.published": "vigie.replies.published.v1",
    "reply.failed": "vigie.replies.published.v1",
    "platform.action": "vigie.platform.actions.v1",
    "privacy.erasure": "vigie.privacy.requests.v1",
    "personal_data.accessed": "vigie.privacy.access.v1",
}
DEADLETTER_TOPIC = "vigie.deadletter.v1"
ALL_TOPICS: tuple[str, ...] = tuple(dict.fromkeys(TOPICS.values()))

__all__ = [
    "ALL_TOPICS",
    "DEADLETTER_TOPIC",
    "TOPICS",
    "Action",
    "Author",
    "CommentChange",
    "CommentReceived",
    "CommentRef",
    "DraftSource",
    "ErasureStatus",
    "Keyed",
    "ModerationDecided",
    "ModerationReviewed",
    "PersonalDataAccessed",
    "Platform",
    "PlatformAction",
    "PlatformActionKind",
    "PlatformActionStatus",
    "PrivacyErasure",
    "ReplyDrafted",
    "ReplyFailed",
    "ReplyPublished",
    "ReplyReviewed",
    "ReplyVerdict",
    "ReviewVerdict",
    "Score",
    "ShadowDecision",
    "TextEmbedding",
]

"""Which decided comments deserve a reply, and the reply a community manager would write. Pure.

A draft answers in the commenter's language, from the community's knowledge base when an entry fits,
in the community's tone (French `vous` or `tu`, greeting, signature, emoji), and says why it exists:
the intent, the entry and its score, the template. Spam and abuse never get one: a reply would only
draw attention to them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from vigie_shared.events.v1 import Action, DraftSource, ModerationDecided

from vigie_responder.domain.knowledge import Entry, Hit


class Intent(StrEnum):
    QUESTION = "question"
    COMPLAINT = "complaint"
    REQUEST = "request"
    PRAISE = "praise"
    OTHER = "other"


REPLY_LANGUAGES = ("fr", "en")

# Words and phrases after which our templates would read wrong in the other French register.
_QUESTION = re.compile(
    r"\?|^\s*(how|what|when|where|why|who|which|can|could|is|are|do|does|will)\b"
    r"|^\s*(comment|quand|où|pourquoi|qui|quel|quelle|quels|quelles|est-ce|peut-on|pouvez)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Tone:
    """How a community speaks. French `vous` unless it says `tu`; no emoji unless it wants them."""

    french_address: str = "vous"
    greeting: Mapping[str, str] = field(default_factory=dict)
    signature: Mapping[str, str] = field(default_factory=dict)
    emoji: bool = False

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any] | None) -> Tone:
        if not settings:
            return cls()
        return cls(
            french_address=settings.get("french_address", "vous"),
            greeting=dict(settings.get("greeting") or {}),
            signature=dict(settings.get("signature") or {}),
            emoji=bool(settings.get("emoji", False)),
        )


# Templates per language and French register; `{emoji}` is a trailing smile or nothing.
TEMPLATES: dict[str, dict[str, str]] = {
    "question": {
        "en": "Thanks for your question! Our team will get back to you here shortly.{emoji}",
        "fr:vous": "Merci pour votre question ! Notre équipe vous répond ici très vite.{emoji}",
        "fr:tu": "Merci pour ta question ! Notre équipe te répond ici très vite.{emoji}",
    },
    "request": {
        "en": "Thanks for your message! Our team is looking into it and will come back to you here.{emoji}",
        "fr:vous": "Merci pour votre message ! Notre équipe s'en occupe et revient vers vous ici.{emoji}",
        "fr:tu": "Merci pour ton message ! Notre équipe s'en occupe et revient vers toi ici.{emoji}",
    },
    "complaint": {
        "en": "We're sorry to read this, and we'd like to put it right. Could you send us a private"
        " message with your order details so we can look into it?",
        "fr:vous": "Nous sommes désolés de lire cela et nous voulons arranger les choses. Pouvez-vous"
        " nous écrire en message privé avec les détails de votre commande pour que nous regardions ?",
        "fr:tu": "Nous sommes désolés de lire ça et nous voulons arranger les choses. Peux-tu nous"
        " écrire en message privé avec les détails de ta commande pour que nous regardions ?",
    },
    "complaint_answer": {
        "en": "We're sorry for the trouble. {answer}",
        "fr:vous": "Nous sommes désolés pour ce désagrément. {answer}",
        "fr:tu": "Désolés pour ce désagrément. {answer}",
    },
    "praise": {
        "en": "Thank you so much for your kind words!{emoji}",
        "fr:vous": "Merci beaucoup pour votre message !{emoji}",
        "fr:tu": "Merci beaucoup pour ton message !{emoji}",
    },
}


@dataclass(frozen=True, slots=True)
class Draft:
    text: str
    source: DraftSource
    language: str
    intent: Intent = Intent.QUESTION
    kb_entry_id: str | None = None
    kb_score: float | None = None
    template: str | None = None
    needs_translation: bool = False


def wants_reply(decision: ModerationDecided, intent: Intent | None = None) -> bool:
    """Only comments left up, and only those a reply helps: never spam or abuse held for review."""
    if decision.action is not Action.ALLOW:
        return False
    if intent is None:
        return bool(_QUESTION.search(decision.text))
    return intent is not Intent.OTHER


def reply_language(comment_language: str) -> str:
    return comment_language if comment_language in REPLY_LANGUAGES else "en"


def _template(name: str, language: str, tone: Tone) -> str:
    variants = TEMPLATES[name]
    key = f"fr:{'tu' if tone.french_address == 'tu' else 'vous'}" if language == "fr" else "en"
    return variants[key]


def _dress(body: str, language: str, tone: Tone, limit: int | None) -> str:
    """Greeting, body, signature; cut at a sentence end when the platform's limit demands it."""
    smile = " 🙂" if tone.emoji else ""
    text = body.replace("{emoji}", smile)
    greeting = tone.greeting.get(language)
    signature = tone.signature.get(language)
    full = f"{greeting} {text}" if greeting else text
    if signature:
        full = f"{full}\n{signature}"
    return fit(full, limit)


def fit(text: str, limit: int | None) -> str:
    if limit is None or len(text) <= limit:
        return text
    cut = text[: limit - 1]
    end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "), cut.rfind("\n"))
    return cut[: end + 1].rstrip() if end >= limit // 3 else cut.rstrip() + "…"


def compose(
    *,
    intent: Intent,
    comment_language: str,
    hit: Hit | None,
    entry: Entry | None,
    tone: Tone,
    limit: int | None = None,
) -> Draft | None:
    """The draft for a comment, or None when a reply would not help."""
    language = reply_language(comment_language)
    if intent is Intent.OTHER:
        return None
    if (
        entry is not None
        and hit is not None
        and intent in (Intent.QUESTION, Intent.REQUEST, Intent.COMPLAINT)
    ):
        answer = entry.answers.get(language)
        needs_translation = answer is None
        if answer is None:
            # The entry speaks only the other language: the draft says so and waits for a human or
            # the LLM to translate it (see the responder's composer).
            answer = next(iter(entry.answers.values()))
        body = answer
        template = "kb_answer"
        if intent is Intent.COMPLAINT:
            body = _template("complaint_answer", language, tone).format(answer=answer)
            template = "complaint_answer"
        return Draft(
            text=_dress(body, language, tone, limit),
            source=DraftSource.FAQ,
            language=language,
            intent=intent,
            kb_entry_id=entry.entry_id,
            kb_score=round(hit.score, 4),
            template=template,
            needs_translation=needs_translation,
        )
    name = {
        Intent.QUESTION: "question",
        Intent.REQUEST: "request",
        Intent.COMPLAINT: "complaint",
        Intent.PRAISE: "praise",
    }[intent]
    return Draft(
        text=_dress(_template(name, language, tone), language, tone, limit),
        source=DraftSource.TEMPLATE,
        language=language,
        intent=intent,
        template=name,
    )


def draft_for(decision: ModerationDecided) -> Draft:
    """The draft without a knowledge base or intent model: a question gets the holding template."""
    drafted = compose(
        intent=Intent.QUESTION, comment_language=decision.language, hit=None, entry=None, tone=Tone()
    )
    assert drafted is not None
    return drafted

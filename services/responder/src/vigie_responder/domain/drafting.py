"""Which decided comments deserve a reply, and the first draft of it. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass

from vigie_shared.events.v1 import Action, DraftSource, ModerationDecided

_QUESTION = re.compile(
    r"\?|^\s*(how|what|when|where|why|who|which|can|could|is|are|do|does|will)\b"
    r"|^\s*(comment|quand|où|pourquoi|qui|quel|quelle|quels|quelles|est-ce|peut-on|pouvez)\b",
    re.IGNORECASE,
)

TEMPLATES = {
    "en": "Thanks for your question! Our team will get back to you here shortly.",
    "fr": "Merci pour votre question ! Notre équipe vous répond ici très vite.",
}


@dataclass(frozen=True, slots=True)
class Draft:
    text: str
    source: DraftSource
    language: str


def wants_reply(decision: ModerationDecided) -> bool:
    """Only comments left up that ask something: a reply to a hidden comment would draw attention to it."""
    return decision.action is Action.ALLOW and bool(_QUESTION.search(decision.text))


def draft_for(decision: ModerationDecided) -> Draft:
    language = decision.language if decision.language in TEMPLATES else "en"
    return Draft(text=TEMPLATES[language], source=DraftSource.TEMPLATE, language=language)

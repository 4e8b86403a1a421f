"""From a decided comment to the draft a moderator reviews: intent, knowledge base, tone, optional LLM."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from vigie_shared.events.v1 import Action, DraftSource, ModerationDecided, Platform

from vigie_responder.adapters.intent import MODELS_DIR, IntentModel
from vigie_responder.adapters.knowledge import KnowledgeStore
from vigie_responder.adapters.llm import ChatRewriter
from vigie_responder.domain.drafting import Draft, Intent, Tone, compose, reply_language
from vigie_responder.domain.knowledge import Hit, RetrievalParams

ReplyLimit = Callable[[Platform, str], int | None]


def load_retrieval_params(directory: Path = MODELS_DIR) -> RetrievalParams:
    """The threshold and lexical weight chosen on validation data (docs/models/knowledge-base.md)."""
    chosen = json.loads((directory / "retrieval.json").read_text())
    return RetrievalParams(
        threshold=float(chosen["threshold"]), lexical_weight=float(chosen["lexical_weight"])
    )


@dataclass(frozen=True, slots=True)
class Drafted:
    draft: Draft
    provenance: dict[str, object]


class Drafter:
    def __init__(
        self,
        knowledge: KnowledgeStore,
        intents: IntentModel,
        params: RetrievalParams,
        *,
        encoder_version: str,
        reply_limit: ReplyLimit | None = None,
        rewriter: ChatRewriter | None = None,
    ) -> None:
        self._knowledge = knowledge
        self.knowledge = knowledge
        self._intents = intents
        self.params = params
        self._encoder_version = encoder_version
        self._reply_limit = reply_limit
        self._rewriter = rewriter

    async def search(self, community: str, text: str, limit: int) -> list[Hit]:
        [vector] = await self._knowledge.embed([text])
        index = await self._knowledge.index(community)
        return index.search(vector, text, now=datetime.now(UTC), params=self.params, limit=limit)

    async def draft_all(self, decisions: Sequence[ModerationDecided]) -> list[Drafted | None]:
        """One embedding pass for the batch; None for a comment a reply would not help."""
        eligible = [d for d in decisions if d.action is Action.ALLOW and d.text.strip()]
        vectors = await self._knowledge.embed([d.text for d in eligible]) if eligible else np.zeros((0, 1))
        predicted = self._intents.predict(vectors) if eligible else []
        by_decision = {id(d): (vectors[n], predicted[n]) for n, d in enumerate(eligible)}
        results: list[Drafted | None] = []
        for decision in decisions:
            found = by_decision.get(id(decision))
            results.append(None if found is None else await self._draft(decision, found[0], *found[1]))
        return results

    async def _draft(
        self, decision: ModerationDecided, vector: np.ndarray, intent: Intent, confidence: float
    ) -> Drafted | None:
        community = decision.comment.community
        hit = entry = None
        if intent in (Intent.QUESTION, Intent.REQUEST, Intent.COMPLAINT):
            index = await self._knowledge.index(community)
            hits = index.search(vector, decision.text, now=datetime.now(UTC), params=self.params, limit=1)
            if hits:
                hit = hits[0]
                entry = index.entries[hit.entry_id]
        tone = Tone.from_settings(await self._knowledge.tone(community))
        limit = self._reply_limit(decision.comment.platform, community) if self._reply_limit else None
        draft = compose(
            intent=intent, comment_language=decision.language, hit=hit, entry=entry, tone=tone, limit=limit
        )
        if draft is None:
            return None
        llm_used, llm_note = False, None
        if self._rewriter is not None and entry is not None and draft.source is DraftSource.FAQ:
            language = reply_language(decision.language)
            grounded = entry.answers.get(language) or next(iter(entry.answers.values()))
            rewrite = await self._rewriter.rewrite(
                comment=decision.text,
                answer=grounded,
                language=language,
                limit=limit,
                tu=tone.french_address == "tu",
                translate=draft.needs_translation,
            )
            if rewrite.text is not None:
                draft = replace(draft, text=rewrite.text, source=DraftSource.LLM, needs_translation=False)
                llm_used = True
            else:
                llm_note = rewrite.reason
        provenance: dict[str, object] = {
            "intent": draft.intent.value,
            "intent_confidence": round(confidence, 4),
            "kb_entry_id": draft.kb_entry_id,
            "kb_score": draft.kb_score,
            "template": draft.template,
            "needs_translation": draft.needs_translation,
            "llm_used": llm_used,
            "llm_model": self._rewriter.model if llm_used and self._rewriter else None,
            "llm_note": llm_note,
            "model_versions": {"encoder": self._encoder_version, "intent": self._intents.version},
        }
        return Drafted(draft, provenance)

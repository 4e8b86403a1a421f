"""Optional rewriting of a grounded answer by any OpenAI-compatible chat-completions endpoint.

Off unless `VIGIE_LLM_URL` is set. What is sent: the knowledge-base answer and the comment with its
contact and payment details redacted; never a name or an id. What comes back becomes the draft only
if it passes every check (language, the platform's length, nothing the entry does not say); on a
timeout, an error or a failed check the template draft stands and the draft records why.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx
import py3langid
import structlog
from pydantic import SecretStr
from vigie_shared.redact import redact_text

from vigie_responder.domain.grounding import ungrounded

log = structlog.get_logger("vigie.responder.llm")

LANGUAGE_NAMES = {"fr": "French", "en": "English"}


@dataclass(frozen=True, slots=True)
class Rewrite:
    text: str | None
    reason: str | None  # why the template stands when text is None


class ChatRewriter:
    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        url: str,
        model: str,
        api_key: SecretStr | None,
        timeout: float,
    ) -> None:
        self._client = client
        self._url = url.rstrip("/") + "/chat/completions"
        self._model = model
        self._api_key = api_key
        self._timeout = timeout
        self.model = model

    async def rewrite(
        self,
        *,
        comment: str,
        answer: str,
        language: str,
        limit: int | None,
        tu: bool,
        translate: bool,
    ) -> Rewrite:
        target = LANGUAGE_NAMES.get(language, "English")
        register = " Address the reader with 'tu'." if language == "fr" and tu else ""
        if language == "fr" and not tu:
            register = " Address the reader with 'vous'."
        task = "Translate and adapt" if translate else "Adapt"
        system = (
            f"You write short replies for a community manager. {task} the ANSWER so it replies to the"
            f" COMMENT, in {target}.{register} Use only facts from the ANSWER: add no link, phone"
            " number, price, date or promise it does not contain. Reply with the text only."
        )
        if limit is not None:
            system += f" At most {limit} characters."
        user = f"COMMENT: {redact_text(comment, None)}\nANSWER: {answer}"
        headers = {"Authorization": f"Bearer {self._api_key.get_secret_value()}"} if self._api_key else {}
        try:
            # httpx's timeouts bound each read; a server that trickles bytes needs a total deadline.
            async with asyncio.timeout(self._timeout):
                response = await self._client.post(
                    self._url,
                    json={
                        "model": self._model,
                        "messages": [
                            {"role": "system", "content": system},
                            {"role": "user", "content": user},
                        ],
                        "temperature": 0.2,
                    },
                    headers=headers,
                    timeout=self._timeout,
                )
            response.raise_for_status()
            text = str(response.json()["choices"][0]["message"]["content"]).strip()
        except (httpx.TimeoutException, TimeoutError):
            return Rewrite(None, "llm timeout")
        except (httpx.HTTPError, KeyError, IndexError, TypeError, ValueError) as error:
            log.warning("llm_failed", error=type(error).__name__)
            return Rewrite(None, f"llm error: {type(error).__name__}")
        return Rewrite(*check(text, answer, language, limit))


def check(candidate: str, grounded: str, language: str, limit: int | None) -> tuple[str | None, str | None]:
    if not candidate:
        return None, "llm answered nothing"
    if limit is not None and len(candidate) > limit:
        return None, f"llm reply longer than {limit} characters"
    detected, _ = py3langid.classify(candidate)
    if language in LANGUAGE_NAMES and detected != language:
        return None, f"llm reply in {detected}, not {language}"
    reason = ungrounded(candidate, grounded)
    if reason is not None:
        return None, f"llm reply rejected: {reason}"
    return candidate, None

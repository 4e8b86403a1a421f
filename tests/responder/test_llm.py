"""The optional LLM rewrite against a local fake: used only when it keeps to the entry."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr
from vigie_responder.adapters.llm import ChatRewriter

from tests.responder.fake_llm import FakeChat

ANSWER = "We deliver in 2 to 3 working days across France and Belgium."


@pytest.fixture
async def chat() -> AsyncIterator[tuple[FakeChat, ChatRewriter]]:
    fake = FakeChat()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(fake.app), base_url="http://llm") as client:
        yield (
            fake,
            ChatRewriter(
                client,
                url="http://llm/v1",
                model="local-model",
                api_key=SecretStr("sk-test-key"),
                timeout=0.3,
            ),
        )


async def rewrite(rewriter: ChatRewriter, **kwargs: object) -> tuple[str | None, str | None]:
    values: dict[str, object] = {
        "comment": "Vous livrez en combien de jours ? écrivez-moi à camille@example.org ou au 06 12 34 56 78",
        "answer": ANSWER,
        "language": "fr",
        "limit": 500,
        "tu": False,
        "translate": True,
        **kwargs,
    }
    result = await rewriter.rewrite(**values)  # type: ignore[arg-type]
    return result.text, result.reason


async def test_a_faithful_translation_becomes_the_draft_and_nothing_personal_was_sent(
    chat: tuple[FakeChat, ChatRewriter],
) -> None:
    fake, rewriter = chat
    fake.reply("Nous livrons en 2 à 3 jours ouvrés en France et en Belgique.")
    text, reason = await rewrite(rewriter)
    assert (text, reason) == ("Nous livrons en 2 à 3 jours ouvrés en France et en Belgique.", None)
    [sent] = fake.requests
    assert sent["authorization"] == "Bearer sk-test-key"
    sent_text = str(sent["body"]["messages"])
    assert "camille@example.org" not in sent_text
    assert "06 12 34 56 78" not in sent_text
    assert ANSWER in sent_text


@pytest.mark.parametrize(
    ("scripted", "expected_reason"),
    [
        ("Nous livrons en 2 à 3 jours pour seulement 4,90 €.", "price"),
        ("Nous livrons en 2 à 3 jours, détails sur https://shop.example/livraison.", "url"),
        ("We deliver in 2 to 3 working days across France and Belgium.", "not fr"),
        ("x" * 600, "longer than 500"),
    ],
)
async def test_a_rewrite_that_invents_or_strays_leaves_the_template(
    chat: tuple[FakeChat, ChatRewriter], scripted: str, expected_reason: str
) -> None:
    fake, rewriter = chat
    fake.reply(scripted)
    text, reason = await rewrite(rewriter)
    assert text is None
    assert reason is not None
    assert expected_reason in reason


async def test_errors_and_slowness_leave_the_template(chat: tuple[FakeChat, ChatRewriter]) -> None:
    fake, rewriter = chat
    fake.fail(503)
    assert await rewrite(rewriter) == (None, "llm error: HTTPStatusError")
    fake.stall(2.0)
    assert await rewrite(rewriter) == (None, "llm timeout")

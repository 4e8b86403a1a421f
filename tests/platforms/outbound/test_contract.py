"""The same promises from every platform's client, each against the fake of its documented API."""

from __future__ import annotations

import logging

import pytest
from vigie_platforms.outbound import Done, Failed, Operation, OutboundClients, RetryAfter

from tests.platforms.outbound.conftest import Case, fake_for
from tests.platforms.outbound.fakes import TOKENS, FakePlatforms

TEXT = "Bonjour ! Pour réinitialiser votre mot de passe, ouvrez Paramètres > Sécurité & <compte>."
KEY = "draft-0001:reply"


async def _reply(
    clients: OutboundClients, case: Case, *, ambiguous: bool = False, text: str = TEXT
) -> object:
    client = clients[case.platform]
    credentials = clients.credentials.get(case.platform, case.ref.community)
    assert credentials is not None
    return await client.reply(
        case.ref, text, credentials=credentials, idempotency_key=KEY, previously_ambiguous=ambiguous
    )


async def _moderate(clients: OutboundClients, case: Case, operation: Operation) -> object:
    credentials = clients.credentials.get(case.platform, case.ref.community)
    assert credentials is not None
    return await clients[case.platform].moderate(
        operation, case.ref, credentials=credentials, idempotency_key=f"{KEY}:{operation.value}"
    )


async def test_a_reply_lands_in_the_comments_thread_with_the_exact_words(
    case: Case, clients: OutboundClients, fakes: FakePlatforms
) -> None:
    fake = fake_for(fakes, case)
    outcome = await _reply(clients, case)
    assert len(fake.posted) == 1
    posted = fake.posted[0]
    assert outcome == Done(posted.id)
    assert (posted.text, posted.target, posted.thread) == (TEXT, case.reply_target, case.reply_thread)


async def test_a_server_error_is_retried_later_and_flagged_ambiguous(
    case: Case, clients: OutboundClients, fakes: FakePlatforms
) -> None:
    fake = fake_for(fakes, case)
    fake.fail_next(503, on="reply")
    outcome = await _reply(clients, case)
    assert isinstance(outcome, RetryAfter)
    assert outcome.ambiguous and outcome.seconds > 0
    assert fake.posted == []
    assert isinstance(await _reply(clients, case), Done)
    assert len(fake.posted) == 1


async def test_a_rate_limit_is_honoured_for_as_long_as_the_platform_asks(
    case: Case, clients: OutboundClients, fakes: FakePlatforms
) -> None:
    fake = fake_for(fakes, case)
    fake.fail_next(429, retry_after=120, on="reply")
    outcome = await _reply(clients, case)
    assert isinstance(outcome, RetryAfter)
    assert not outcome.ambiguous
    assert outcome.reason.startswith("rate_limited")
    assert 119 <= outcome.seconds <= 181
    assert fake.posted == []


async def test_an_expired_token_is_a_permanent_failure(
    case: Case, clients: OutboundClients, fakes: FakePlatforms
) -> None:
    fake = fake_for(fakes, case)
    fake.fail_next("expired_token", 5)
    assert await _reply(clients, case) == Failed("token_invalid")
    for operation in case.moderation:
        assert await _moderate(clients, case, operation) == Failed("token_invalid")
    assert fake.posted == [] and fake.actions == []


async def test_a_comment_gone_fails_a_reply(
    case: Case, clients: OutboundClients, fakes: FakePlatforms
) -> None:
    fake = fake_for(fakes, case)
    fake.fail_next("gone")
    assert await _reply(clients, case) == Failed("object_gone")
    assert fake.posted == []


async def test_a_comment_gone_counts_as_hidden_or_deleted(
    case: Case, clients: OutboundClients, fakes: FakePlatforms
) -> None:
    fake = fake_for(fakes, case)
    for operation in case.moderation:
        if operation in (Operation.BAN, Operation.TIMEOUT):
            continue  # nobody left to sanction: see test_platform_rules
        fake.fail_next("gone", on=operation.value)
        assert await _moderate(clients, case, operation) == Done(), operation
    assert fake.actions == []


async def test_a_timeout_after_sending_is_ambiguous(
    case: Case, clients: OutboundClients, fakes: FakePlatforms
) -> None:
    fake = fake_for(fakes, case)
    fake.fail_next("timeout", on="reply")
    outcome = await _reply(clients, case)
    assert isinstance(outcome, RetryAfter)
    assert (outcome.reason, outcome.ambiguous) == ("timeout", True)
    assert len(fake.posted) == 1  # the platform did post: only the answer was lost


async def test_retrying_an_ambiguous_reply_does_not_post_twice_where_the_platform_allows(
    case: Case, clients: OutboundClients, fakes: FakePlatforms
) -> None:
    fake = fake_for(fakes, case)
    fake.fail_next("timeout", on="reply")
    first = await _reply(clients, case)
    assert isinstance(first, RetryAfter) and first.ambiguous
    second = await _reply(clients, case, ambiguous=True)
    assert isinstance(second, Done)
    if case.no_second_post:
        assert [p.id for p in fake.posted] == [second.platform_id]
    else:
        # Documented residual risk (docs/platforms.md): nothing to look the first reply up with.
        assert len(fake.posted) == 2


async def test_ambiguity_persists_until_an_answer_settles_it(
    case: Case, clients: OutboundClients, fakes: FakePlatforms
) -> None:
    fake = fake_for(fakes, case)
    fake.fail_next(429, retry_after=5)  # whichever call comes first: the lookup, or the post itself
    outcome = await _reply(clients, case, ambiguous=True)
    assert isinstance(outcome, RetryAfter) and outcome.ambiguous
    assert fake.posted == []


async def test_an_ambiguous_retry_posts_when_nothing_was_posted(
    case: Case, clients: OutboundClients, fakes: FakePlatforms
) -> None:
    fake = fake_for(fakes, case)
    outcome = await _reply(clients, case, ambiguous=True)
    assert isinstance(outcome, Done)
    assert [p.id for p in fake.posted] == [outcome.platform_id]


async def test_each_supported_moderation_reaches_the_comment(
    case: Case, clients: OutboundClients, fakes: FakePlatforms
) -> None:
    fake = fake_for(fakes, case)
    for operation in case.moderation:
        assert clients[case.platform].supports(operation)
        assert await _moderate(clients, case, operation) == Done(), operation
    assert [(a.operation, a.target) for a in fake.actions] == [
        (operation.value, case.action_target(operation)) for operation in case.moderation
    ]


async def test_unsupported_operations_are_refused_without_a_call(
    case: Case, clients: OutboundClients, fakes: FakePlatforms
) -> None:
    fake = fake_for(fakes, case)
    refused = [op for op in Operation if op is not Operation.REPLY and op not in case.moderation]
    for operation in refused:
        assert not clients[case.platform].supports(operation)
        assert await _moderate(clients, case, operation) == Failed(f"unsupported_operation:{operation.value}")
    assert fake.calls == []


async def test_a_text_over_the_platforms_limit_is_refused_before_any_call(
    case: Case, clients: OutboundClients, fakes: FakePlatforms
) -> None:
    fake = fake_for(fakes, case)
    credentials = clients.credentials.get(case.platform, case.ref.community)
    limit = clients[case.platform].max_reply_length(credentials)
    outcome = await _reply(clients, case, text="x" * (limit + 1))
    assert outcome == Failed(f"text_too_long:{limit}")
    assert fake.posted == [] and fake.calls == []
    assert isinstance(await _reply(clients, case, text="x" * limit), Done)


async def test_no_token_in_outcomes_or_logs(
    case: Case, clients: OutboundClients, fakes: FakePlatforms, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake = fake_for(fakes, case)
    outcomes: list[object] = [await _reply(clients, case)]
    for fault in (503, 429, "expired_token", "gone", "timeout", "forbidden"):
        fake.fail_next(fault, on="reply")
        outcomes.append(await _reply(clients, case, ambiguous=fault == "timeout"))
    for operation in case.moderation:
        fake.fail_next("forbidden", on=operation.value)
        outcomes.append(await _moderate(clients, case, operation))
    credentials = clients.credentials.get(case.platform, case.ref.community)
    rendered = (
        " ".join(repr(o) for o in outcomes)
        + repr(credentials)
        + str(credentials)
        + repr(clients[case.platform])
    )
    rendered += caplog.text
    assert any(record.name == "httpx" for record in caplog.records)  # the requests were logged...
    for secret in TOKENS.values():
        assert secret not in rendered  # ...without a secret
    for outcome in outcomes:
        if isinstance(outcome, Failed):
            assert outcome.reason != "unexpected_answer"

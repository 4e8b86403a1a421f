"""Each platform's own documented answers, classified as its client promises."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from vigie_platforms.outbound import (
    CredentialStore,
    Done,
    Failed,
    Operation,
    OutboundClients,
    PlatformSettings,
    RetryAfter,
    make_credentials,
)
from vigie_shared.events.v1 import CommentRef, Platform

from tests.platforms.outbound.conftest import CASES, Case
from tests.platforms.outbound.fakes import COMMUNITIES, TOKENS, FakePlatforms, Posted

TEXT = "Merci pour votre question !"


def case_of(platform: Platform) -> Case:
    return next(case for case in CASES if case.platform is platform)


async def reply(
    clients: OutboundClients, ref: CommentRef, *, text: str = TEXT, key: str = "k1", ambiguous: bool = False
) -> object:
    credentials = clients.credentials.get(ref.platform, ref.community)
    assert credentials is not None
    return await clients[ref.platform].reply(
        ref, text, credentials=credentials, idempotency_key=key, previously_ambiguous=ambiguous
    )


async def moderate(clients: OutboundClients, ref: CommentRef, operation: Operation) -> object:
    credentials = clients.credentials.get(ref.platform, ref.community)
    assert credentials is not None
    return await clients[ref.platform].moderate(operation, ref, credentials=credentials, idempotency_key="m1")


# -- Meta Graph API ------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [1, 2])
async def test_graph_temporary_errors_are_retried_and_ambiguous_for_a_reply(
    code: int, clients: OutboundClients, fakes: FakePlatforms
) -> None:
    fakes.graph.fail_next("graph_code", code=code)
    outcome = await reply(clients, case_of(Platform.FACEBOOK).ref)
    assert isinstance(outcome, RetryAfter) and outcome.ambiguous
    assert outcome.reason == f"graph_transient:{code}"


@pytest.mark.parametrize("code", [4, 17, 32, 341, 613, 80001])
async def test_graph_rate_limits_are_retried_and_never_ambiguous(
    code: int, clients: OutboundClients, fakes: FakePlatforms
) -> None:
    fakes.graph.fail_next("graph_code", code=code)
    outcome = await reply(clients, case_of(Platform.INSTAGRAM).ref)
    assert outcome == RetryAfter(30.0, f"rate_limited:{code}", ambiguous=False)


@pytest.mark.parametrize(
    ("code", "reason"), [(190, "token_invalid"), (10, "permission_denied:10"), (368, "graph_error:368")]
)
async def test_graph_permanent_errors(
    code: int, reason: str, clients: OutboundClients, fakes: FakePlatforms
) -> None:
    fakes.graph.fail_next("graph_code", code=code)
    assert await moderate(clients, case_of(Platform.FACEBOOK).ref, Operation.HIDE) == Failed(reason)


async def test_graph_5xx_without_an_error_body_is_transient(
    clients: OutboundClients, fakes: FakePlatforms
) -> None:
    fakes.graph.fail_next("graph_code", code=2, http=502)
    outcome = await moderate(clients, case_of(Platform.FACEBOOK).ref, Operation.DELETE)
    assert isinstance(outcome, RetryAfter) and not outcome.ambiguous  # a delete repeated is harmless


async def test_graph_lookup_ignores_someone_elses_identical_reply(
    clients: OutboundClients, fakes: FakePlatforms
) -> None:
    ref = case_of(Platform.INSTAGRAM).ref
    fakes.graph.posted.append(
        Posted("someone", ref.comment_id, ref.comment_id, TEXT, {"edge": "replies", "author": "x"})
    )
    outcome = await reply(clients, ref, ambiguous=True)
    assert isinstance(outcome, Done) and outcome.platform_id != "someone"
    assert len(fakes.graph.posted) == 2
    assert [c.op for c in fakes.graph.calls] == ["lookup", "reply"]


async def test_deleting_twice_on_facebook_is_done_both_times(
    clients: OutboundClients, fakes: FakePlatforms
) -> None:
    ref = case_of(Platform.FACEBOOK).ref
    assert await moderate(clients, ref, Operation.DELETE) == Done()
    assert await moderate(clients, ref, Operation.DELETE) == Done()  # Graph: object does not exist
    assert len(fakes.graph.actions) == 1


# -- YouTube -------------------------------------------------------------------------------------


async def test_youtube_quota_exceeded_waits_until_midnight_pacific(fakes: FakePlatforms) -> None:
    noon_pacific = datetime(2026, 12, 2, 20, 0, tzinfo=UTC)  # 12:00 PST
    clients = OutboundClients.from_settings(
        PlatformSettings(**fakes.settings_values()),  # type: ignore[arg-type]
        transport=fakes.transport,
        credentials=CredentialStore.from_data(fakes.credentials_entries()),
        clock=lambda: noon_pacific,
    )
    try:
        fakes.youtube.fail_next("quota")
        outcome = await reply(clients, case_of(Platform.YOUTUBE).ref)
        assert outcome == RetryAfter(12 * 3600.0, "quota_exceeded", ambiguous=False)
    finally:
        await clients.aclose()


async def test_youtube_ban_rejects_with_ban_author_and_needs_the_comment(
    clients: OutboundClients, fakes: FakePlatforms
) -> None:
    ref = case_of(Platform.YOUTUBE).ref
    assert await moderate(clients, ref, Operation.BAN) == Done()
    assert fakes.youtube.actions[-1].extra == {"moderationStatus": "rejected"}
    assert fakes.youtube.actions[-1].operation == "ban"
    fakes.youtube.fail_next("gone")
    assert await moderate(clients, ref, Operation.BAN) == Failed("object_gone")


async def test_youtube_quota_costs_are_the_documented_ones(
    clients: OutboundClients, fakes: FakePlatforms
) -> None:
    ref = case_of(Platform.YOUTUBE).ref
    credentials = clients.credentials.get(Platform.YOUTUBE, ref.community)
    assert credentials is not None
    (quota,) = clients[Platform.YOUTUBE].limits(ref, credentials)
    assert (quota.rate, quota.period, quota.cost, quota.resets_daily_in) == (
        10_000,
        86_400,
        50,
        "America/Los_Angeles",
    )
    await reply(clients, ref)
    await reply(clients, ref, ambiguous=True, key="k2")  # a lookup (1 unit) finds the first reply
    assert fakes.youtube.units == 51


# -- Discord -------------------------------------------------------------------------------------


async def test_discord_403_is_never_retried(clients: OutboundClients, fakes: FakePlatforms) -> None:
    fakes.discord.fail_next(403)
    outcome = await reply(clients, case_of(Platform.DISCORD).ref)
    assert outcome == Failed("forbidden:50013")
    assert len(fakes.discord.calls) == 1


async def test_discord_nonce_makes_a_repeat_return_the_first_message(
    clients: OutboundClients, fakes: FakePlatforms
) -> None:
    ref = case_of(Platform.DISCORD).ref
    first = await reply(clients, ref, key="draft-9")
    second = await reply(clients, ref, key="draft-9")  # not even flagged ambiguous
    assert first == second and len(fakes.discord.posted) == 1
    third = await reply(clients, ref, key="draft-10")
    assert third != first and len(fakes.discord.posted) == 2


async def test_discord_rate_limit_reads_the_body_and_scope(
    clients: OutboundClients, fakes: FakePlatforms
) -> None:
    fakes.discord.fail_next(429, retry_after=2.5)
    outcome = await reply(clients, case_of(Platform.DISCORD).ref)
    assert outcome == RetryAfter(2.5, "rate_limited:user", ambiguous=False)


async def test_discord_lookup_asks_who_the_bot_is_once(
    clients: OutboundClients, fakes: FakePlatforms
) -> None:
    ref = case_of(Platform.DISCORD).ref
    await reply(clients, ref, ambiguous=True, key="a")
    await reply(clients, ref, ambiguous=True, key="b", text="autre chose")
    assert len(fakes.discord.calls_to("identity")) == 1
    assert len(fakes.discord.posted) == 2


# -- Slack ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ("invalid_auth", Failed("token_invalid")),
        ("token_revoked", Failed("token_invalid")),
        ("is_archived", Failed("slack:is_archived")),
        ("not_in_channel", Failed("slack:not_in_channel")),
        ("internal_error", RetryAfter(5.0, "slack:internal_error", ambiguous=True)),
        ("fatal_error", RetryAfter(5.0, "slack:fatal_error", ambiguous=True)),
        ("service_unavailable", RetryAfter(5.0, "slack:service_unavailable", ambiguous=False)),
        ("ratelimited", RetryAfter(30.0, "rate_limited", ambiguous=False)),
    ],
)
async def test_slack_error_strings(
    error: str, expected: object, clients: OutboundClients, fakes: FakePlatforms
) -> None:
    fakes.slack.fail_next("slack_error", on="reply", error=error)
    assert await reply(clients, case_of(Platform.SLACK).ref) == expected


async def test_slack_text_is_escaped_on_the_wire(clients: OutboundClients, fakes: FakePlatforms) -> None:
    ref = CommentRef(
        platform=Platform.SLACK, community="T0FAKE", thread_id="C0FAKE", comment_id="1764460800.000300"
    )
    outcome = await reply(clients, ref, text="a < b & c > d")
    assert isinstance(outcome, Done)
    assert fakes.slack.raw_texts == ["a &lt; b &amp; c &gt; d"]
    # A message without a thread opens one under itself.
    assert fakes.slack.posted[0].target == "1764460800.000300"


async def test_slack_delete_uses_the_admin_user_token_when_given(fakes: FakePlatforms) -> None:
    values = {"bot_token": TOKENS["slack"], "user_token": TOKENS["slack_user"]}
    store = CredentialStore([make_credentials(Platform.SLACK, "T0FAKE", values)])
    clients = OutboundClients.from_settings(
        PlatformSettings(**fakes.settings_values()),  # type: ignore[arg-type]
        transport=fakes.transport,
        credentials=store,
    )
    try:
        assert await moderate(clients, case_of(Platform.SLACK).ref, Operation.DELETE) == Done()
        assert fakes.slack.actions[0].extra["token"] == TOKENS["slack_user"]
    finally:
        await clients.aclose()


# -- Telegram ------------------------------------------------------------------------------------


async def test_telegram_migrated_group_is_permanent(clients: OutboundClients, fakes: FakePlatforms) -> None:
    fakes.telegram.fail_next("migrated")
    assert await reply(clients, case_of(Platform.TELEGRAM).ref) == Failed("chat_migrated")


async def test_telegram_outside_a_forum_replies_in_the_chat(
    clients: OutboundClients, fakes: FakePlatforms
) -> None:
    chat = COMMUNITIES[Platform.TELEGRAM]
    ref = CommentRef(platform=Platform.TELEGRAM, community=chat, thread_id=chat, comment_id="43")
    outcome = await reply(clients, ref)
    assert isinstance(outcome, Done)
    assert (fakes.telegram.posted[0].thread, fakes.telegram.posted[0].target) == (chat, "43")


async def test_telegram_ids_that_are_not_numbers_are_refused_without_a_call(
    clients: OutboundClients, fakes: FakePlatforms
) -> None:
    chat = COMMUNITIES[Platform.TELEGRAM]
    ref = CommentRef(platform=Platform.TELEGRAM, community=chat, thread_id=chat, comment_id="not-a-number")
    assert await reply(clients, ref) == Failed("bad_reference")
    assert fakes.telegram.calls == []


async def test_telegram_bot_kicked_is_forbidden(clients: OutboundClients, fakes: FakePlatforms) -> None:
    fakes.telegram.fail_next("forbidden")
    assert await moderate(clients, case_of(Platform.TELEGRAM).ref, Operation.DELETE) == Failed("forbidden")


# -- Twitch --------------------------------------------------------------------------------------


async def test_twitch_dropped_message_is_permanent(clients: OutboundClients, fakes: FakePlatforms) -> None:
    fakes.twitch.fail_next("dropped", code="automod_held")
    assert await reply(clients, case_of(Platform.TWITCH).ref) == Failed("dropped:automod_held")


async def test_twitch_sends_and_moderates_as_the_configured_accounts(
    clients: OutboundClients, fakes: FakePlatforms
) -> None:
    ref = case_of(Platform.TWITCH).ref
    assert isinstance(await reply(clients, ref), Done)
    assert await moderate(clients, ref, Operation.DELETE) == Done()
    assert fakes.twitch.posted[0].extra["sender_id"] == "900001"
    assert fakes.twitch.actions[0].extra == {"broadcaster_id": ref.community, "moderator_id": "900001"}


# -- Mastodon ------------------------------------------------------------------------------------


async def test_mastodon_422_is_permanent(clients: OutboundClients, fakes: FakePlatforms) -> None:
    fakes.mastodon.fail_next(422)
    assert await reply(clients, case_of(Platform.MASTODON).ref) == Failed("text_too_long")


async def test_mastodon_reads_the_instance_limit_once(clients: OutboundClients, fakes: FakePlatforms) -> None:
    fakes.mastodon.max_characters = 1_000
    ref = case_of(Platform.MASTODON).ref
    credentials = clients.credentials.get(Platform.MASTODON, ref.community)
    assert clients[Platform.MASTODON].max_reply_length(credentials) == 500  # not asked yet
    assert isinstance(await reply(clients, ref, text="é" * 900, key="a"), Done)
    assert isinstance(await reply(clients, ref, text="ok", key="b"), Done)
    assert await reply(clients, ref, text="x" * 1_001, key="c") == Failed("text_too_long:1000")
    assert clients[Platform.MASTODON].max_reply_length(credentials) == 1_000
    assert fakes.mastodon.instance_reads == 1


async def test_mastodon_limit_from_credentials_skips_the_instance(fakes: FakePlatforms) -> None:
    values = {**fakes.credentials_values(Platform.MASTODON), "max_characters": "5000"}
    store = CredentialStore([make_credentials(Platform.MASTODON, "mastodon.fake", values)])
    clients = OutboundClients.from_settings(
        PlatformSettings(**fakes.settings_values()),  # type: ignore[arg-type]
        transport=fakes.transport,
        credentials=store,
    )
    try:
        fakes.mastodon.max_characters = 5_000
        assert isinstance(await reply(clients, case_of(Platform.MASTODON).ref, text="x" * 4_000), Done)
        assert fakes.mastodon.instance_reads == 0
    finally:
        await clients.aclose()


async def test_mastodon_sends_the_idempotency_key(clients: OutboundClients, fakes: FakePlatforms) -> None:
    ref = case_of(Platform.MASTODON).ref
    first = await reply(clients, ref, key="draft-7")
    again = await reply(clients, ref, key="draft-7")
    assert first == again and len(fakes.mastodon.posted) == 1
    assert fakes.mastodon.posted[0].extra["idempotency_key"] == "draft-7"


# -- Generic -------------------------------------------------------------------------------------


async def test_generic_callbacks_are_signed_and_deduplicated(
    clients: OutboundClients, fakes: FakePlatforms
) -> None:
    ref = case_of(Platform.GENERIC).ref
    first = await reply(clients, ref, key="g1")
    again = await reply(clients, ref, key="g1")  # the receiver answers 409 with the same id
    assert isinstance(first, Done) and first == again
    fakes.generic.secret = "another-secret"
    assert await reply(clients, ref, key="g2") == Failed("token_invalid")


# -- Everyone ------------------------------------------------------------------------------------


async def test_a_wrong_platform_is_refused(clients: OutboundClients, fakes: FakePlatforms) -> None:
    slack_ref = case_of(Platform.SLACK).ref
    credentials = clients.credentials.get(Platform.SLACK, slack_ref.community)
    assert credentials is not None
    outcome = await clients[Platform.DISCORD].reply(
        slack_ref, TEXT, credentials=credentials, idempotency_key="k"
    )
    assert outcome == Failed("wrong_platform")


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
async def test_empty_text_is_refused(case: Case, clients: OutboundClients) -> None:
    assert await reply(clients, case.ref, text="  \n") == Failed("empty_text")


async def test_a_refused_connection_is_retried_and_not_ambiguous(fakes: FakePlatforms) -> None:
    values = {**fakes.settings_values(), "slack_api_url": "http://nowhere.fake/api"}
    clients = OutboundClients.from_settings(
        PlatformSettings(**values),  # type: ignore[arg-type]
        transport=fakes.transport,
        credentials=CredentialStore.from_data(fakes.credentials_entries()),
    )
    try:
        outcome = await reply(clients, case_of(Platform.SLACK).ref)
        assert outcome == RetryAfter(2.0, "connection_error", ambiguous=False)
    finally:
        await clients.aclose()


async def test_hand_built_credentials_missing_a_key_fail_without_a_call(
    clients: OutboundClients, fakes: FakePlatforms
) -> None:
    from pydantic import SecretStr
    from vigie_platforms.outbound import Credentials

    ref = case_of(Platform.MASTODON).ref
    partial = Credentials(Platform.MASTODON, ref.community, {"access_token": SecretStr(TOKENS["mastodon"])})
    outcome = await clients[Platform.MASTODON].reply(ref, TEXT, credentials=partial, idempotency_key="k")
    assert outcome == Failed("credentials_incomplete:instance_url")
    assert fakes.mastodon.calls == [] and fakes.mastodon.instance_reads == 0


def test_limits_of_a_malformed_telegram_reference_do_not_raise(clients: OutboundClients) -> None:
    ref = CommentRef(platform=Platform.TELEGRAM, community="@news", thread_id="@news", comment_id="x")
    credentials = clients.credentials.get(Platform.TELEGRAM, COMMUNITIES[Platform.TELEGRAM])
    assert credentials is not None
    keys = [limit.key for limit in clients[Platform.TELEGRAM].limits(ref, credentials)]
    assert keys[0] == "telegram:chat:@news" and len(keys) == 2


async def test_discord_timeout_reaches_the_author_for_the_configured_time(
    clients: OutboundClients, fakes: FakePlatforms
) -> None:
    ref = case_of(Platform.DISCORD).ref
    fakes.discord.authors[ref.comment_id] = "555000000000000777"
    before = datetime.now(UTC)
    assert await moderate(clients, ref, Operation.TIMEOUT) == Done()
    action = fakes.discord.actions[-1]
    assert (action.operation, action.target, action.extra["guild"]) == (
        "timeout",
        "555000000000000777",
        ref.community,
    )
    until = datetime.fromisoformat(action.extra["until"])
    assert 595 <= (until - before).total_seconds() <= 605
    assert action.extra["reason"]  # shows in the guild's audit log


async def test_discord_sanctions_need_a_message_and_a_guild(
    clients: OutboundClients, fakes: FakePlatforms
) -> None:
    ref = case_of(Platform.DISCORD).ref
    fakes.discord.gone.add(ref.comment_id)  # deleted, or a slash command's interaction id
    assert await moderate(clients, ref, Operation.BAN) == Failed("object_gone")
    fakes.discord.gone.clear()
    fakes.discord.left.add("555000000000000001")
    assert await moderate(clients, ref, Operation.TIMEOUT) == Failed("object_gone")
    direct = CommentRef(platform=Platform.DISCORD, community="c9", thread_id="c9", comment_id="m9")
    store = CredentialStore([make_credentials(Platform.DISCORD, "c9", {"bot_token": TOKENS["discord"]})])
    credentials = store.get(Platform.DISCORD, "c9")
    assert credentials is not None
    outcome = await clients[Platform.DISCORD].moderate(
        Operation.BAN, direct, credentials=credentials, idempotency_key="k"
    )
    assert outcome == Failed("unsupported_in_direct_messages:ban")
    assert fakes.discord.actions == []

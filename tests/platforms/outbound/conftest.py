"""Every platform's client against its fake, with one CommentRef per platform shaped as ingest makes it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest
from vigie_platforms.outbound import CredentialStore, Operation, OutboundClients, PlatformSettings
from vigie_shared.events.v1 import CommentRef, Platform

from tests.platforms.outbound.fakes import COMMUNITIES, FakePlatform, FakePlatforms
from tests.platforms.outbound.fakes.discord import DEFAULT_AUTHOR

SLACK_PARENT = "1764460800.000100"


def _no_setup(fakes: FakePlatforms) -> None:
    return None


def _slack_thread(fakes: FakePlatforms) -> None:
    # The comment is itself a reply in a thread: the answer must go to the thread's parent.
    fakes.slack.add_thread_reply("C0FAKE", SLACK_PARENT, "1764460800.000200")


@dataclass(frozen=True)
class Case:
    platform: Platform
    ref: CommentRef
    reply_target: str  # what the fake must record the reply as answering
    reply_thread: str  # where the fake must record it as landing
    moderation: tuple[Operation, ...]
    no_second_post: bool  # an ambiguous reply retried is found (lookup or native idempotency)
    setup: Callable[[FakePlatforms], None] = field(default=_no_setup)
    sanction_target: str | None = None  # whom a timeout or ban reaches (the author's user id)

    def action_target(self, operation: Operation) -> str:
        if operation in (Operation.TIMEOUT, Operation.BAN) and self.sanction_target is not None:
            return self.sanction_target
        return self.ref.comment_id

    @property
    def id(self) -> str:
        return self.platform.value


def _ref(platform: Platform, thread: str, comment: str) -> CommentRef:
    return CommentRef(
        platform=platform, community=COMMUNITIES[platform], thread_id=thread, comment_id=comment
    )


HIDE_DELETE = (Operation.HIDE, Operation.UNHIDE, Operation.DELETE)

CASES = [
    Case(
        Platform.FACEBOOK,
        _ref(Platform.FACEBOOK, "111111_222", "222_333"),
        "222_333",
        "222_333",
        HIDE_DELETE,
        True,
    ),
    Case(
        Platform.INSTAGRAM,
        _ref(Platform.INSTAGRAM, "17900000000000001", "17950000000000001"),
        "17950000000000001",
        "17950000000000001",
        HIDE_DELETE,
        True,
    ),
    Case(
        Platform.YOUTUBE,
        _ref(Platform.YOUTUBE, "video000001", "UgzTopLevel0001.AReply0002"),
        "UgzTopLevel0001",
        "UgzTopLevel0001",
        (*HIDE_DELETE, Operation.BAN),
        True,
    ),
    Case(
        Platform.DISCORD,
        _ref(Platform.DISCORD, "900000000000000002", "1100000000000000001"),
        "1100000000000000001",
        "900000000000000002",
        (
            Operation.TIMEOUT,
            Operation.BAN,
            Operation.DELETE,
        ),  # sanction first: a deleted message has no author
        True,
        sanction_target=DEFAULT_AUTHOR,
    ),
    Case(
        Platform.SLACK,
        _ref(Platform.SLACK, "C0FAKE", "1764460800.000200"),
        SLACK_PARENT,
        "C0FAKE",
        (Operation.DELETE,),
        True,
        _slack_thread,
    ),
    Case(
        Platform.TWITCH,
        _ref(Platform.TWITCH, COMMUNITIES[Platform.TWITCH], "885196de-cb67-427a-baa8-82f9b0fcd05f"),
        "885196de-cb67-427a-baa8-82f9b0fcd05f",
        COMMUNITIES[Platform.TWITCH],
        (Operation.DELETE,),
        False,
    ),
    Case(Platform.TELEGRAM, _ref(Platform.TELEGRAM, "77", "42"), "42", "77", (Operation.DELETE,), False),
    Case(
        Platform.MASTODON,
        _ref(Platform.MASTODON, "109000000000000001", "109000000000000002"),
        "109000000000000002",
        "109000000000000002",
        (),
        True,
    ),
    Case(
        Platform.GENERIC,
        _ref(Platform.GENERIC, "topic-7", "post-99"),
        "post-99",
        "topic-7",
        HIDE_DELETE,
        True,
    ),
]


@pytest.fixture
def fakes() -> FakePlatforms:
    return FakePlatforms()


@pytest.fixture
async def clients(fakes: FakePlatforms) -> AsyncIterator[OutboundClients]:
    built = OutboundClients.from_settings(
        PlatformSettings(**fakes.settings_values()),  # type: ignore[arg-type]
        transport=fakes.transport,
        credentials=CredentialStore.from_data(fakes.credentials_entries()),
    )
    yield built
    await built.aclose()


@pytest.fixture(params=CASES, ids=lambda case: case.id)
def case(request: pytest.FixtureRequest, fakes: FakePlatforms) -> Case:
    chosen: Case = request.param
    chosen.setup(fakes)
    return chosen


def fake_for(fakes: FakePlatforms, case: Case) -> FakePlatform:
    return fakes.for_platform(case.platform)

"""Fakes of every platform's write API, one Starlette app each, and a bundle to start them together.

    fakes = FakePlatforms()
    clients = OutboundClients.from_settings(
        PlatformSettings(**fakes.settings_values()),
        transport=fakes.transport,
        credentials=CredentialStore.from_data(fakes.credentials_entries()),
    )
    ...
    assert [p.text for p in fakes.slack.posted] == ["the approved words"]

`COMMUNITIES` names the community each platform's credentials are for, and `TOKENS` the secrets
the fakes accept (tests check none of them ever shows in a log line or an outcome).
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.routing import Mount
from vigie_shared.events.v1 import Platform

from tests.platforms.outbound.fakes.base import (
    Action,
    Call,
    FakePlatform,
    FakeRouter,
    FakeTransport,
    Posted,
)
from tests.platforms.outbound.fakes.discord import FakeDiscord
from tests.platforms.outbound.fakes.generic import FakeGeneric
from tests.platforms.outbound.fakes.graph import FakeGraph
from tests.platforms.outbound.fakes.mastodon import FakeMastodon
from tests.platforms.outbound.fakes.slack import FakeSlack
from tests.platforms.outbound.fakes.telegram import FakeTelegram
from tests.platforms.outbound.fakes.twitch import FakeTwitch
from tests.platforms.outbound.fakes.youtube import FakeYouTubeComments

COMMUNITIES: dict[Platform, str] = {
    Platform.FACEBOOK: "111111",
    Platform.INSTAGRAM: "17841400000001",
    Platform.YOUTUBE: "UCchannel0000000000000001",
    Platform.DISCORD: "900000000000000001",
    Platform.SLACK: "T0FAKE",
    Platform.TWITCH: "141981764",
    Platform.TELEGRAM: "-1001234567890",
    Platform.MASTODON: "mastodon.fake",
    Platform.GENERIC: "forum.example",
}

TOKENS: dict[str, str] = {
    "facebook": "EAAfacebook-page-token-0001",
    "instagram": "IGQinstagram-token-0002",
    "youtube": "ya29.youtube-oauth-token-0003",
    "discord": "MTA-discord-bot-token-0004",
    "slack": "xoxb-slack-bot-token-0005",
    "slack_user": "xoxp-slack-admin-token-0006",
    "twitch_client": "twitch-client-id-0007",
    "twitch": "twitch-access-token-0008",
    "telegram": "123456789:AAtelegram-bot-token-0009",
    "mastodon": "mastodon-access-token-0010",
    "generic": "generic-outbound-secret-0011",
}

DISCORD_BOT_ID = "1000000000000000042"
TWITCH_BOT_ID = "900001"


class FakePlatforms:
    """Every fake, each on its own host, behind one transport."""

    def __init__(self, *, hang_seconds: float = 30.0) -> None:
        owners = {
            TOKENS["facebook"]: COMMUNITIES[Platform.FACEBOOK],
            TOKENS["instagram"]: COMMUNITIES[Platform.INSTAGRAM],
        }
        self.graph = FakeGraph(owners=owners, hang_seconds=hang_seconds)
        self.youtube = FakeYouTubeComments(
            owners={TOKENS["youtube"]: COMMUNITIES[Platform.YOUTUBE]}, hang_seconds=hang_seconds
        )
        self.discord = FakeDiscord(bot_ids={TOKENS["discord"]: DISCORD_BOT_ID}, hang_seconds=hang_seconds)
        self.slack = FakeSlack(hang_seconds=hang_seconds)
        self.twitch = FakeTwitch(hang_seconds=hang_seconds)
        self.telegram = FakeTelegram(tokens={TOKENS["telegram"]}, hang_seconds=hang_seconds)
        self.mastodon = FakeMastodon(hang_seconds=hang_seconds)
        self.generic = FakeGeneric(secret=TOKENS["generic"], hang_seconds=hang_seconds)
        self.transport = FakeRouter(self.all())

    def all(self) -> list[FakePlatform]:
        return [
            self.graph,
            self.youtube,
            self.discord,
            self.slack,
            self.twitch,
            self.telegram,
            self.mastodon,
            self.generic,
        ]

    def for_platform(self, platform: Platform | str) -> FakePlatform:
        name = Platform(platform)
        if name in (Platform.FACEBOOK, Platform.INSTAGRAM):
            return self.graph
        fake: FakePlatform = getattr(self, name.value)
        return fake

    def app(self) -> Starlette:
        """Every fake in one ASGI app, each under `/<name>`: serve it on a real port with uvicorn."""
        return Starlette(routes=[Mount(f"/{fake.name}", app=fake.app) for fake in self.all()])

    def url(self, fake: FakePlatform, origin: str | None) -> str:
        """The fake's base URL: its own host in process, or `<origin>/<name>` behind `app()`."""
        return fake.base_url if origin is None else f"{origin.rstrip('/')}/{fake.name}{fake.prefix}"

    def settings_values(self, origin: str | None = None) -> dict[str, str]:
        """PlatformSettings fields pointing every platform at its fake."""
        return {
            "meta_graph_url": self.url(self.graph, origin),
            "youtube_api_url": self.url(self.youtube, origin),
            "discord_api_url": self.url(self.discord, origin),
            "slack_api_url": self.url(self.slack, origin),
            "twitch_api_url": self.url(self.twitch, origin),
            "telegram_api_url": self.url(self.telegram, origin),
        }

    def env(self, origin: str | None = None) -> dict[str, str]:
        """The same as VIGIE_* environment variables (for a service started in a subprocess)."""
        return {f"VIGIE_{key.upper()}": value for key, value in self.settings_values(origin).items()}

    def credentials_values(self, platform: Platform | str, origin: str | None = None) -> dict[str, str]:
        name = Platform(platform)
        values: dict[Platform, dict[str, str]] = {
            Platform.FACEBOOK: {"access_token": TOKENS["facebook"]},
            Platform.INSTAGRAM: {"access_token": TOKENS["instagram"]},
            Platform.YOUTUBE: {"access_token": TOKENS["youtube"]},
            Platform.DISCORD: {"bot_token": TOKENS["discord"]},
            Platform.SLACK: {"bot_token": TOKENS["slack"]},
            Platform.TWITCH: {
                "client_id": TOKENS["twitch_client"],
                "access_token": TOKENS["twitch"],
                "sender_id": TWITCH_BOT_ID,
                "moderator_id": TWITCH_BOT_ID,
            },
            Platform.TELEGRAM: {"bot_token": TOKENS["telegram"]},
            Platform.MASTODON: {
                "instance_url": self.url(self.mastodon, origin),
                "access_token": TOKENS["mastodon"],
            },
            Platform.GENERIC: {"url": self.url(self.generic, origin), "signing_secret": TOKENS["generic"]},
        }
        return values[name]

    def credentials_entries(
        self, communities: dict[Platform, str] | None = None, origin: str | None = None
    ) -> list[dict[str, Any]]:
        """The JSON list of a VIGIE_PLATFORM_CREDENTIALS_FILE with one community per platform."""
        chosen = communities or COMMUNITIES
        return [
            {
                "platform": platform.value,
                "community": community,
                "credentials": self.credentials_values(platform, origin),
            }
            for platform, community in chosen.items()
        ]


__all__ = [
    "COMMUNITIES",
    "DISCORD_BOT_ID",
    "TOKENS",
    "Action",
    "Call",
    "FakeDiscord",
    "FakeGeneric",
    "FakeGraph",
    "FakeMastodon",
    "FakePlatform",
    "FakePlatforms",
    "FakeRouter",
    "FakeSlack",
    "FakeTelegram",
    "FakeTransport",
    "FakeTwitch",
    "FakeYouTubeComments",
    "Posted",
]

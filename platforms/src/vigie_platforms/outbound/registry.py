"""Platform name -> client factory, with unique names, and the set of clients a service holds.

Names are unique because they are what events, job rows and metrics say: a second factory under a
known name is refused rather than silently replacing the first. The responder builds one
`OutboundClients` in its lifespan (`OutboundClients.from_settings(settings)`), asks it for a
platform's client per job, and closes it on shutdown (one HTTP pool shared by every client).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import httpx
from vigie_shared.events.v1 import Platform

from vigie_platforms.outbound.base import OutboundClient
from vigie_platforms.outbound.classify import utcnow
from vigie_platforms.outbound.client import Clock
from vigie_platforms.outbound.credentials import CredentialStore, load_credentials
from vigie_platforms.outbound.http import HttpPool
from vigie_platforms.outbound.settings import PlatformSettings


@dataclass(frozen=True, slots=True)
class ClientContext:
    settings: PlatformSettings
    http: HttpPool
    clock: Clock = utcnow


ClientFactory = Callable[[ClientContext], OutboundClient]


class DuplicatePlatform(ValueError):
    pass


class Registry:
    def __init__(self) -> None:
        self._factories: dict[Platform, ClientFactory] = {}

    def register(self, platform: Platform | str, factory: ClientFactory) -> None:
        name = Platform(platform)
        if name in self._factories:
            raise DuplicatePlatform(f"a client for {name.value!r} is already registered")
        self._factories[name] = factory

    def __contains__(self, platform: object) -> bool:
        return platform in self._factories

    def __iter__(self) -> Iterator[Platform]:
        return iter(self._factories)

    def __len__(self) -> int:
        return len(self._factories)

    def build(self, context: ClientContext) -> dict[Platform, OutboundClient]:
        return {platform: factory(context) for platform, factory in self._factories.items()}


def default_registry() -> Registry:
    """Every platform Vigie can act on; imported here, not at module load, to keep imports cheap."""
    from vigie_platforms.discord.outbound import DiscordClient
    from vigie_platforms.facebook.outbound import FacebookClient
    from vigie_platforms.generic.outbound import GenericClient
    from vigie_platforms.instagram.outbound import InstagramClient
    from vigie_platforms.mastodon.outbound import MastodonClient
    from vigie_platforms.slack.outbound import SlackClient
    from vigie_platforms.telegram.outbound import TelegramClient
    from vigie_platforms.twitch.outbound import TwitchClient
    from vigie_platforms.youtube.outbound import YouTubeClient

    registry = Registry()
    registry.register(
        Platform.FACEBOOK, lambda c: FacebookClient(c.http, c.settings.meta_graph_url, clock=c.clock)
    )
    registry.register(
        Platform.INSTAGRAM, lambda c: InstagramClient(c.http, c.settings.meta_graph_url, clock=c.clock)
    )
    registry.register(
        Platform.YOUTUBE, lambda c: YouTubeClient(c.http, c.settings.youtube_api_url, clock=c.clock)
    )
    registry.register(
        Platform.DISCORD, lambda c: DiscordClient(c.http, c.settings.discord_api_url, clock=c.clock)
    )
    registry.register(Platform.SLACK, lambda c: SlackClient(c.http, c.settings.slack_api_url, clock=c.clock))
    registry.register(
        Platform.TWITCH, lambda c: TwitchClient(c.http, c.settings.twitch_api_url, clock=c.clock)
    )
    registry.register(
        Platform.TELEGRAM, lambda c: TelegramClient(c.http, c.settings.telegram_api_url, clock=c.clock)
    )
    # Mastodon's and the generic source's base URLs come with each community's credentials.
    registry.register(Platform.MASTODON, lambda c: MastodonClient(c.http, clock=c.clock))
    registry.register(Platform.GENERIC, lambda c: GenericClient(c.http, clock=c.clock))
    return registry


class OutboundClients:
    """One client per platform over one HTTP pool, with the credentials they act with."""

    def __init__(
        self, clients: Mapping[Platform, OutboundClient], http: HttpPool, credentials: CredentialStore
    ) -> None:
        self._clients = dict(clients)
        self.http = http
        self.credentials = credentials

    @classmethod
    def from_settings(
        cls,
        settings: PlatformSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        registry: Registry | None = None,
        credentials: CredentialStore | None = None,
        clock: Clock = utcnow,
    ) -> OutboundClients:
        """Reads `VIGIE_PLATFORM_CREDENTIALS_FILE` unless `credentials` is given; raises CredentialsError."""
        store = (
            credentials if credentials is not None else load_credentials(settings.platform_credentials_file)
        )
        http = HttpPool(timeouts=settings.platform_timeouts(), transport=transport)
        context = ClientContext(settings=settings, http=http, clock=clock)
        return cls((registry or default_registry()).build(context), http, store)

    def get(self, platform: Platform | str) -> OutboundClient | None:
        try:
            return self._clients.get(Platform(platform))
        except ValueError:
            return None

    def __getitem__(self, platform: Platform | str) -> OutboundClient:
        client = self.get(platform)
        if client is None:
            raise KeyError(str(platform))
        return client

    def __iter__(self) -> Iterator[Platform]:
        return iter(self._clients)

    async def aclose(self) -> None:
        await self.http.aclose()

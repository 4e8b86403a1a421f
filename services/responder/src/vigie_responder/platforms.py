"""The platform clients and credentials the responder's dispatcher works with."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from vigie_platforms.outbound.base import Credentials, OutboundClient
from vigie_shared.events.v1 import Platform

from vigie_responder.dispatcher import PlatformDirectory
from vigie_responder.settings import ResponderSettings


class StaticDirectory:
    """Clients by platform and credentials by (platform, community), fixed for the process's life."""

    def __init__(
        self,
        clients: Mapping[Platform, OutboundClient],
        credentials: Mapping[tuple[Platform, str], Credentials],
    ) -> None:
        self._clients = dict(clients)
        self._credentials = dict(credentials)

    def client(self, platform: Platform) -> OutboundClient | None:
        return self._clients.get(platform)

    def credentials(self, platform: Platform, community: str) -> Credentials | None:
        return self._credentials.get((platform, community))


@asynccontextmanager
async def open_platforms(
    settings: ResponderSettings, *, given: PlatformDirectory | None = None
) -> AsyncIterator[PlatformDirectory]:
    if given is not None:
        yield given
        return
    yield StaticDirectory({}, {})

"""The platform clients and credentials the responder's dispatcher works with."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from vigie_platforms.outbound import Credentials, OutboundClient, OutboundClients
from vigie_shared.events.v1 import Platform

from vigie_responder.dispatcher import PlatformDirectory
from vigie_responder.settings import ResponderSettings


class ClientsDirectory:
    """The dispatcher's view of `OutboundClients`: a client per platform, credentials per community."""

    def __init__(self, clients: OutboundClients) -> None:
        self._clients = clients

    def client(self, platform: Platform) -> OutboundClient | None:
        return self._clients.get(platform)

    def credentials(self, platform: Platform, community: str) -> Credentials | None:
        return self._clients.credentials.get(platform, community)


@asynccontextmanager
async def open_platforms(
    settings: ResponderSettings, *, given: PlatformDirectory | OutboundClients | None = None
) -> AsyncIterator[PlatformDirectory]:
    """The clients from settings (the credentials file is read once, and a bad one stops start-up)."""
    if isinstance(given, OutboundClients):
        yield ClientsDirectory(given)
        return
    if given is not None:
        yield given
        return
    clients = OutboundClients.from_settings(settings)
    try:
        yield ClientsDirectory(clients)
    finally:
        await clients.aclose()

"""Outbound calls: typed outcomes, credentials, limits and the per-platform clients registry.

What the responder imports: `OutboundClients` (built from `PlatformSettings`, closed on shutdown),
the outcome types `Done | RetryAfter | Failed`, `Operation`, `Credentials` and the `OutboundClient`
protocol. Platform clients live in `vigie_platforms.<platform>.outbound`.
"""

from vigie_platforms.outbound.base import (
    BadReference,
    Credentials,
    Done,
    Failed,
    Limit,
    Operation,
    OutboundClient,
    Outcome,
    RetryAfter,
)
from vigie_platforms.outbound.credentials import (
    CredentialsError,
    CredentialStore,
    load_credentials,
    make_credentials,
)
from vigie_platforms.outbound.http import HttpPool, Timeouts
from vigie_platforms.outbound.registry import (
    ClientContext,
    DuplicatePlatform,
    OutboundClients,
    Registry,
    default_registry,
)
from vigie_platforms.outbound.settings import PlatformSettings

__all__ = [
    "BadReference",
    "ClientContext",
    "CredentialStore",
    "Credentials",
    "CredentialsError",
    "Done",
    "DuplicatePlatform",
    "Failed",
    "HttpPool",
    "Limit",
    "Operation",
    "OutboundClient",
    "OutboundClients",
    "Outcome",
    "PlatformSettings",
    "Registry",
    "RetryAfter",
    "Timeouts",
    "default_registry",
    "load_credentials",
    "make_credentials",
]

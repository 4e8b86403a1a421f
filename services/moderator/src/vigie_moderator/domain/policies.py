"""Where the handler gets a community's policies from: the live one, and an optional shadow candidate."""

from __future__ import annotations

from typing import Protocol

from vigie_moderator.domain.policy import DEFAULT_POLICY, Policy


class PolicySource(Protocol):
    async def live(self, community: str) -> Policy: ...

    async def shadow(self, community: str) -> Policy | None: ...


class StaticPolicies:
    """Every community gets the same policy and no shadow: a test double, and the fallback."""

    def __init__(self, policy: Policy = DEFAULT_POLICY) -> None:
        self._policy = policy

    async def live(self, community: str) -> Policy:
        return self._policy

    async def shadow(self, community: str) -> Policy | None:
        return None

"""Bearer tokens for humans and tools, stored hashed with their roles and communities."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field


class Role(StrEnum):
    MODERATOR = "moderator"
    AUDITOR = "auditor"
    PRIVACY = "privacy"
    ADMIN = "admin"


ALL_COMMUNITIES = "*"


class TokenEntry(BaseModel):
    name: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    roles: list[Role]
    communities: list[str] = Field(default_factory=lambda: [ALL_COMMUNITIES])


class TokenFile(BaseModel):
    tokens: list[TokenEntry]


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    roles: frozenset[Role]
    communities: frozenset[str]

    def has_any(self, roles: Iterable[Role]) -> bool:
        return Role.ADMIN in self.roles or any(role in self.roles for role in roles)

    def can_access(self, community: str) -> bool:
        return ALL_COMMUNITIES in self.communities or community in self.communities

    def community_filter(self) -> frozenset[str] | None:
        """None means every community."""
        return None if ALL_COMMUNITIES in self.communities else self.communities


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return "vgt_" + secrets.token_urlsafe(32)


class TokenStore:
    def __init__(self, entries: Iterable[TokenEntry]) -> None:
        self._by_hash = {entry.sha256: entry for entry in entries}

    @classmethod
    def from_file(cls, path: Path | None) -> TokenStore:
        if path is None:
            return cls([])
        return cls(TokenFile.model_validate_json(path.read_text()).tokens)

    def authenticate(self, token: str) -> Principal | None:
        # Looking up the digest, not the token, keeps the comparison independent of the secret.
        entry = self._by_hash.get(hash_token(token))
        if entry is None:
            return None
        return Principal(entry.name, frozenset(entry.roles), frozenset(entry.communities))


def write_token_file(path: Path, entries: list[TokenEntry]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(TokenFile(tokens=entries).model_dump(mode="json"), indent=2))
    path.chmod(0o600)


_bearer = HTTPBearer(auto_error=False, description="Vigie API token")


def require(*roles: Role) -> Callable[..., Principal]:
    """A dependency that authenticates the bearer token and checks one of the roles."""

    def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        if credentials is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "missing bearer token",
                headers={"WWW-Authenticate": "Bearer"},
            )
        store: TokenStore = request.app.state.tokens
        principal = store.authenticate(credentials.credentials)
        if principal is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "unknown token",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not principal.has_any(roles):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"needs one of the roles: {', '.join(roles)}")
        return principal

    return dependency

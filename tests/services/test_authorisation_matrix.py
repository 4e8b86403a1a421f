"""Every token-protected route x every role x own and another community, generated from the routes.

Tokens come in three reaches: limited to the community "own", every community ("*"), and no
community at all (an empty list). Each route is classified once in RULES by how it names a
community; a route that is not classified fails the test, so a new route cannot skip the matrix.

What a token may do:
- a role the route does not take gets 403 (admin takes every role);
- a community named in the path, body or `?community=` that the token does not reach gets 403;
- an item (review, draft) of a community the token does not reach is 404, the same answer as a
  missing one, so a limited token learns nothing of other tenants;
- a list only ever shows what the token reaches.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from vigie_moderator.adapters.store import ReviewRow, ReviewStore
from vigie_responder.handlers import draft_id_for
from vigie_shared.auth import Role, TokenEntry, hash_token, write_token_file
from vigie_shared.bus import Bus, open_bus
from vigie_shared.events import Envelope
from vigie_shared.events.v1 import TOPICS, Action, Author, CommentRef, ModerationDecided, Platform

from tests.conftest import Tokens
from tests.services.apps import build, running

ROLES = ("moderator", "auditor", "privacy", "admin", "none")
REACHES = ("own", "all", "nocommunity")
TARGETS = ("own", "other")
COMMUNITY = {"own": "guild-own", "other": "guild-other"}
OPEN_ROUTES = {"/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


@dataclass(frozen=True)
class Rule:
    roles: frozenset[str]
    # community-path: {community} in the path; community-body: in the JSON body;
    # community-query: `?community=`; item: {id} of a stored item; list: filtered by reach;
    # global: not about one community.
    kind: str


MOD = frozenset({"moderator"})
RULES: dict[tuple[str, str, str], Rule] = {
    ("moderator", "POST", "/v1/score"): Rule(MOD, "community-body"),
    ("moderator", "GET", "/v1/policies/{community}"): Rule(MOD, "community-path"),
    ("moderator", "PUT", "/v1/policies/{community}"): Rule(frozenset({"admin"}), "community-path"),
    ("moderator", "GET", "/v1/reviews"): Rule(MOD, "community-query"),
    ("moderator", "POST", "/v1/reviews/{review_id}/decision"): Rule(MOD, "item"),
    ("responder", "GET", "/v1/drafts"): Rule(MOD, "list"),
    ("responder", "GET", "/v1/drafts/{draft_id}"): Rule(MOD, "item"),
    ("responder", "POST", "/v1/drafts/{draft_id}/approve"): Rule(MOD, "item"),
    ("responder", "POST", "/v1/drafts/{draft_id}/reject"): Rule(MOD, "item"),
    # The knowledge base hides another community entirely: 404, as for a draft (issue 9).
    ("responder", "PUT", "/v1/kb/{community}/entries/{entry_id}"): Rule(MOD, "community-path-hidden"),
    ("responder", "GET", "/v1/kb/{community}/entries/{entry_id}"): Rule(MOD, "community-path-hidden"),
    ("responder", "DELETE", "/v1/kb/{community}/entries/{entry_id}"): Rule(MOD, "community-path-hidden"),
    ("responder", "GET", "/v1/kb/{community}/entries"): Rule(MOD, "community-path-hidden"),
    ("responder", "POST", "/v1/kb/{community}/search"): Rule(MOD, "community-path-hidden"),
    ("responder", "GET", "/v1/tone/{community}"): Rule(MOD, "community-path-hidden"),
    ("responder", "PUT", "/v1/tone/{community}"): Rule(MOD, "community-path-hidden"),
    ("audit", "GET", "/v1/reports/bias"): Rule(frozenset({"auditor"}), "community-query"),
    ("audit", "GET", "/v1/reports/insights"): Rule(frozenset({"auditor"}), "community-query"),
    ("audit", "GET", "/v1/audit/access"): Rule(frozenset({"auditor"}), "global"),
    ("audit", "GET", "/v1/audit/checkpoint"): Rule(frozenset({"auditor"}), "global"),
    ("audit", "POST", "/v1/audit/checkpoint"): Rule(frozenset({"auditor"}), "global"),
    ("audit", "GET", "/v1/privacy/subjects/{platform}/{user_id}"): Rule(frozenset({"privacy"}), "global"),
    ("audit", "DELETE", "/v1/privacy/subjects/{platform}/{user_id}"): Rule(frozenset({"privacy"}), "global"),
    ("audit", "GET", "/v1/privacy/requests/{request_id}"): Rule(frozenset({"privacy"}), "global"),
    ("audit", "GET", "/v1/audit/events"): Rule(frozenset({"auditor"}), "list"),
    # The chain is one for all communities; its check says nothing of any comment.
    ("audit", "GET", "/v1/audit/verify"): Rule(frozenset({"auditor"}), "global"),
}


class MatrixTokens(Tokens):
    """One token per role and reach, on top of the usual ones."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.by_case: dict[tuple[str, str], str] = {}
        entries = []
        for role in ROLES:
            for reach in REACHES:
                token = f"vgt_{role}_{reach}_" + hash_token(f"{path}{role}{reach}")[:24]
                self.by_case[(role, reach)] = token
                communities = {"own": [COMMUNITY["own"]], "all": ["*"], "nocommunity": []}[reach]
                entries.append(
                    TokenEntry(
                        name=f"{role}-{reach}",
                        sha256=hash_token(token),
                        roles=[] if role == "none" else [Role(role)],
                        communities=communities,
                    )
                )
        write_token_file(path, entries)


def all_routes(app: FastAPI) -> dict[tuple[str, str], dict[str, Any]]:
    """Every operation the app serves, from its own OpenAPI document."""
    return {
        (method.upper(), path): operation
        for path, item in app.openapi()["paths"].items()
        for method, operation in item.items()
    }


def protected_routes(app: FastAPI) -> set[tuple[str, str]]:
    """The operations behind a bearer token: those whose OpenAPI entry asks for one."""
    return {route for route, operation in all_routes(app).items() if operation.get("security")}


def reaches(reach: str, target: str) -> bool:
    return reach == "all" or (reach == "own" and target == "own")


def expected_status(rule: Rule, role: str, reach: str, target: str) -> int:
    if role != "admin" and role not in rule.roles:
        return 403
    if rule.kind in ("community-path", "community-body", "community-query") and not reaches(reach, target):
        return 403
    if rule.kind in ("item", "community-path-hidden") and not reaches(reach, target):
        return 404
    return 200


async def _eventually(check: Callable[[], Awaitable[bool]], timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > end:
            raise AssertionError("not reached in time")
        await asyncio.sleep(0.05)


@dataclass
class Case:
    role: str
    reach: str
    target: str

    @property
    def name(self) -> str:
        return f"{self.role}/{self.reach}->{self.target}"


def cases() -> list[Case]:
    return [Case(role, reach, target) for role in ROLES for reach in REACHES for target in TARGETS]


def check(
    failures: list[str], route: tuple[str, str], case: Case, response: httpx.Response, want: int
) -> None:
    # 200 stands for success: a creation's 201, an erasure's 202 or a deletion's 204 are one too.
    succeeded = want == 200 and 200 <= response.status_code < 300
    if response.status_code != want and not succeeded:
        failures.append(f"{route[0]} {route[1]} {case.name}: {response.status_code} != {want}")


async def check_unauthenticated(client: httpx.AsyncClient, routes: set[tuple[str, str]]) -> list[str]:
    failures = []
    for method, path in routes:
        url = (
            path.replace("{community}", "x")
            .replace("{review_id}", "x")
            .replace("{draft_id}", "x")
            .replace("{entry_id}", "x")
            .replace("{platform}", "facebook")
            .replace("{user_id}", "x")
            .replace("{request_id}", "x")
        )
        for headers in ({}, Tokens.header("vgt_not_a_known_token"), {"Authorization": "Basic abc"}):
            response = await client.request(method, url, headers=headers)
            if response.status_code != 401:
                failures.append(
                    f"{method} {path} with {headers or 'no token'}: {response.status_code} != 401"
                )
    return failures


def assert_classified(service: str, app: FastAPI) -> set[tuple[str, str]]:
    routes = protected_routes(app)
    # Anything else must be one of the operations routes or a webhook (signatures, not tokens).
    unprotected = {path for (_, path) in all_routes(app)} - {path for (_, path) in routes}
    assert all(path in OPEN_ROUTES or path.startswith("/webhooks/") for path in unprotected), unprotected
    known = {(method, path) for (svc, method, path) in RULES if svc == service}
    assert routes == known, f"{service}: classify these routes in RULES: {sorted(routes ^ known)}"
    return routes


@pytest.fixture
def matrix_tokens(tmp_path: Path) -> MatrixTokens:
    return MatrixTokens(tmp_path / "tokens.json")


def review(n: str, community: str) -> ReviewRow:
    return ReviewRow(
        id=f"rev-{n}",
        platform="discord",
        community=community,
        thread_id="t",
        comment_id=n,
        correlation_id=f"corr-{n}",
        author_pseudonym="psn",
        text="held",
        language="en",
        scores={"toxicity": 0.7},
        reasons=["toxicity"],
        categories=["toxicity"],
        policy_version="p",
        status="pending",
        created_at=datetime.now(UTC),
    )


POLICY = {"version": "matrix-1", "thresholds": {"toxicity": {"review": 0.5}}}


async def test_moderator_routes(tmp_path: Path, matrix_tokens: MatrixTokens) -> None:
    app = build("moderator", tmp_path, matrix_tokens)
    async with running(app) as svc:
        routes = assert_classified("moderator", app)
        failures = await check_unauthenticated(svc.client, routes)
        store: ReviewStore = app.state.reviews
        listed_items = [review(f"list-{t}", COMMUNITY[t]) for t in TARGETS]
        await store.add_if_absent(*listed_items)
        for case in cases():
            auth = Tokens.header(matrix_tokens.by_case[(case.role, case.reach)])
            community = COMMUNITY[case.target]
            for (service, method, path), rule in RULES.items():
                if service != "moderator":
                    continue
                want = expected_status(rule, case.role, case.reach, case.target)
                if path == "/v1/score":
                    response = await svc.client.post(
                        path, json={"texts": ["hello"], "community": community}, headers=auth
                    )
                elif path == "/v1/policies/{community}":
                    url = f"/v1/policies/{community}"
                    if method == "GET":
                        response = await svc.client.get(url, headers=auth)
                    else:
                        response = await svc.client.put(url, json=POLICY, headers=auth)
                elif path == "/v1/reviews":
                    response = await svc.client.get(path, params={"community": community}, headers=auth)
                    if response.status_code == 200:
                        shown = {item["community"] for item in response.json()}
                        if shown != {community}:
                            failures.append(f"GET /v1/reviews?community {case.name}: showed {shown}")
                    # Without the parameter: only what the token reaches.
                    if want != 403 or case.role in ("moderator", "admin"):
                        everything = await svc.client.get(path, headers=auth)
                        if everything.status_code == 200:
                            shown = {item["community"] for item in everything.json()}
                            allowed = {COMMUNITY[t] for t in TARGETS if reaches(case.reach, t)}
                            if shown != allowed:
                                failures.append(
                                    f"GET /v1/reviews {case.name}: showed {shown}, reach {allowed}"
                                )
                else:
                    # A fresh held comment for each case: a decision is final.
                    item = review(f"{case.role}-{case.reach}-{case.target}", community)
                    await store.add_if_absent(item)
                    response = await svc.client.post(
                        f"/v1/reviews/{item.id}/decision", json={"verdict": "approve"}, headers=auth
                    )
                    after = await store.get(item.id)
                    if want != 200 and after.status != "pending":
                        failures.append(f"decision {case.name}: refused but the review was decided")
                check(failures, (method, path), case, response, want)
    assert not failures, "\n".join(failures)


def decided(comment_id: str, community: str) -> Envelope[ModerationDecided]:
    data = ModerationDecided(
        comment=CommentRef(
            platform=Platform.INSTAGRAM, community=community, thread_id="m", comment_id=comment_id
        ),
        author=Author(pseudonym="psn_1"),
        text="Quand ouvre la boutique ?",
        language="fr",
        scores={"toxicity": 0.01},
        action=Action.ALLOW,
        reasons=[],
        policy_version="p",
        model_versions={"m": "1"},
    )
    return Envelope.wrap(data, source="vigie/moderator", correlationid=f"corr-{comment_id}")


async def _feed(bus_url: str, events: list[Envelope[Any]]) -> None:
    bus: Bus = open_bus(bus_url, client_id="matrix-feed")
    await bus.start()
    try:
        for event in events:
            await bus.publish(TOPICS[event.type], event.data.key(), event.body(), event.headers())
    finally:
        await bus.close()


ENTRY = {"questions": {"en": ["When do you open?"]}, "answers": {"en": "At nine."}}


def community_of(case: Case) -> str:
    return COMMUNITY[case.target]


async def knowledge_request(
    client: httpx.AsyncClient, method: str, path: str, community: str, suffix: str, auth: dict[str, str]
) -> httpx.Response:
    """One knowledge-base or tone call on `community`; entries to read or delete exist beforehand."""
    url = path.replace("{community}", community).replace("{entry_id}", f"e-{method.lower()}-{suffix}")
    if method == "PUT" and "/tone/" in path:
        return await client.put(url, json={"french_address": "tu"}, headers=auth)
    if method == "PUT":
        return await client.put(url, json=ENTRY, headers=auth)
    if method == "POST":
        return await client.post(url, json={"text": "when do you open"}, headers=auth)
    return await client.request(method, url, headers=auth)


async def test_responder_routes(tmp_path: Path, matrix_tokens: MatrixTokens) -> None:
    app = build("responder", tmp_path, matrix_tokens)
    async with running(app) as svc:
        routes = assert_classified("responder", app)
        failures = await check_unauthenticated(svc.client, routes)
        names = [
            f"{route}-{case.role}-{case.reach}-{case.target}"
            for route in ("get", "approve", "reject")
            for case in cases()
        ]
        events = [decided(f"list-{t}", COMMUNITY[t]) for t in TARGETS]
        events += [decided(name, COMMUNITY[name.rsplit("-", 1)[1]]) for name in names]
        await _feed(f"sqlite:///{tmp_path}/bus.db", events)
        draft_ids = {event.data.comment.comment_id: draft_id_for(event.data) for event in events}
        admin = Tokens.header(matrix_tokens.by_case[("admin", "all")])

        async def all_drafted() -> bool:
            response = await svc.client.get("/v1/drafts", params={"limit": 500}, headers=admin)
            return len(response.json()) == len(events)

        await _eventually(all_drafted)
        for case in cases():
            suffix = f"{case.role}-{case.reach}-{case.target}"
            for method in ("get", "delete"):
                created = await svc.client.put(
                    f"/v1/kb/{community_of(case)}/entries/e-{method}-{suffix}", json=ENTRY, headers=admin
                )
                assert created.status_code == 201, created.text
        for case in cases():
            auth = Tokens.header(matrix_tokens.by_case[(case.role, case.reach)])
            suffix = f"{case.role}-{case.reach}-{case.target}"
            for (service, method, path), rule in RULES.items():
                if service != "responder":
                    continue
                want = expected_status(rule, case.role, case.reach, case.target)
                if path == "/v1/drafts":
                    response = await svc.client.get(path, params={"limit": 500}, headers=auth)
                    if response.status_code == 200:
                        shown = {item["community"] for item in response.json()}
                        allowed = {COMMUNITY[t] for t in TARGETS if reaches(case.reach, t)}
                        if shown != allowed:
                            failures.append(f"GET /v1/drafts {case.name}: showed {shown}, reach {allowed}")
                elif path == "/v1/drafts/{draft_id}":
                    response = await svc.client.get(f"/v1/drafts/{draft_ids['get-' + suffix]}", headers=auth)
                elif path.endswith("/approve"):
                    response = await svc.client.post(
                        f"/v1/drafts/{draft_ids['approve-' + suffix]}/approve", headers=auth
                    )
                elif path.startswith(("/v1/kb/", "/v1/tone/")):
                    response = await knowledge_request(
                        svc.client, method, path, community_of(case), suffix, auth
                    )
                else:
                    response = await svc.client.post(
                        f"/v1/drafts/{draft_ids['reject-' + suffix]}/reject",
                        json={"reason": "no"},
                        headers=auth,
                    )
                check(failures, (method, path), case, response, want)
        # Nothing a refused token tried changed a draft.
        for name, draft_id in draft_ids.items():
            if name.startswith(("approve-", "reject-")):
                role, reach, target = name.split("-", 1)[1].rsplit("-", 2)
                allowed = expected_status(
                    RULES[("responder", "POST", "/v1/drafts/{draft_id}/approve")], role, reach, target
                )
                status = (await svc.client.get(f"/v1/drafts/{draft_id}", headers=admin)).json()["status"]
                if allowed != 200 and status != "pending":
                    failures.append(f"{name}: refused but the draft is {status}")
    assert not failures, "\n".join(failures)


async def test_audit_routes(tmp_path: Path, matrix_tokens: MatrixTokens) -> None:
    app = build("audit", tmp_path, matrix_tokens)
    async with running(app) as svc:
        routes = assert_classified("audit", app)
        failures = await check_unauthenticated(svc.client, routes)
        await _feed(f"sqlite:///{tmp_path}/bus.db", [decided(f"a-{t}", COMMUNITY[t]) for t in TARGETS])
        admin = Tokens.header(matrix_tokens.by_case[("admin", "all")])

        async def recorded() -> bool:
            response = await svc.client.get("/v1/audit/events", headers=admin)
            return len(response.json()["events"]) == 2

        await _eventually(recorded)
        erasure = await svc.client.delete("/v1/privacy/subjects/facebook/someone", headers=admin)
        assert erasure.status_code == 202, erasure.text
        request_id = erasure.json()["id"]
        for case in cases():
            auth = Tokens.header(matrix_tokens.by_case[(case.role, case.reach)])
            for (service, method, path), rule in RULES.items():
                if service != "audit":
                    continue
                want = expected_status(rule, case.role, case.reach, case.target)
                url = (
                    path.replace("{platform}", "facebook")
                    .replace("{user_id}", f"user-{case.role}-{case.reach}-{case.target}")
                    .replace("{request_id}", request_id)
                )
                params = {"community": COMMUNITY[case.target]} if rule.kind == "community-query" else None
                response = await svc.client.request(method, url, params=params, headers=auth)
                if path == "/v1/audit/events" and response.status_code == 200:
                    # Events about no community (a privacy request) are for tokens that reach all.
                    shown = {event["community"] for event in response.json()["events"]} - (
                        {None} if case.reach == "all" else set()
                    )
                    allowed = {COMMUNITY[t] for t in TARGETS if reaches(case.reach, t)}
                    if shown != allowed:
                        failures.append(f"GET /v1/audit/events {case.name}: showed {shown}, reach {allowed}")
                check(failures, (method, path), case, response, want)
    assert not failures, "\n".join(failures)


async def test_ingest_takes_no_tokens(tmp_path: Path, matrix_tokens: MatrixTokens) -> None:
    """Platforms authenticate by their signatures only: a bearer token opens nothing."""
    app = build("ingest", tmp_path, matrix_tokens)
    async with running(app) as svc:
        assert protected_routes(app) == set()
        webhooks = [(m, p) for (m, p) in all_routes(app) if m == "POST"]
        assert webhooks
        admin = Tokens.header(matrix_tokens.by_case[("admin", "all")])
        for _method, path in webhooks:
            url = path.replace("{platform}", "generic")
            response = await svc.client.post(url, json={"text": "hi"}, headers=admin)
            assert response.status_code in (400, 401, 403, 404), (path, response.status_code)

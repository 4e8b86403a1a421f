"""Input anyone can send gets a clear 4xx on every webhook route, never a 500 (issue 8, item 4).

Non-ASCII bytes in signature and timestamp headers, integers past Python's digit limit and lone
surrogate escapes in signed JSON, 12 MiB bodies on a real server, and generic-webhook secrets bound
to their communities. No answer echoes what was sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.ingest import signing
from tests.ingest.conftest import Running, comments, make_settings, published
from tests.ingest.servers import serve
from tests.ingest.test_discord import MESSAGE_COMMAND, interaction
from tests.ingest.test_generic import delivery as generic_delivery
from tests.ingest.test_mastodon import STATUS
from tests.ingest.test_meta import PAGE, feed_change, page_delivery
from tests.ingest.test_slack import MESSAGE, callback
from tests.ingest.test_telegram import update
from tests.ingest.test_twitch import CHAT

MARK = "MARK-TEXT"
Signer = Callable[[Any], tuple[bytes, dict[str, str]]]


def _discord_payload(text: str) -> dict[str, Any]:
    data = {**MESSAGE_COMMAND, "resolved": {"messages": {}}}
    target = dict(MESSAGE_COMMAND["resolved"]["messages"][MESSAGE_COMMAND["target_id"]])  # type: ignore[index]
    target["content"] = text
    data["resolved"] = {"messages": {MESSAGE_COMMAND["target_id"]: target}}
    return interaction(2, data)


def _twitch_payload(text: str) -> dict[str, Any]:
    event = {**CHAT["event"], "message": {"text": text, "fragments": []}}  # type: ignore[dict-item]
    return {**CHAT, "event": event}


# Per route: how the platform signs, a delivery holding one comment whose text is `text`, and the
# headers that carry a signature, token, timestamp or id.
ROUTES: dict[str, tuple[Signer, Callable[[str], dict[str, Any]], tuple[str, ...]]] = {
    "meta": (
        signing.meta,
        lambda text: page_delivery(feed_change("add", f"{PAGE}_111_1", text)),
        ("x-hub-signature-256",),
    ),
    "slack": (
        signing.slack,
        lambda text: callback({**MESSAGE, "text": text}),
        ("x-slack-signature", "x-slack-request-timestamp"),
    ),
    "twitch": (
        signing.twitch,
        _twitch_payload,
        (
            "twitch-eventsub-message-signature",
            "twitch-eventsub-message-timestamp",
            "twitch-eventsub-message-id",
        ),
    ),
    "telegram": (
        signing.telegram,
        lambda text: update(4242, text=text),
        ("x-telegram-bot-api-secret-token",),
    ),
    "discord": (signing.discord, _discord_payload, ("x-signature-ed25519", "x-signature-timestamp")),
    "mastodon": (
        signing.mastodon,
        lambda text: {"event": "status.created", "object": {**STATUS, "content": f"<p>{text}</p>"}},
        ("x-hub-signature",),
    ),
    "generic": (
        signing.generic,
        lambda text: generic_delivery(comments=[{**generic_delivery()["comments"][0], "text": text}]),
        ("x-vigie-signature", "x-vigie-timestamp"),
    ),
}
HEADER_CASES = [(platform, header) for platform, (_, _, headers) in ROUTES.items() for header in headers]
REFUSAL_REASONS = {"non-ASCII signature header", "bad timestamp", "bad message id", "bad signature"}


def signed_with(platform: str, text: str = MARK) -> tuple[bytes, dict[str, str]]:
    sign, payload, _ = ROUTES[platform]
    return sign(payload(text))


@pytest.mark.parametrize(("platform", "header"), HEADER_CASES)
async def test_a_non_ascii_byte_in_a_signed_header_is_401_with_its_reason(
    ingest: Running, platform: str, header: str
) -> None:
    body, headers = signed_with(platform)
    raw = headers[header].encode()
    corrupted = raw[:-1] + b"\xe9"  # one byte a platform never sends there
    sent = {name.encode(): value.encode() for name, value in headers.items()}
    sent[header.encode()] = corrupted
    response = await ingest.client.post(f"/webhooks/{platform}", content=body, headers=sent)
    assert response.status_code == 401, response.text
    reason = response.json()["detail"]
    assert reason in REFUSAL_REASONS
    assert corrupted.decode("latin-1") not in response.text
    assert ingest.metric("vigie_ingest_webhooks_rejected_total", platform=platform, reason=reason) == 1
    assert await published(ingest.settings) == []


@pytest.mark.parametrize("platform", sorted(ROUTES))
async def test_a_signed_integer_past_the_digit_limit_is_400(ingest: Running, platform: str) -> None:
    sign, _, _ = ROUTES[platform]
    digits = b"7" * 5_000
    body, headers = sign(b'{"update_id": ' + digits + b', "type": 1}')
    response = await ingest.client.post(f"/webhooks/{platform}", content=body, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json() == {"detail": "JSON number too long"}
    assert await published(ingest.settings) == []


@pytest.mark.parametrize("platform", sorted(ROUTES))
async def test_lone_surrogate_escapes_are_published_as_replacement_characters(
    ingest: Running, platform: str
) -> None:
    sign, payload, _ = ROUTES[platform]
    template, _ = sign(payload(MARK))
    # Escapes as JSON writes them (the signing helper writes non-ASCII raw, so write them by hand):
    # a lone high, a lone low, and a well-formed pair that must survive.
    body, headers = sign(template.replace(MARK.encode(), rb"a\ud800b\udc00c\ud83d\ude00"))
    response = await ingest.client.post(f"/webhooks/{platform}", content=body, headers=headers)
    assert response.status_code == 200, response.text
    [comment] = comments(await published(ingest.settings))
    assert comment.text == "a\ufffdb\ufffdc\U0001f600"


async def test_a_lone_surrogate_in_an_author_id_is_pseudonymised_not_crashed(ingest: Running) -> None:
    body, headers = signed_with("generic")
    body, headers = signing.generic(body.replace(b'"user-5"', rb'"user-\udfff"'))
    response = await ingest.client.post("/webhooks/generic", content=body, headers=headers)
    assert response.status_code == 200, response.text
    [comment] = comments(await published(ingest.settings))
    assert "\udfff" not in comment.author.pseudonym


async def test_a_content_length_of_unicode_digits_is_not_a_500(ingest: Running) -> None:
    # Latin-1 0xB2 is "²", a digit to str.isdigit() but not to int(); uvicorn's parser refuses it,
    # other servers may not.
    body, headers = signed_with("meta")
    sent = [(k.encode(), v.encode()) for k, v in headers.items()] + [(b"content-length", b"\xb2")]
    # A stream, not `content=`: httpx would otherwise write its own Content-Length.
    request = httpx.Request(
        "POST", "http://ingest/webhooks/meta", headers=sent, stream=httpx.ByteStream(body)
    )
    response = await ingest.client.send(request)
    assert response.status_code == 200, response.text


@pytest.fixture(scope="module")
def real_ingest(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # The default limit (1 MiB) on a real uvicorn server: what an operator runs.
    settings = make_settings(tmp_path_factory.mktemp("big"), max_body_bytes=1_048_576)
    from vigie_ingest.app import create_app

    with serve(create_app(settings)) as base:
        yield base


TWELVE_MIB = 12 * 1024 * 1024


@pytest.mark.parametrize("platform", sorted(ROUTES))
def test_a_12_mib_body_is_413_on_a_real_server(real_ingest: str, platform: str) -> None:
    body = b"x" * TWELVE_MIB

    def chunks() -> Iterator[bytes]:
        for start in range(0, TWELVE_MIB, 256 * 1024):
            yield body[start : start + 256 * 1024]

    _, headers = signed_with(platform)
    with httpx.Client(base_url=real_ingest, timeout=30) as client:
        declared = client.post(f"/webhooks/{platform}", content=body, headers=headers)
        streamed = client.post(f"/webhooks/{platform}", content=chunks(), headers=headers)
    for response in (declared, streamed):
        # Refused by the service-wide body limit (VIGIE_HTTP_MAX_BODY_BYTES) or ingest's own bounded
        # read, whichever sees it first: a 413 that says why either way, never a reset connection.
        assert response.status_code == 413
        assert "too large" in response.text.lower()


BOUND = "forum.example|forum-2.example=" + "b" * 32
OTHER = "other.example=" + "o" * 32


@pytest.fixture
def bound_settings(tmp_path: Path) -> Any:
    return make_settings(tmp_path, generic_webhook_secret=f"{BOUND},{OTHER}")


async def test_a_bound_generic_secret_posts_for_its_communities_only(bound_settings: Any, start: Any) -> None:
    async with start(bound_settings) as ingest:
        mine = signing.generic(generic_delivery(), secret="b" * 32)
        assert (await ingest.post("/webhooks/generic", mine)).json()["published"] == 1
        # Another tenant's sender, signing correctly, cannot post into forum.example's queue.
        theirs = signing.generic(generic_delivery(id="other-1"), secret="o" * 32)
        refused = await ingest.post("/webhooks/generic", theirs)
        assert refused.status_code == 403
        assert refused.json() == {"detail": "community not allowed for this secret"}
        assert (
            ingest.metric(
                "vigie_ingest_webhooks_rejected_total",
                platform="generic",
                reason="community not allowed for this secret",
            )
            == 1
        )
        # A delivery mixing allowed and foreign communities is refused whole.
        mixed = generic_delivery(id="mixed-1")
        mixed["comments"].append({**mixed["comments"][0], "comment_id": "x", "community": "other.example"})
        assert (
            await ingest.post("/webhooks/generic", signing.generic(mixed, secret="b" * 32))
        ).status_code == 403
    assert [c.comment.community for c in comments(await published(bound_settings))] == ["forum.example"]


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        (
            {"hub.mode": "subscribe", "hub.challenge": "1"},
            "hub.mode, hub.verify_token and hub.challenge are required",
        ),
        (
            {
                "hub.mode": "subscribe",
                "hub.verify_token": signing.META_VERIFY_TOKEN,
                "hub.challenge": "c" * 257,
            },
            "hub.challenge too long",
        ),
    ],
    ids=["missing-token", "long-challenge"],
)
async def test_meta_handshake_refusals_echo_nothing(
    ingest: Running, params: dict[str, str], detail: str
) -> None:
    response = await ingest.client.get("/webhooks/meta", params=params)
    assert response.status_code == 400
    assert response.json() == {"detail": detail}

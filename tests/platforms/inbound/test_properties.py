"""Property tests on every normaliser: documented shapes keep their promises, garbage never crashes."""

from __future__ import annotations

import contextlib
import unicodedata
from datetime import UTC, datetime
from functools import partial
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from vigie_platforms.discord import inbound as discord
from vigie_platforms.facebook import inbound as meta
from vigie_platforms.generic import inbound as generic
from vigie_platforms.inbound.errors import MalformedPayload
from vigie_platforms.inbound.outcome import Comments, Handshake, Revoked
from vigie_platforms.mastodon import inbound as mastodon
from vigie_platforms.slack import inbound as slack
from vigie_platforms.telegram import inbound as telegram
from vigie_platforms.twitch import inbound as twitch
from vigie_platforms.youtube import inbound as youtube
from vigie_shared.events.v1 import CommentReceived
from vigie_shared.privacy import pseudonymise

KEY = b"property-key"
PSEUDO = partial(pseudonymise, KEY)
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)

ids = st.from_regex(r"\A[1-9][0-9]{5,18}\Z")
user_ids = st.from_regex(r"\Auid[0-9]{12}\Z")
texts = st.text(max_size=300)
names = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
seconds = st.integers(min_value=0, max_value=4_000_000_000)


def check(comment: CommentReceived, platform: str, user_id: str) -> None:
    assert unicodedata.is_normalized("NFC", comment.text)
    assert comment.author.pseudonym == pseudonymise(KEY, platform, user_id)
    # The raw id is never in what leaves ingest (display names are generated without digits).
    assert user_id not in comment.model_dump_json()
    assert comment.received_at == NOW


def only_comments(outcome: Any) -> Comments:
    assert isinstance(outcome, Comments)
    return outcome


@given(
    st.lists(
        st.tuples(ids, user_ids, texts, st.sampled_from(["add", "edited", "remove", "hide"])), max_size=8
    )
)
def test_meta_feed(changes: list[tuple[str, str, str, str]]) -> None:
    payload = {
        "object": "page",
        "entry": [
            {
                "id": "42",
                "time": 1,
                "changes": [
                    {
                        "field": "feed",
                        "value": {
                            "item": "comment",
                            "verb": verb,
                            "post_id": "42_1",
                            "comment_id": cid,
                            "from": {"id": uid, "name": "Ann"},
                            "message": text,
                            "created_time": 1,
                        },
                    }
                    for cid, uid, text, verb in changes
                ],
            }
        ],
    }
    out = meta.normalise(payload, received_at=NOW, pseudonymise=PSEUDO)
    assert len(out.items) == sum(verb != "hide" for *_, verb in changes)
    assert out.ignored == len(changes) - len(out.items)
    for item, (_, uid, _, _) in zip(out.items, [c for c in changes if c[3] != "hide"], strict=True):
        check(item.comment, "facebook", uid)
    again = meta.normalise(payload, received_at=NOW, pseudonymise=PSEUDO)
    assert [i.key for i in again.items] == [i.key for i in out.items]


@given(ids, user_ids, texts, st.sampled_from(["comments", "live_comments"]))
def test_meta_instagram(cid: str, uid: str, text: str, field: str) -> None:
    payload = {
        "object": "instagram",
        "entry": [
            {
                "id": "9",
                "time": 5,
                "changes": [
                    {
                        "field": field,
                        "value": {
                            "id": cid,
                            "from": {"id": uid, "username": "ann"},
                            "text": text,
                            "media": {"id": "m1"},
                        },
                    }
                ],
            }
        ],
    }
    [item] = meta.normalise(payload, received_at=NOW, pseudonymise=PSEUDO).items
    check(item.comment, "instagram", uid)


@given(
    ids, user_ids, texts, st.sampled_from([None, "message_changed", "message_deleted", "thread_broadcast"])
)
def test_slack(event_id: str, uid: str, text: str, subtype: str | None) -> None:
    message = {"type": "message", "user": uid, "text": text, "ts": "1700000000.000100", "channel": "C1"}
    event: dict[str, Any] = dict(message)
    if subtype == "message_changed":
        event = {"type": "message", "subtype": subtype, "channel": "C1", "message": message}
    elif subtype == "message_deleted":
        event = {
            "type": "message",
            "subtype": subtype,
            "channel": "C1",
            "deleted_ts": "1700000000.000100",
            "previous_message": message,
        }
    elif subtype:
        event["subtype"] = subtype
    payload = {"type": "event_callback", "team_id": "T1", "event_id": f"Ev{event_id}", "event": event}
    [item] = only_comments(slack.normalise(payload, received_at=NOW, pseudonymise=PSEUDO)).items
    check(item.comment, "slack", uid)
    assert item.key == f"slack:delivery:Ev{event_id}"


@given(user_ids, texts, names, st.uuids())
def test_twitch(uid: str, text: str, name: str, message_id: Any) -> None:
    payload = {
        "subscription": {"type": "channel.chat.message"},
        "event": {
            "broadcaster_user_id": "77",
            "chatter_user_id": uid,
            "chatter_user_name": name,
            "message_id": "m",
            "message": {"text": text},
        },
    }
    outcome = twitch.normalise(
        payload,
        message_type="notification",
        message_id=str(message_id),
        sent_at=NOW,
        received_at=NOW,
        pseudonymise=PSEUDO,
    )
    [item] = only_comments(outcome).items
    if uid not in name:
        check(item.comment, "twitch", uid)


@given(
    st.integers(min_value=1, max_value=2**31),
    st.integers(min_value=10**11, max_value=10**12 - 1),
    texts.filter(bool),
    st.sampled_from(["message", "edited_message", "channel_post"]),
)
def test_telegram(update_id: int, uid: int, text: str, kind: str) -> None:
    payload = {
        kind: {
            "message_id": 1,
            "from": {"id": uid, "first_name": "Ann"},
            "chat": {"id": -100, "type": "group"},
            "date": 1,
            "text": text,
        },
        "update_id": update_id,
    }
    outcome = telegram.normalise(payload, received_at=NOW, pseudonymise=PSEUDO)
    if not text:
        return
    [item] = outcome.items
    check(item.comment, "telegram", str(uid))


@given(ids, user_ids, texts)
def test_discord_message_command(target: str, uid: str, text: str) -> None:
    payload = {
        "id": "1",
        "type": 2,
        "guild_id": "g",
        "channel_id": "c",
        "data": {
            "type": 3,
            "target_id": target,
            "resolved": {
                "messages": {
                    target: {
                        "id": target,
                        "author": {"id": uid, "username": "ann"},
                        "content": text,
                        "timestamp": "2026-01-01T00:00:00+00:00",
                    }
                }
            },
        },
    }
    [item] = only_comments(discord.normalise(payload, received_at=NOW, pseudonymise=PSEUDO)).items
    check(item.comment, "discord", uid)


@given(ids, user_ids, texts, st.sampled_from(["status.created", "status.updated"]))
def test_mastodon(status_id: str, uid: str, text: str, event: str) -> None:
    from html import escape

    status = {
        "id": status_id,
        "uri": "https://m.example/s/1",
        "content": f"<p>{escape(text)}</p>",
        "account": {"id": uid, "username": "ann"},
        "created_at": "2026-01-01T00:00:00.000Z",
    }
    [item] = mastodon.normalise(
        {"event": event, "object": status}, received_at=NOW, pseudonymise=PSEUDO
    ).items
    check(item.comment, "mastodon", uid)
    # What a reader sees, modulo the surrounding whitespace the HTML holds.
    assert item.comment.text == unicodedata.normalize("NFC", text).strip()


@given(user_ids, texts)
def test_generic(uid: str, text: str) -> None:
    payload = {
        "comments": [
            {"community": "c", "thread_id": "t", "comment_id": "1", "author": {"id": uid}, "text": text}
        ]
    }
    [item] = generic.normalise(payload, received_at=NOW, pseudonymise=PSEUDO).items
    check(item.comment, "generic", uid)


@given(ids, user_ids, texts)
def test_youtube_thread(cid: str, uid: str, text: str) -> None:
    snippet = {
        "videoId": "v",
        "textOriginal": text,
        "authorChannelId": {"value": uid},
        "publishedAt": "2026-01-01T00:00:00Z",
        "updatedAt": "2026-01-01T00:00:00Z",
    }
    thread = {"id": cid, "snippet": {"videoId": "v", "topLevelComment": {"id": cid, "snippet": snippet}}}
    [item] = youtube.thread_items(thread, "UC1", received_at=NOW, pseudonymise=PSEUDO)
    check(item.comment, "youtube", uid)


# Garbage: any JSON, biased towards the keys and values the connectors look for.
VOCAB = [
    "object",
    "entry",
    "changes",
    "field",
    "value",
    "item",
    "verb",
    "from",
    "id",
    "post_id",
    "comment_id",
    "message",
    "parent_id",
    "media",
    "type",
    "event",
    "subtype",
    "ts",
    "channel",
    "user",
    "text",
    "team_id",
    "event_id",
    "previous_message",
    "deleted_ts",
    "update_id",
    "chat",
    "message_id",
    "edited_message",
    "channel_post",
    "caption",
    "date",
    "data",
    "target_id",
    "resolved",
    "messages",
    "options",
    "member",
    "statuses",
    "content",
    "account",
    "uri",
    "url",
    "subscription",
    "broadcaster_user_id",
    "chatter_user_id",
    "snippet",
    "topLevelComment",
    "replies",
    "comments",
    "community",
    "thread_id",
    "author",
    "guild_id",
    "channel_id",
    "timestamp",
    "created_at",
    "created_time",
    "challenge",
    "publishedAt",
    "updatedAt",
]
WORDS = [
    "page",
    "instagram",
    "feed",
    "comment",
    "add",
    "edited",
    "remove",
    "comments",
    "live_comments",
    "event_callback",
    "url_verification",
    "message",
    "message_changed",
    "message_deleted",
    "channel.chat.message",
    "status.created",
    "status.updated",
    "report.created",
    "2026-01-01T00:00:00Z",
]
leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.sampled_from(WORDS)
)
json_values = st.recursive(
    leaves,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(VOCAB) | st.text(max_size=8), children, max_size=6)
    ),
    max_leaves=40,
)
json_objects = st.dictionaries(st.sampled_from(VOCAB), json_values, max_size=8)
ALLOWED = (MalformedPayload, ValidationError)


def survives(call: Any) -> None:
    try:
        outcome = call()
    except ALLOWED:
        return
    assert isinstance(outcome, Comments | Handshake | Revoked)


@settings(max_examples=300)
@given(json_objects, st.sampled_from([1, 2, 3, 4, 5, None]))
def test_garbage_never_crashes_a_normaliser(payload: dict[str, Any], discord_type: int | None) -> None:
    kw: dict[str, Any] = {"received_at": NOW, "pseudonymise": PSEUDO}
    survives(lambda: meta.normalise({"object": "page", **payload}, **kw))
    survives(lambda: meta.normalise({"object": "instagram", **payload}, **kw))
    survives(lambda: slack.normalise({"type": "event_callback", **payload}, **kw))
    for message_type in ("notification", "revocation", "webhook_callback_verification"):
        survives(
            lambda mt=message_type: twitch.normalise(
                {"subscription": {"type": "channel.chat.message"}, **payload},
                message_type=mt,
                message_id="m",
                sent_at=NOW,
                **kw,
            )
        )
    survives(lambda: telegram.normalise(payload, **kw))
    survives(lambda: discord.normalise({"type": discord_type, **payload}, **kw))
    survives(lambda: mastodon.normalise(payload, **kw))
    survives(lambda: generic.normalise(payload, **kw))
    with contextlib.suppress(ALLOWED):
        youtube.thread_items(payload, "UC1", **kw)

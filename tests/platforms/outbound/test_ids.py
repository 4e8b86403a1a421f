"""Each platform's CommentRef, as ingest's normalisers fill it, mapped to what its API addresses."""

from __future__ import annotations

import pytest
from vigie_platforms.discord.ids import address as discord_address
from vigie_platforms.discord.ids import nonce
from vigie_platforms.facebook.ids import address as facebook_address
from vigie_platforms.instagram.ids import address as instagram_address
from vigie_platforms.mastodon.ids import address as mastodon_address
from vigie_platforms.outbound import BadReference
from vigie_platforms.slack.ids import address as slack_address
from vigie_platforms.slack.ids import escape, thread_root, unescape
from vigie_platforms.telegram.ids import address as telegram_address
from vigie_platforms.twitch.ids import address as twitch_address
from vigie_platforms.youtube.ids import address as youtube_address
from vigie_platforms.youtube.ids import top_level_id
from vigie_shared.events.v1 import CommentRef, Platform


def ref(platform: Platform, community: str, thread: str, comment: str) -> CommentRef:
    return CommentRef(platform=platform, community=community, thread_id=thread, comment_id=comment)


def test_facebook_replies_on_the_comment_of_the_pages_post() -> None:
    where = facebook_address(ref(Platform.FACEBOOK, "my-page", "my-page_1", "my-page_1_1"))
    assert (where.page_id, where.post_id, where.reply_parent) == ("my-page", "my-page_1", "my-page_1_1")


def test_instagram_replies_on_the_comment() -> None:
    where = instagram_address(ref(Platform.INSTAGRAM, "1784", "media-1", "c-9"))
    assert (where.account_id, where.media_id, where.reply_parent) == ("1784", "media-1", "c-9")


@pytest.mark.parametrize(
    ("comment", "parent"), [("UgzAbc", "UgzAbc"), ("UgzAbc.8xYz", "UgzAbc"), ("UgzAbc.8x.Yz", "UgzAbc")]
)
def test_youtube_replies_go_to_the_top_level_comment(comment: str, parent: str) -> None:
    assert youtube_address(ref(Platform.YOUTUBE, "UC1", "vid", comment)).reply_parent == parent
    assert top_level_id(comment) == parent


def test_youtube_channel_comment_has_no_video() -> None:
    assert youtube_address(ref(Platform.YOUTUBE, "UC1", "UC1", "Ugz")).video_id is None
    assert youtube_address(ref(Platform.YOUTUBE, "UC1", "vid", "Ugz")).video_id == "vid"


def test_discord_guild_channel_message_and_direct_messages() -> None:
    where = discord_address(ref(Platform.DISCORD, "g1", "c1", "m1"))
    assert (where.guild_id, where.channel_id, where.message_id) == ("g1", "c1", "m1")
    assert discord_address(ref(Platform.DISCORD, "c2", "c2", "m2")).guild_id is None  # a DM


def test_discord_nonce_is_short_and_stable() -> None:
    assert nonce("draft-1:reply") == nonce("draft-1:reply") != nonce("draft-2:reply")
    assert len(nonce("x" * 500)) == 25


def test_slack_channel_and_ts() -> None:
    where = slack_address(ref(Platform.SLACK, "T1", "C1", "1.000200"))
    assert (where.team_id, where.channel_id, where.ts) == ("T1", "C1", "1.000200")
    assert thread_root({"ts": "1.000100", "thread_ts": "1.000100"}, "1.000200") == "1.000100"
    assert thread_root({"ts": "1.000200"}, "1.000200") == "1.000200"
    assert unescape(escape("<@U1> & co > all")) == "<@U1> & co > all"


def test_telegram_chat_topic_message() -> None:
    where = telegram_address(ref(Platform.TELEGRAM, "-1001", "7", "42"))
    assert (where.chat_id, where.topic_id, where.message_id, where.is_group) == (-1001, 7, 42, True)
    private = telegram_address(ref(Platform.TELEGRAM, "5", "5", "1"))
    assert (private.topic_id, private.is_group) == (None, False)
    with pytest.raises(BadReference):
        telegram_address(ref(Platform.TELEGRAM, "@channel", "@channel", "1"))


def test_twitch_and_mastodon() -> None:
    assert twitch_address(ref(Platform.TWITCH, "b1", "b1", "uuid")).message_id == "uuid"
    where = mastodon_address(ref(Platform.MASTODON, "m.example", "100", "101"))
    assert (where.host, where.status_id) == ("m.example", "101")


@pytest.mark.parametrize(
    "mapper",
    [
        facebook_address,
        instagram_address,
        youtube_address,
        discord_address,
        slack_address,
        telegram_address,
        twitch_address,
        mastodon_address,
    ],
)
def test_a_ref_of_another_platform_is_refused(mapper: object) -> None:
    other = ref(Platform.GENERIC, "1", "1", "1")
    with pytest.raises(ValueError, match="not a"):
        mapper(other)  # type: ignore[operator]

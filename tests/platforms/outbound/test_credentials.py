"""VIGIE_PLATFORM_CREDENTIALS_FILE: validated per platform, held secret, never repeated in errors."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from vigie_platforms.outbound import CredentialsError, CredentialStore, load_credentials, make_credentials
from vigie_platforms.outbound.credentials import REQUIRED_KEYS
from vigie_shared.events.v1 import Platform

from tests.platforms.outbound.fakes import TOKENS, FakePlatforms

SECRET = "s3cr3t-value-that-must-not-leak"


def write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "credentials.json"
    path.write_text(json.dumps(data))
    return path


def test_the_file_loads_every_platform_and_looks_communities_up(tmp_path: Path) -> None:
    fakes = FakePlatforms()
    store = load_credentials(write(tmp_path, fakes.credentials_entries()))
    assert len(store) == len(Platform)
    slack = store.get(Platform.SLACK, "T0FAKE")
    assert slack is not None and slack.secret("bot_token") == TOKENS["slack"]
    assert store.get("slack", "T0FAKE") is slack
    assert store.get(Platform.SLACK, "T0OTHER") is None
    assert store.get("myspace", "x") is None


def test_no_file_means_no_credentials_for_anyone() -> None:
    store = load_credentials(None)
    assert len(store) == 0 and store.get(Platform.FACEBOOK, "1") is None


@pytest.mark.parametrize("platform", list(Platform))
def test_each_required_key_is_named_when_missing(platform: Platform) -> None:
    complete = {
        key: "https://x.example" if key in ("instance_url", "url") else SECRET
        for key in REQUIRED_KEYS[platform]
    }
    make_credentials(platform, "c1", complete)
    for key in REQUIRED_KEYS[platform]:
        partial = {k: v for k, v in complete.items() if k != key}
        with pytest.raises(CredentialsError, match=f"missing key '{key}'") as caught:
            make_credentials(platform, "c1", partial)
        assert SECRET not in str(caught.value)


def test_errors_say_where_and_never_the_value(tmp_path: Path) -> None:
    entries = [
        {"platform": "slack", "community": "T1", "credentials": {"bot_token": SECRET}},
        {
            "platform": "twitch",
            "community": "42",
            "credentials": {"client_id": SECRET, "access_token": SECRET},
        },
    ]
    with pytest.raises(CredentialsError) as caught:
        load_credentials(write(tmp_path, entries))
    message = str(caught.value)
    assert "entry 1" in message and "twitch" in message and "'42'" in message and "sender_id" in message
    assert SECRET not in message
    assert caught.value.__suppress_context__  # the decoder's or validator's detail is not chained


@pytest.mark.parametrize(
    ("entry", "fragment"),
    [
        ({"platform": "myspace", "community": "a", "credentials": {}}, "unknown platform"),
        ({"platform": "slack", "community": "", "credentials": {"bot_token": SECRET}}, "community"),
        (
            {"platform": "slack", "community": "T", "credentials": {"bot_token": SECRET, "bot_tokn": SECRET}},
            "bot_tokn",
        ),
        ({"platform": "slack", "community": "T", "credentials": {"bot_token": ""}}, "is empty"),
        ({"platform": "slack", "community": "T", "credentials": {"bot_token": ["x"]}}, "must be a string"),
        ({"platform": "slack", "community": "T", "credentials": SECRET}, "must be an object"),
        (
            {
                "platform": "mastodon",
                "community": "m",
                "credentials": {"instance_url": SECRET, "access_token": SECRET},
            },
            "http(s) URL",
        ),
        (
            {
                "platform": "mastodon",
                "community": "m",
                "credentials": {
                    "instance_url": "https://m.example",
                    "access_token": SECRET,
                    "max_characters": "lots",
                },
            },
            "positive integer",
        ),
    ],
)
def test_malformed_entries_are_refused(entry: dict[str, Any], fragment: str) -> None:
    with pytest.raises(CredentialsError, match="entry 0") as caught:
        CredentialStore.from_data([entry])
    assert fragment in str(caught.value)
    assert SECRET not in str(caught.value)


def test_two_entries_for_one_community_are_refused() -> None:
    entry = {"platform": "discord", "community": "g1", "credentials": {"bot_token": SECRET}}
    with pytest.raises(CredentialsError, match="appears twice"):
        CredentialStore.from_data([entry, entry])


def test_invalid_json_does_not_echo_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('[{"platform": "slack", "credentials": {"bot_token": "' + SECRET + '"')
    with pytest.raises(CredentialsError, match="not valid JSON") as caught:
        load_credentials(path)
    assert SECRET not in str(caught.value)
    with pytest.raises(CredentialsError, match="cannot read"):
        load_credentials(tmp_path / "missing.json")
    with pytest.raises(CredentialsError, match="JSON list"):
        load_credentials(write(tmp_path, {"platform": "slack"}))


def test_values_are_secret_in_every_rendering(caplog: pytest.LogCaptureFixture) -> None:
    credentials = make_credentials("telegram", "-100", {"bot_token": SECRET})
    store = CredentialStore([credentials])
    logging.getLogger("test").warning("credentials %s %r %s", credentials, credentials, store)
    rendered = " ".join(
        [repr(credentials), str(credentials), repr(store), repr(credentials.values), caplog.text]
    )
    assert SECRET not in rendered
    assert credentials.get("bot_token") == SECRET and credentials.get("other") is None
    with pytest.raises(KeyError):
        credentials.secret("other")


def test_mastodon_instance_url_is_normalised() -> None:
    credentials = make_credentials(
        "mastodon",
        "m.example",
        {"instance_url": "https://m.example/", "access_token": SECRET, "max_characters": 5000},
    )
    assert credentials.secret("instance_url") == "https://m.example"
    assert credentials.secret("max_characters") == "5000"

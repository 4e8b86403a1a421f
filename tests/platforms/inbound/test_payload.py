"""The JSON every connector reads: refused with a fixed reason, or cleaned, never a crash later on."""

from __future__ import annotations

import json

import pytest
from vigie_platforms.inbound.errors import MalformedPayload
from vigie_platforms.inbound.payload import MALFORMED, NOT_AN_OBJECT, NUMBER_TOO_LONG, parse_json


def test_an_integer_over_the_digit_limit_is_refused_not_raised() -> None:
    body = b'{"update_id": ' + b"7" * 4_301 + b"}"
    with pytest.raises(MalformedPayload) as refused:
        parse_json(body)
    assert refused.value.reason == NUMBER_TOO_LONG
    # At the limit it is still a number (and the connector's own bounds apply later).
    assert len(str(parse_json(b'{"n": ' + b"7" * 4_300 + b"}")["n"])) == 4_300


def test_lone_surrogate_escapes_become_replacement_characters() -> None:
    body = rb'{"text": "a\ud800b", "\udfffkey": ["\uDBFF", {"deep": "x\udc00"}]}'
    payload = parse_json(body)
    assert payload == {"text": "a\ufffdb", "\ufffdkey": ["\ufffd", {"deep": "x\ufffd"}]}
    # What comes out can always be encoded again (pseudonyms, events, logs).
    json.dumps(payload, ensure_ascii=False).encode()


def test_lone_surrogates_are_replaced_in_utf16_bodies_too() -> None:
    body = '{"text": "a\\ud800"}'.encode("utf-16-le")
    assert parse_json(body) == {"text": "a\ufffd"}


def test_escaped_surrogate_pairs_are_kept_as_the_character_they_spell() -> None:
    # Meta and others send emoji as escaped UTF-16 pairs: they must survive untouched.
    assert parse_json(rb'{"text": "ok \ud83d\ude00"}') == {"text": "ok \U0001f600"}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"a": 1,', MALFORMED),
        (b"\xff\xfe{}", MALFORMED),
        (b"[" * 100_000 + b"]" * 100_000, MALFORMED),
        (b"[1, 2]", NOT_AN_OBJECT),
        (b'"\\ud800"', NOT_AN_OBJECT),
    ],
    ids=["truncated", "not-utf8", "too-deep", "array", "string"],
)
def test_malformed_bodies_get_a_fixed_reason(body: bytes, reason: str) -> None:
    with pytest.raises(MalformedPayload) as refused:
        parse_json(body)
    assert refused.value.reason == reason


def test_a_deep_body_with_a_surrogate_is_cleaned_as_deep_as_json_parses() -> None:
    depth = 900  # json parses it; a recursive walk would overflow Python's stack
    body = b'{"a": ' + b"[" * depth + b'"\\ud800"' + b"]" * depth + b"}"
    node = parse_json(body)["a"]
    for _ in range(depth - 1):
        node = node[0]
    assert node == ["\ufffd"]

"""Every signature helper refuses a non-ASCII header with a reason; none lets a TypeError through."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from nacl.signing import SigningKey
from vigie_platforms.inbound.errors import Unauthenticated
from vigie_platforms.inbound.signatures import (
    BAD,
    BAD_TIMESTAMP,
    NOT_ASCII,
    matches,
    parse_unix_seconds,
    require_ed25519,
    require_hmac,
    require_token,
)

SECRET = b"s3cret"
BODY = b'{"a": 1}'
# What Starlette makes of a header byte 0xE9: the Latin-1 character.
E_ACUTE = b"\xe9".decode("latin-1")


def digest(secret: bytes = SECRET, body: bytes = BODY) -> str:
    return hmac.new(secret, body, hashlib.sha256).hexdigest()


def reason(call: object) -> str:
    assert callable(call)
    with pytest.raises(Unauthenticated) as refused:
        call()
    return refused.value.reason


def test_hmac_refuses_non_ascii_anywhere_in_the_header() -> None:
    good = "sha256=" + digest()
    require_hmac((SECRET,), BODY, good)
    assert reason(lambda: require_hmac((SECRET,), BODY, good[:-1] + E_ACUTE)) == NOT_ASCII
    assert reason(lambda: require_hmac((SECRET,), BODY, E_ACUTE + good)) == NOT_ASCII
    assert reason(lambda: require_hmac((SECRET,), BODY, "sha256=" + "\u0660" * 64)) == NOT_ASCII
    assert reason(lambda: require_hmac((SECRET,), BODY, good.replace("a", "b"))) == BAD


def test_matches_says_which_secret_signed() -> None:
    assert matches((b"other", SECRET, SECRET), BODY, digest()) == (False, True, True)
    with pytest.raises(Unauthenticated):
        matches((SECRET,), BODY, digest()[:-1] + E_ACUTE)


def test_token_refuses_non_ascii() -> None:
    require_token((b"token-1",), "token-1")
    assert reason(lambda: require_token((b"token-1",), "token-" + E_ACUTE)) == NOT_ASCII
    assert reason(lambda: require_token((b"token-1",), "token-2")) == BAD


def test_ed25519_refuses_non_ascii() -> None:
    key = SigningKey(bytes(range(32)))
    public = (key.verify_key.encode().hex().encode(),)
    signature = key.sign(BODY).signature.hex()
    require_ed25519(public, BODY, signature)
    assert reason(lambda: require_ed25519(public, BODY, signature[:-1] + E_ACUTE)) == NOT_ASCII


@pytest.mark.parametrize("raw", ["17329" + E_ACUTE, "\u0661\u0662\u0663", "nan", "inf", "", "1e999"])
def test_unix_seconds_refuse_what_is_not_plain_ascii_and_finite(raw: str) -> None:
    # float() would read Arabic-Indic digits: a header of them is still not a Unix time we accept.
    assert reason(lambda: parse_unix_seconds(raw)) == BAD_TIMESTAMP

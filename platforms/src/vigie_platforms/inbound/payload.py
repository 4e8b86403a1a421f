"""A signed body turned into the JSON object a normaliser reads, or a refusal with a fixed reason.

Python's `json` accepts inputs that later fail far from the parser: integers of more than 4,300
digits raise a plain ValueError (the int/str conversion limit, CVE-2020-10735), and `\\ud800`
escapes decode to lone surrogates that no UTF-8 encoder will take back (pseudonymising an id,
serialising the event). Both are dealt with here, once, for every platform.
"""

from __future__ import annotations

import json
import re
from typing import Any

from vigie_platforms.inbound.errors import MalformedPayload

MALFORMED = "malformed JSON"
NOT_AN_OBJECT = "JSON body must be an object"
NUMBER_TOO_LONG = "JSON number too long"

# Any escape in the surrogate range: a lone one, or half of a pair (checked exactly afterwards).
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def parse_json(body: bytes) -> dict[str, Any]:
    """The body as a JSON object; lone surrogates become U+FFFD, as a UTF-8 decoder would make them."""
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise MalformedPayload(MALFORMED) from None
    except ValueError:
        # Not a JSONDecodeError: the only other ValueError json raises is the integer digits limit.
        raise MalformedPayload(NUMBER_TOO_LONG) from None
    if not isinstance(payload, dict):
        raise MalformedPayload(NOT_AN_OBJECT)
    # Raw UTF-8 cannot carry a surrogate (the decoder refuses it), so only an escape can: the scan
    # of the whole tree is paid only by bodies that hold one, emoji written as escaped pairs included.
    # json also reads UTF-16 and UTF-32 bodies, where that byte search would miss: those are scanned.
    if json.detect_encoding(body) != "utf-8" or _SURROGATE_ESCAPE.search(body):
        _replace_lone_surrogates(payload)
    return payload


def _clean(text: str) -> str:
    return _LONE_SURROGATE.sub(REPLACEMENT, text)


def _replace_lone_surrogates(root: dict[str, Any]) -> None:
    """In place, without recursion: json nests deeper than Python's stack would let a walk go."""
    stack: list[dict[str, Any] | list[Any]] = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            for index, item in enumerate(node):
                if isinstance(item, str):
                    node[index] = _clean(item)
                elif isinstance(item, dict | list):
                    stack.append(item)
            continue
        for key in list(node):
            value = node[key]
            if isinstance(value, str):
                value = _clean(value)
            elif isinstance(value, dict | list):
                stack.append(value)
            fixed = _clean(key)
            if fixed != key:
                del node[key]
            node[fixed] = value

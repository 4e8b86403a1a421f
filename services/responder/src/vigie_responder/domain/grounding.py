"""Whether a rewritten reply still says only what the knowledge-base entry says. Pure.

An LLM asked to fit an answer to a comment may invent: a link, a phone number, a price, a date.
Each check compares what the candidate contains with what the grounded answer contains; anything
new fails it, and the template draft stands.
"""

from __future__ import annotations

import re

_URL = re.compile(r"(?i)\b(?:https?://|www\.)\S+|\b[a-z0-9-]+\.(?:com|fr|net|org|io|be|ch|ca|shop)\b")
_PRICE = re.compile(
    r"(?i)(?:[€$£]\s*\d+(?:[.,]\d+)?|\d+(?:[.,]\d+)?\s*(?:€|\$|£|eur|euros?|usd|dollars?|cad|chf))"
)
_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|novembre|décembre|decembre"
)
_DATE = re.compile(
    rf"(?i)\b\d{{1,2}}[/-]\d{{1,2}}(?:[/-]\d{{2,4}})?\b|\b\d{{1,2}}\.\d{{1,2}}\.\d{{2,4}}\b|\b\d{{1,2}}(?:st|nd|rd|th|er)?\s+(?:{_MONTHS})\b"
    rf"|\b(?:{_MONTHS})\s+\d{{1,2}}\b|\b(?:19|20)\d{{2}}\b"
)
_PHONE = re.compile(r"(?:\+\d{1,3}[\s.-]?)?(?:\(?\d{2,4}\)?[\s.-]?){2,5}\d{2,4}")


def _normalise(found: str) -> str:
    return re.sub(r"[\s.,/-]", "", found.casefold())


def _amount(found: str) -> str:
    """A price as its number alone: '€4.90', '4,90 €' and '4.90 EUR' are one amount."""
    number = re.search(r"\d+(?:[.,]\d+)?", found)
    return "" if number is None else number.group(0).replace(",", ".")


def _novel(pattern: re.Pattern[str], candidate: str, grounded: str) -> list[str]:
    key = _amount if pattern is _PRICE else _normalise
    allowed = {key(m.group(0)) for m in pattern.finditer(grounded)}
    return [m.group(0) for m in pattern.finditer(candidate) if key(m.group(0)) not in allowed]


def _phones(text: str) -> list[str]:
    return [m.group(0) for m in _PHONE.finditer(text) if sum(ch.isdigit() for ch in m.group(0)) >= 8]


def ungrounded(candidate: str, grounded: str) -> str | None:
    """The first thing the candidate adds to the grounded answer, as a reason; None when it adds none."""
    checks = (("url", _URL), ("price", _PRICE), ("date", _DATE))
    for name, pattern in checks:
        if _novel(pattern, candidate, grounded):
            return f"{name} not in the knowledge-base entry"
    allowed = {_normalise(p) for p in _phones(grounded)}
    if any(_normalise(p) not in allowed for p in _phones(candidate)):
        return "phone number not in the knowledge-base entry"
    return None

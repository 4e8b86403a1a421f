"""Redaction of contact and payment details in texts before they are stored.

E-mail addresses, phone numbers, IBANs, card numbers and IP addresses are replaced by a typed
placeholder such as ``[email:k3f9a2c1d0b7]``. The suffix is a keyed hash (HMAC-SHA256, first 12 hex
digits) of the normalised original: the same address gives the same placeholder, so a privacy
request or an investigation can still find every text that carried it (`placeholder_for`) without
the store holding the address itself. Without a key the placeholder carries the type only.

Detection runs on the original text and the replacements are made in one pass, so a placeholder
is never itself mistaken for a number.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers


class Kind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    IBAN = "iban"
    CARD = "card"
    IP = "ip"


@dataclass(frozen=True, slots=True)
class Found:
    kind: Kind
    start: int
    end: int
    normalised: str


@dataclass(frozen=True, slots=True)
class Redacted:
    text: str
    kinds: tuple[Kind, ...]

    @property
    def changed(self) -> bool:
        return bool(self.kinds)


_EMAIL = re.compile(
    r"(?<![\w.+-])[\w.+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}\b"
)
# Two letters, two check digits, then 11 to 30 alphanumerics, optionally grouped by spaces.
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b", re.IGNORECASE)
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?!\.?\d)")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")

# Regions whose national formats are tried for numbers written without a country code.
DEFAULT_PHONE_REGIONS: tuple[str, ...] = ("FR", "US")


def luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def iban_ok(candidate: str) -> bool:
    """ISO 13616 check: move the first four characters to the end, letters to numbers, mod 97 == 1."""
    compact = candidate.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(char, 36)) for char in rearranged)
    return int(number) % 97 == 1


def _emails(text: str) -> Iterator[Found]:
    for match in _EMAIL.finditer(text):
        yield Found(Kind.EMAIL, match.start(), match.end(), match.group().lower())


def _ibans(text: str) -> Iterator[Found]:
    for match in _IBAN.finditer(text):
        # The pattern also swallows words that follow ("... 189 merci"): drop them until it checks.
        groups = match.group().split(" ")
        for size in range(len(groups), 0, -1):
            candidate = " ".join(groups[:size])
            if iban_ok(candidate):
                end = match.start() + len(candidate)
                yield Found(Kind.IBAN, match.start(), end, candidate.replace(" ", "").upper())
                break


def _cards(text: str) -> Iterator[Found]:
    for match in _CARD.finditer(text):
        digits = re.sub(r"[ -]", "", match.group())
        if 13 <= len(digits) <= 19 and luhn_ok(digits):
            yield Found(Kind.CARD, match.start(), match.end(), digits)


def _ips(text: str) -> Iterator[Found]:
    for pattern in (_IPV4, _IPV6):
        for match in pattern.finditer(text):
            if pattern is _IPV6 and len(match.group()) < 7:
                continue  # "a::b" in prose is not worth a placeholder; real addresses are longer
            try:
                address = ipaddress.ip_address(match.group())
            except ValueError:
                continue
            yield Found(Kind.IP, match.start(), match.end(), address.compressed)


def _phones(text: str, regions: tuple[str, ...]) -> Iterator[Found]:
    for region in regions:
        for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
            normalised = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
            yield Found(Kind.PHONE, match.start, match.end, normalised)


def find(text: str, *, phone_regions: tuple[str, ...] = DEFAULT_PHONE_REGIONS) -> list[Found]:
    """Every detail found, earliest first; where two overlap the earlier-listed kind wins."""
    found: list[Found] = []
    taken: list[tuple[int, int]] = []
    detectors = (_emails(text), _ibans(text), _cards(text), _ips(text), _phones(text, phone_regions))
    for detector in detectors:
        for item in detector:
            if any(item.start < end and start < item.end for start, end in taken):
                continue
            found.append(item)
            taken.append((item.start, item.end))
    return sorted(found, key=lambda item: item.start)


def placeholder_for(kind: Kind, normalised: str, key: bytes | None) -> str:
    """The placeholder a stored text holds in place of this (normalised) value."""
    if not key:
        return f"[{kind.value}]"
    digest = hmac.new(key, f"{kind.value}:{normalised}".encode(), hashlib.sha256).hexdigest()
    return f"[{kind.value}:{digest[:12]}]"


def redact(
    text: str, key: bytes | None, *, phone_regions: tuple[str, ...] = DEFAULT_PHONE_REGIONS
) -> Redacted:
    """The text with every detail replaced by its placeholder, and which kinds were found."""
    found = find(text, phone_regions=phone_regions)
    if not found:
        return Redacted(text, ())
    parts: list[str] = []
    cursor = 0
    for item in found:
        parts.append(text[cursor : item.start])
        parts.append(placeholder_for(item.kind, item.normalised, key))
        cursor = item.end
    parts.append(text[cursor:])
    return Redacted("".join(parts), tuple(item.kind for item in found))


def redact_text(text: str | None, key: bytes | None) -> str | None:
    """`redact` for a nullable column: what stores call at write time."""
    if text is None:
        return None
    return redact(text, key).text


__all__ = [
    "DEFAULT_PHONE_REGIONS",
    "Found",
    "Kind",
    "Redacted",
    "find",
    "iban_ok",
    "luhn_ok",
    "placeholder_for",
    "redact",
    "redact_text",
]

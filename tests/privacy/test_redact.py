from __future__ import annotations

import pytest
from vigie_shared.redact import Kind, iban_ok, luhn_ok, placeholder_for, redact

KEY = b"redaction-test-key"


@pytest.mark.parametrize(
    ("text", "kind", "secret"),
    [
        ("écrivez à jean.dupont+promo@exemple.fr svp", Kind.EMAIL, "jean.dupont+promo@exemple.fr"),
        ("appelez le 06 12 34 56 78 demain", Kind.PHONE, "06 12 34 56 78"),
        ("call +44 20 7946 0958 now", Kind.PHONE, "+44 20 7946 0958"),
        ("or (415) 555-0132 in the US", Kind.PHONE, "(415) 555-0132"),
        ("IBAN FR76 3000 6000 0112 3456 7890 189 merci", Kind.IBAN, "FR76 3000 6000 0112 3456 7890 189"),
        ("iban DE89370400440532013000.", Kind.IBAN, "DE89370400440532013000"),
        ("ma carte 4111 1111 1111 1111 a été débitée", Kind.CARD, "4111 1111 1111 1111"),
        ("card 5500-0000-0000-0004 declined", Kind.CARD, "5500-0000-0000-0004"),
        ("from 192.168.10.254 again", Kind.IP, "192.168.10.254"),
        ("v6 2001:db8:85a3::8a2e:370:7334 here", Kind.IP, "2001:db8:85a3::8a2e:370:7334"),
    ],
)
def test_each_kind_is_replaced_by_a_typed_placeholder(text: str, kind: Kind, secret: str) -> None:
    result = redact(text, KEY)
    assert secret not in result.text
    assert result.kinds == (kind,)
    assert f"[{kind.value}:" in result.text


@pytest.mark.parametrize(
    "text",
    [
        "commande 1234567890123 livrée",  # 13 digits failing Luhn: an order number, not a card
        "FR76 3000 6000 0112 3456 7890 188",  # wrong IBAN check digits
        "rendez-vous à 12:30:45",
        "version 300.1.2.999",  # not an address
        "pas d'arobase ici @ tout",
        "[email:0123456789ab] stays as it is",
    ],
)
def test_look_alikes_are_left_alone(text: str) -> None:
    assert redact(text, KEY).text == text


def test_the_same_value_gives_the_same_placeholder_and_another_key_another() -> None:
    first = redact("Mail: Zoe@Example.org", KEY).text
    second = redact("écrire à zoe@example.org", KEY).text
    assert first.split()[-1] == second.split()[-1]  # normalised: case does not matter
    assert placeholder_for(Kind.EMAIL, "zoe@example.org", KEY) in first
    assert placeholder_for(Kind.EMAIL, "zoe@example.org", b"other") not in first
    assert redact("zoe@example.org", None).text == "[email]"


def test_several_details_in_one_text_are_all_replaced_in_place() -> None:
    text = "Zoé, zoe@example.org, 06 12 34 56 78, carte 4111111111111111, IP 10.0.0.1."
    result = redact(text, KEY)
    assert result.text.startswith("Zoé, [email:")
    assert result.text.endswith("].")
    assert [k.value for k in result.kinds] == ["email", "phone", "card", "ip"]


def test_checksums() -> None:
    assert luhn_ok("79927398713") and not luhn_ok("79927398710")
    assert iban_ok("GB82 WEST 1234 5698 7654 32") and not iban_ok("GB82 WEST 1234 5698 7654 33")


def test_an_invalid_body_is_described_without_quoting_it() -> None:
    """The message goes into dead-letter headers and logs: it names fields, never their values."""
    import json

    from vigie_shared.events import Envelope, EnvelopeError

    body = {
        "comment": {"platform": "facebook", "community": "c", "thread_id": "t", "comment_id": "x"},
        "author": {"pseudonym": "psn_x", "display_name": "Zoé Secret"},
        "text": "SECRET COMMENT TEXT " * 4000,
        "created_at": "not a date SECRET",
        "received_at": "2026-01-01T00:00:00Z",
    }
    headers = {
        "ce_id": "1",
        "ce_type": "comment.received",
        "ce_source": "s",
        "ce_time": "2026-01-01T00:00:00Z",
        "ce_specversion": "1.0",
        "ce_correlationid": "c",
        "ce_dataschema": "vigie:comment.received/v1",
    }
    with pytest.raises(EnvelopeError) as raised:
        Envelope.decode(headers, json.dumps(body).encode())
    message = str(raised.value)
    assert "SECRET" not in message
    assert "text: string_too_long" in message and "created_at: datetime_from_date_parsing" in message

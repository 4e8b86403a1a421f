"""The intent splits: labels, balance across intents and languages, no shared sentence."""

from __future__ import annotations

from collections import Counter

from training.intent import LABELS, LANGUAGES, load_split

SPLITS = {name: load_split(name) for name in ("train", "validation", "test")}


def test_sizes_and_balance() -> None:
    sizes = {name: len(rows) for name, rows in SPLITS.items()}
    assert 550 <= sizes["train"] <= 650
    assert 130 <= sizes["validation"] <= 170
    assert 180 <= sizes["test"] <= 220
    for rows in SPLITS.values():
        cells = Counter((r.intent, r.language) for r in rows)
        assert set(cells) == {(i, lang) for i in LABELS for lang in LANGUAGES}
        assert max(cells.values()) <= 1.5 * min(cells.values())


def test_no_text_in_two_splits() -> None:
    seen: dict[str, str] = {}
    for name, rows in SPLITS.items():
        for row in rows:
            key = " ".join(row.text.lower().split())
            assert seen.setdefault(key, name) == name, row.text


def test_hard_cases_are_present() -> None:
    rows = [r for rows in SPLITS.values() for r in rows]
    one_word = [r for r in rows if len(r.text.split()) == 1]
    assert {r.intent for r in one_word} == set(LABELS)
    # Complaints asked as questions, requests without a question mark.
    assert sum(r.intent == "complaint" and r.text.rstrip().endswith("?") for r in rows) >= 10
    assert sum(r.intent == "request" and "?" not in r.text for r in rows) >= 100
    assert sum(any(ord(c) > 0x2100 for c in r.text) for r in rows) >= 30

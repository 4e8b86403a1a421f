"""The knowledge base and its labelled comments hold together: ids, languages, splits."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

import pytest

from training.kb_eval import KINDS, LANGUAGES, load_entries, load_split

ENTRIES = {e.entry_id: e for e in load_entries()}
SPLITS = {name: load_split(name) for name in ("validation", "test")}


def _key(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    return " ".join(re.sub(r"\W+", " ", "".join(c for c in text if not unicodedata.combining(c))).split())


def test_entries_are_contract_bodies_with_a_slug_id() -> None:
    assert 35 <= len(ENTRIES) <= 50
    for entry in ENTRIES.values():
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", entry.entry_id)
        assert set(entry.questions) <= set(LANGUAGES)
        assert set(entry.answers) <= set(LANGUAGES)
        # CONTRACT.md: at least one question and one answer; here each language asked has its answer.
        assert set(entry.questions) == set(entry.answers)
        assert all(
            entry.questions[lang] and all(q.strip() for q in entry.questions[lang])
            for lang in entry.questions
        )
        assert all(entry.answers[lang].strip() for lang in entry.answers)
        assert entry.tags


def test_some_entries_exist_in_one_language_only() -> None:
    languages = Counter(tuple(sorted(e.questions)) for e in ENTRIES.values())
    assert languages[("en",)] >= 5
    assert languages[("fr",)] >= 5
    assert languages[("en", "fr")] >= 25


@pytest.mark.parametrize("split", ["validation", "test"])
def test_lines_point_at_real_entries_and_kinds_are_consistent(split: str) -> None:
    lines = SPLITS[split]
    assert 230 <= len(lines) <= 270
    for line in lines:
        assert line.kind in KINDS and line.language in LANGUAGES and line.text.strip()
        if line.entry_id is None:
            continue
        entry = ENTRIES[line.entry_id]
        # "crosslingual" means exactly: the entry has no question in the comment's language.
        assert (line.kind == "crosslingual") == (line.language not in entry.questions), line
    kinds = Counter(line.kind for line in lines)
    assert all(kinds[kind] >= 25 for kind in KINDS), kinds


@pytest.mark.parametrize("split", ["validation", "test"])
def test_every_entry_is_asked_and_single_language_entries_mostly_across_languages(split: str) -> None:
    asked = Counter(line.entry_id for line in SPLITS[split] if line.entry_id)
    across = Counter(line.entry_id for line in SPLITS[split] if line.kind == "crosslingual")
    assert set(asked) == set(ENTRIES)
    for entry_id, entry in ENTRIES.items():
        if len(entry.questions) == 1:
            assert across[entry_id] >= 3, entry_id


def test_no_sentence_is_in_both_splits_or_copies_a_kb_question() -> None:
    validation = {_key(line.text) for line in SPLITS["validation"]}
    test = [_key(line.text) for line in SPLITS["test"]]
    assert len(validation) == len(SPLITS["validation"])
    assert len(set(test)) == len(test)
    assert not validation & set(test)
    questions = {_key(q) for e in ENTRIES.values() for qs in e.questions.values() for q in qs}
    assert not (validation | set(test)) & questions

"""The families' translation catalogues (docs/architecture.md#languages): up to date with the code,
complete, in the right script, with every placeholder kept and a status in each header."""

from __future__ import annotations

import re
import unicodedata

import pytest

from tracker.services import catalogues
from tracker.services.languages import LANGUAGES, STATUSES, catalogue_path, catalogue_status

TRANSLATED = [language for language in LANGUAGES if language.code != "en"]
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]|%%|\{\w*\}")
# Names, numbers and codes that are the same in every language.
SAME_IN_EVERY_LANGUAGE = {"NHS", "PALS", "Relay UK", "BSL", "OK"}
# Words spelt the same in a language as in English.
SAME_IN = {"es": {"No"}}


def _messages(code):
    return [message for message in catalogues.read(catalogue_path(code)) if message.id]


def _text(message) -> str:
    return message.string if isinstance(message.string, str) else " ".join(message.string)


def test_the_committed_catalogues_are_up_to_date_with_the_code_and_compiled():
    """Run `flask tracker translations` and commit what it writes when this fails."""
    assert catalogues.problems() == []


@pytest.mark.parametrize("language", TRANSLATED, ids=lambda language: language.code)
def test_every_message_is_translated_not_copied(language):
    untranslated = [
        message.id
        for message in _messages(language.code)
        if not _text(message).strip()
        or message.fuzzy
        or (
            _text(message) == message.id
            and message.id not in SAME_IN_EVERY_LANGUAGE | SAME_IN.get(language.code, set())
        )
    ]
    assert untranslated == []


@pytest.mark.parametrize("language", TRANSLATED, ids=lambda language: language.code)
def test_every_placeholder_is_kept(language):
    broken = [
        (message.id, _text(message))
        for message in _messages(language.code)
        if sorted(PLACEHOLDER.findall(message.id if isinstance(message.id, str) else message.id[0]))
        != sorted(PLACEHOLDER.findall(_text(message)))
    ]
    assert broken == []


def _script_share(text: str, script: str) -> float:
    letters = [ch for ch in PLACEHOLDER.sub("", text) if ch.isalpha()]
    if not letters:
        return 1.0
    name = {"Han": "CJK"}.get(script, script).upper()
    return sum(name in unicodedata.name(ch, "") for ch in letters) / len(letters)


@pytest.mark.parametrize("language", TRANSLATED, ids=lambda language: language.code)
def test_each_catalogue_is_written_in_its_own_script(language):
    if language.script == "Latin":
        assert all(_script_share(_text(m), "Latin") > 0.9 for m in _messages(language.code))
        return
    # Mostly in the language's script; a name such as "NHS" or "Martha's Rule" may stay in Latin letters.
    texts = " ".join(_text(m) for m in _messages(language.code))
    assert _script_share(texts, language.script) > 0.8


@pytest.mark.parametrize("language", TRANSLATED, ids=lambda language: language.code)
def test_each_catalogue_says_whether_a_trust_translator_has_checked_it(language):
    header = catalogue_path(language.code).read_text(encoding="utf-8")[:600]
    assert "# Translation-Status: " in header
    assert catalogue_status(language.code) in STATUSES

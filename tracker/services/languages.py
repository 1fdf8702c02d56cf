"""The languages the family pages and texts come in (docs/architecture.md#languages): NHS England's
Martha's Rule leaflets are published in English and these ten. One place for each language's code,
its name in its own script, its writing direction and the interpreter choice it pre-fills.

A language is shown to families only when the trust has enabled it (`settings.languages_enabled`,
English only by default) and its catalogue is compiled. Each catalogue records who has checked it:
`Translation-Status: draft` in its header until a trust's translator marks it `reviewed`; a family
reading a draft language is told so, in that language, with the emergency instruction in English
beside it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
DEFAULT = "en"


@dataclass(frozen=True)
class Language:
    code: str  # the catalogue's folder and the value kept on a concern (a Babel locale identifier)
    tag: str  # the BCP 47 tag for `lang` and `hreflang`
    native: str  # its name in its own script, as the picker shows it
    english: str
    script: str  # the Unicode script its catalogue is written in (tested)
    interpreter_choice: str  # the form's "preferred language" value it pre-fills
    rtl: bool = False

    @property
    def direction(self) -> str:
        return "rtl" if self.rtl else "ltr"


LANGUAGES: tuple[Language, ...] = (
    Language("en", "en", "English", "English", "Latin", ""),
    Language("ar", "ar", "العربية", "Arabic", "Arabic", "Arabic", rtl=True),
    Language("bn", "bn", "বাংলা", "Bengali", "Bengali", "Bengali"),
    Language("zh_Hans", "zh-Hans", "简体中文", "Chinese (Simplified)", "Han", "Chinese (Simplified)"),
    Language("gu", "gu", "ગુજરાતી", "Gujarati", "Gujarati", "Gujarati"),
    Language("pl", "pl", "Polski", "Polish", "Latin", "Polish"),
    Language("pt", "pt", "Português", "Portuguese", "Latin", "Portuguese"),
    Language("pa", "pa-Guru", "ਪੰਜਾਬੀ", "Punjabi", "Gurmukhi", "Punjabi"),
    Language("ro", "ro", "Română", "Romanian", "Latin", "Romanian"),
    Language("es", "es", "Español", "Spanish", "Latin", "Spanish"),
    Language("ur", "ur", "اردو", "Urdu", "Arabic", "Urdu", rtl=True),
)
_BY_CODE = {language.code: language for language in LANGUAGES}
CODES = tuple(_BY_CODE)


def by_code(code: str | None) -> Language | None:
    return _BY_CODE.get(code or "")


def language_of(code: str | None) -> Language:
    """The language for a stored locale, English for one no longer known."""
    return _BY_CODE.get(code or "") or _BY_CODE[DEFAULT]


def parse_enabled(value: str | None) -> tuple[str, ...]:
    """The trust's enabled languages, in the registry's order, English always first and always on."""
    wanted = {part.strip() for part in (value or "").split(",") if part.strip()}
    return tuple(code for code in CODES if code == DEFAULT or code in wanted)


def unknown_codes(value: str) -> list[str]:
    """The codes in a comma-separated setting that are not languages we have (for the set-up command)."""
    return [part.strip() for part in value.split(",") if part.strip() and part.strip() not in _BY_CODE]


def catalogue_path(code: str, suffix: str = "po") -> Path:
    return TRANSLATIONS / code / "LC_MESSAGES" / f"messages.{suffix}"


_STATUS = re.compile(r"^#\s*Translation-Status:\s*(\w+)\s*$", re.MULTILINE)
STATUSES = ("draft", "reviewed")


@cache
def catalogue_status(code: str) -> str:
    """`reviewed` once a trust's translator has checked the catalogue, else `draft` (English is the
    source, so it is always reviewed). A catalogue without a status line counts as a draft."""
    if code == DEFAULT:
        return "reviewed"
    try:
        header = catalogue_path(code).read_text(encoding="utf-8")[:4000]
    except OSError:
        return "draft"
    found = _STATUS.search(header)
    return found.group(1) if found and found.group(1) in STATUSES else "draft"


@cache
def has_catalogue(code: str) -> bool:
    return code == DEFAULT or catalogue_path(code, "mo").is_file()

"""Cleaning text from outside (docs/architecture.md#security): NFC, no control characters, no bidi overrides in
names, lengths counted in characters. Pure functions; forms turn TextProblem into a message."""

from __future__ import annotations

import re
import unicodedata

from tracker.problems import Problem

# Bidirectional formatting characters (Trojan Source, CVE-2021-42574).
BIDI_CONTROLS = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"))


class TextProblem(Problem):
    """Text that cannot be stored as given. `kind` is one of: control, too_long, multiline."""

    def __init__(self, kind: str, limit: int | None = None):
        super().__init__(kind)
        self.kind = kind
        self.limit = limit


def _refuse_controls(text: str, allowed: str) -> None:
    for char in text:
        category = unicodedata.category(char)
        # Cc: NUL and other control characters (PostgreSQL refuses NUL outright).
        # Cs: lone surrogates, which no database can store as UTF-8.
        if (category == "Cc" and char not in allowed) or category == "Cs":
            raise TextProblem("control")


def clean_line(value: str | None, max_length: int) -> str:
    """One line of text (a name, a bed): NFC, trimmed, bidi controls removed."""
    text = unicodedata.normalize("NFC", value or "").translate(BIDI_CONTROLS).strip()
    if "\n" in text or "\r" in text:
        raise TextProblem("multiline")
    _refuse_controls(text, allowed="\t")
    text = text.replace("\t", " ")
    text = re.sub(r"\s{2,}", " ", text)
    if len(text) > max_length:
        raise TextProblem("too_long", max_length)
    return text


def clean_block(value: str | None, max_length: int) -> str:
    """Free text over several lines: NFC, line endings made \\n, trimmed. Bidi marks are kept
    (right-to-left languages need them); pages show it in an isolated, dir="auto" block."""
    text = unicodedata.normalize("NFC", value or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    _refuse_controls(text, allowed="\n\t")
    if len(text) > max_length:
        raise TextProblem("too_long", max_length)
    return text


def comparable(text: str | None) -> str:
    """A form of the text for spotting identical repeats: case, spacing and punctuation ignored."""
    folded = unicodedata.normalize("NFKC", text or "").casefold()
    return re.sub(r"[\W_]+", " ", folded).strip()

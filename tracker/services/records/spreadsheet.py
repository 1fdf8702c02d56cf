"""The one rule for cells in files staff open in a spreadsheet (docs/architecture.md#security): a value that a
spreadsheet would read as a formula or a command is made inert by a leading apostrophe.

`neutralise` is used by every CSV and Excel export; `NEUTRALISE_SQL` is its twin for exports
that PostgreSQL writes itself (COPY), and a test holds the two to the same answers."""

from __future__ import annotations

from typing import Any

# Formula starters (=, +, -, @), DDE and macro starters (|, %), and the control characters some
# spreadsheets skip before looking for one (tab, carriage return, line feed, NUL).
DANGEROUS_FIRST = ("=", "+", "-", "@", "|", "%", "\t", "\r", "\n", "\0")


def neutralise(value: Any) -> Any:
    """The value to write into a cell. Numbers, dates and None pass through unchanged (a negative
    number is a number, not a formula); text that starts with a dangerous character gets a
    leading apostrophe, which spreadsheets show as text and do not evaluate."""
    if isinstance(value, str) and value.startswith(DANGEROUS_FIRST):
        return "'" + value
    return value


def neutralise_sql(column: str) -> str:
    """PostgreSQL's twin of `neutralise` for a text expression (COPY ... TO STDOUT). `column` is
    an expression we wrote, never user input. (PostgreSQL text cannot hold NUL, so chr(0) is
    left out: it could not be there.)"""
    starters = ", ".join(f"'{ch}'" for ch in DANGEROUS_FIRST if ch.isprintable())
    return (
        f"CASE WHEN left({column}, 1) = ANY (ARRAY[{starters}, chr(9), chr(13), chr(10)]) "
        f"THEN '''' || {column} ELSE {column} END"
    )

"""Reading a whole number from text someone sent: a form field, a query string, a part of an address
(docs/architecture.md#one-web-idiom). Every page and service that reads one reads it here, because
Python's own tests let through what the database or int() then refuses with a server error: `²`
passes str.isdigit() but not int(); `١٢٣` and `１２３` pass int(); 5,000 digits are past int()'s limit;
and anything past 2^31 - 1 is past PostgreSQL's `integer`, the type of every id and version column."""

from __future__ import annotations

# PostgreSQL's `integer` (SQLite's is 64-bit, but the two must refuse alike).
MAX_ID = 2**31 - 1
MAX_DIGITS = 18  # past every range a form asks for, and inside a 64-bit integer


def digits(text: str | None) -> int | None:
    """ASCII digits read as a whole number; None for anything else (a sign, a space, "²", "١٢٣", "１２３").
    A number of more than MAX_DIGITS digits reads as 10**MAX_DIGITS, past every range, without
    converting thousands of digits (int() refuses more than 4,300)."""
    if not text or not text.isascii() or not text.isdigit():
        return None
    significant = text.lstrip("0") or "0"
    return int(significant) if len(significant) <= MAX_DIGITS else 10**MAX_DIGITS


def whole_number(text: str | None, low: int = 0, high: int = MAX_ID) -> int | None:
    """The number `text` spells in ASCII digits (surrounding spaces ignored) if it is from `low` to
    `high`; None for anything else, empty included."""
    number = digits((text or "").strip())
    return number if number is not None and low <= number <= high else None


def database_id(text: str | None) -> int | None:
    """A row's id, or None when `text` cannot be one (so the row is simply not found)."""
    return whole_number(text, 1, MAX_ID)

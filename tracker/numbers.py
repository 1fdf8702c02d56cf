"""Reading a whole number from text someone sent: a form field, a query string, a part of an address
(docs/architecture.md#one-web-idiom). Every page and service that reads one reads it here, because
Python's own tests let through what the database or int() then refuses with a server error: `²`
passes str.isdigit() but not int(); `١٢٣` and `１２３` pass int(); 5,000 digits are past int()'s limit;
and anything past 2^31 - 1 is past PostgreSQL's `integer`, the type of every id and version column."""

from __future__ import annotations

# PostgreSQL's `integer` (SQLite's is 64-bit, but the two must refuse alike).
MAX_ID = 2**31 - 1


def whole_number(text: str | None, low: int = 0, high: int = MAX_ID) -> int | None:
    """The number `text` spells in ASCII digits (surrounding spaces ignored) if it is from `low` to
    `high`; None for anything else, empty included."""
    text = (text or "").strip()
    if not text.isascii() or not text.isdigit() or len(text.lstrip("0")) > len(str(high)):
        return None
    number = int(text)
    return number if low <= number <= high else None


def database_id(text: str | None) -> int | None:
    """A row's id, or None when `text` cannot be one (so the row is simply not found)."""
    return whole_number(text, 1, MAX_ID)


def hours_and_minutes(text: str | None) -> tuple[int, int] | None:
    """(hours, minutes) of a 24-hour time typed "08:00" or "8.00"; None when it is not one."""
    hours, _colon, minutes = (text or "").strip().replace(".", ":").partition(":")
    hour, minute = whole_number(hours, 0, 23), whole_number(minutes, 0, 59)
    return None if hour is None or minute is None else (hour, minute)

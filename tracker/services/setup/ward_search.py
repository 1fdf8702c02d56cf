"""Finding a ward by what a frightened visitor types (docs/architecture.md#a-concerns-path): "7 b", "northgate 7b"
and "respiritory" all find Ward 7B Respiratory at Northgate. The words may come in any order; each word typed must
match a word of the ward's name, its site's name or its code, from its start ("rain" finds Rainbow), or with
one typo (two in words of eight letters or more). Numbers must match exactly: 7 never finds Ward 8.

The ward list's live filter (static/app/tracker.mjs: wardMatches) follows the same rule; a browser test runs
these cases through it."""

from __future__ import annotations

import re

WORD = re.compile(r"[^\W\d_]+|\d+")


def words(text: str) -> list[str]:
    """Lower-case words and numbers, split where letters meet digits ("7B" gives "7", "b")."""
    return WORD.findall(text.casefold())


def typos_allowed(word: str) -> int:
    if word.isdigit() or len(word) < 4:
        return 0
    return 2 if len(word) >= 8 else 1


def distance(a: str, b: str, limit: int) -> int:
    """Edits (insert, delete, substitute, swap two neighbours) from a to b, or limit + 1 once past limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] = []
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(row[j] + 1, current[j - 1] + 1, row[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], before[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        before, row = row, current
    return row[-1]


def word_matches(typed: str, word: str) -> bool:
    if word.startswith(typed):
        return True
    limit = typos_allowed(typed)
    return limit > 0 and not word.isdigit() and distance(typed, word, limit) <= limit


def matches(query: str, *texts: str) -> bool:
    """Whether every word of the query matches a word of the texts (a ward's name, site, code)."""
    haystack = [word for text in texts for word in words(text)]
    return all(any(word_matches(typed, word) for word in haystack) for typed in words(query))

"""What a staff form says when typed text breaks the rule the family's form keeps too (`services/text.py`:
NFC, control characters and lone surrogates refused, length in characters); `web/posted.py: typed`
applies the rule. Staff pages are in English; the family's form says the same in its own words and
languages (`web/concern_form.py`)."""

from __future__ import annotations

from tracker.services.text import TextProblem


def refusal(problem: TextProblem, label: str) -> str:
    if problem.kind == "too_long":
        return f"{label} must be {problem.limit} characters or fewer"
    if problem.kind == "multiline":
        return f"{label} must be on one line"
    return f"{label} has a character we cannot save. Remove it and try again"

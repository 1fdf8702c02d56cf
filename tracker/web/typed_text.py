"""Text typed into a staff form, held to the same rule as the family's form (`services/text.py`):
NFC, control characters and lone surrogates refused, length in characters. Staff pages are in English;
the family's form says the same in its own words and languages (`web/concern_form.py`)."""

from __future__ import annotations

from collections.abc import Mapping

from tracker.problems import FieldProblem
from tracker.services.text import TextProblem, clean_block, clean_line


def typed_text(
    form: Mapping[str, str],
    field: str,
    *,
    label: str,
    limit: int,
    multiline: bool = True,
    required: str | None = None,
) -> str:
    """The field's text, cleaned; FieldProblem when it breaks the rule, or is empty and `required`
    (the message to show) is given."""
    try:
        value = clean_block(form.get(field), limit) if multiline else clean_line(form.get(field), limit)
    except TextProblem as problem:
        raise FieldProblem(field, refusal(problem, label)) from None
    if required and not value:
        raise FieldProblem(field, required)
    return value


def refusal(problem: TextProblem, label: str) -> str:
    if problem.kind == "too_long":
        return f"{label} must be {problem.limit} characters or fewer"
    if problem.kind == "multiline":
        return f"{label} must be on one line"
    return f"{label} has a character we cannot save. Remove it and try again"

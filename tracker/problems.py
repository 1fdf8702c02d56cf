"""Refusals (docs/architecture.md#refusals). A `Problem` is something the person asking must put right,
said in plain English; a view shows it as a form error beside the field (a `FieldProblem`) or as a
message at the top of the page. Services and form readers raise them; nothing else is caught as one."""

from __future__ import annotations


class Problem(ValueError):
    """A refusal to show to the person who asked; its text is the message."""


class FieldProblem(Problem):
    """A refusal about one field of a form: `field` is its HTML name, for the error summary's link."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field

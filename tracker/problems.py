"""Refusals (docs/architecture.md#access). A `Problem` is something the person asking must put right, or be told,
said in plain English: every refusal a service, a model or a form reader raises is one (a forbidden move, a
stale page, a claim that lost, a bad phone number, a period too long). A view shows it as a form error
beside the field (a `FieldProblem`) or as a message at the top of the page."""

from __future__ import annotations


class Problem(ValueError):
    """A refusal to show to the person who asked; its text is the message."""


class FieldProblem(Problem):
    """A refusal about one field of a form: `field` is its HTML name, for the error summary's link."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class FieldProblems(FieldProblem):
    """Problems with several fields of one form, shown all at once: `problems` maps each field's HTML name to
    its message, in the form's order; `field` and the message are the first."""

    def __init__(self, problems: dict[str, str]):
        field, message = next(iter(problems.items()))
        super().__init__(field, message)
        self.problems = dict(problems)

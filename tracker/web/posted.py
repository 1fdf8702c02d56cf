"""Reading what staff post (docs/architecture.md#one-web-idiom). Every form a view reads is a
`PostedForm`: a Flask-WTF form whose validators say what is wrong in plain English, naming the field by
its HTML name so the error summary can link to it. Typed text is held to the one text rule
(`services/text.py`, through `web/typed_text.py`); choices are checked against the list they came from;
numbers, dates and times against their ranges. A view either takes every problem at once (`problems()`,
for pages that list them all) or the first as a `FieldProblem` (`checked()`), which `web/refusals.py`
turns into the error beside the field.

CSRFProtect checks every POST before any view runs, so these forms do not check the token again (and
a form read from a query string, such as the audit search, has none to check)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import date, time
from typing import Any, Self

from flask_wtf import FlaskForm
from wtforms import Field
from wtforms.validators import StopValidation

from tracker import numbers
from tracker.problems import FieldProblem
from tracker.services.text import TextProblem, clean_block, clean_line
from tracker.web.typed_text import refusal


class PostedForm(FlaskForm):
    class Meta:
        csrf = False

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.context: dict[str, Any] = {}
        self.later_problems: dict[str, str] = {}

    @classmethod
    def read(cls, formdata: Mapping | None = None, **context: Any) -> Self:
        """The form filled from `formdata` (the request's form by default) and validated. `context`
        is what the validators check against (a team's members, the trust's time zone)."""
        form = cls() if formdata is None else cls(formdata=formdata)
        form.context = context
        form.validate()
        return form

    def problems(self) -> dict[str, str]:
        """Each field's first problem, by HTML name, in the order the fields are declared (a problem
        found after the fields were read takes its field's place)."""
        found = {}
        for field in self:
            message = str(field.errors[0]) if field.errors else self.later_problems.get(field.name)
            if message:
                found[field.name] = message
        return found | {name: message for name, message in self.later_problems.items() if name not in found}

    def checked(self) -> Self:
        """The form, or its first problem raised as a FieldProblem."""
        for name, message in self.problems().items():
            raise FieldProblem(name, message)
        return self

    def refuse(self, name: str, message: str) -> None:
        """A problem found after the fields were read (a shift that ends before it starts)."""
        self.later_problems.setdefault(name, message)


def raw(field: Field) -> str:
    """What was typed, stripped: '' when the field was absent."""
    return (field.raw_data[0] if field.raw_data else "").strip()


def typed(label: str, limit: int, *, multiline: bool = True, required: str | None = None) -> Callable:
    """Text held to the one rule; the field's data becomes the cleaned text."""

    def check(form: PostedForm, field: Field) -> None:
        value = field.raw_data[0] if field.raw_data else None
        try:
            field.data = clean_block(value, limit) if multiline else clean_line(value, limit)
        except TextProblem as problem:
            raise StopValidation(refusal(problem, label)) from None
        if required and not field.data:
            raise StopValidation(required)

    return check


def one_of(allowed: Collection[str] | Callable[[PostedForm], Collection[str]], message: str, *, optional=False):
    """A value from the list (or from what `allowed(form)` gives, for lists that depend on the
    page); the field's data is the value, or None when left empty and `optional`."""

    def check(form: PostedForm, field: Field) -> None:
        value = raw(field)
        choices = allowed(form) if callable(allowed) else allowed
        if not value and optional:
            field.data = None
            raise StopValidation()
        if value not in choices:
            raise StopValidation(message)
        field.data = value

    return check


def whole_number(label: str, low: int, high: int) -> Callable:
    def check(form: PostedForm, field: Field) -> None:
        number = numbers.digits(raw(field))
        if number is None or not low <= number <= high:
            raise StopValidation(f"{label} must be a whole number from {low} to {high}")
        field.data = number

    return check


def iso_date(label: str) -> Callable:
    def check(form: PostedForm, field: Field) -> None:
        try:
            field.data = date.fromisoformat(raw(field))
        except ValueError:
            raise StopValidation(f"Enter the {label} as a date, like 2026-12-01") from None

    return check


def clock_time(label: str) -> Callable:
    """A 24-hour time, "08:00" or "8.00"."""

    def check(form: PostedForm, field: Field) -> None:
        typed = hours_and_minutes(raw(field))
        if typed is None:
            raise StopValidation(f"Enter the {label} as a 24-hour time, like 08:00 or 20:00")
        field.data = time(*typed)

    return check


def hours_and_minutes(text: str) -> tuple[int, int] | None:
    """ "08:00" or "8.00" as (8, 0): ASCII digits either side of one colon or full stop, and a time of day;
    None otherwise."""
    parts = text.replace(".", ":").split(":")
    if len(parts) != 2:
        return None
    hours, minutes = (numbers.digits(part) for part in parts)
    if hours is None or minutes is None or hours > 23 or minutes > 59:
        return None
    return hours, minutes

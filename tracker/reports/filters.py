"""Reading the reports' query strings, and the implementation status form (a PostedForm). Each function returns
plain values or raises FilterProblems listing every field that is wrong, in plain English: a bad
address is answered with a clear message, never a server error."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from wtforms import Field, HiddenField, StringField
from wtforms.validators import StopValidation

from tracker.models import FamilyRouteStatus, StaffRouteStatus
from tracker.numbers import whole_number
from tracker.problems import Problem
from tracker.services.reports.periods import EARLIEST, Period, ReportProblem, check_period, latest_allowed, month_period
from tracker.web.posted import PostedForm, one_of, raw

DATE_PARTS = ("day", "month", "year")
DASHBOARD_KEYS = frozenset({"site"} | {f"{name}-{part}" for name in ("from", "to") for part in DATE_PARTS})
RETURN_KEYS = frozenset({"site", "month", "year"})
IMPROVEMENT_KEYS = frozenset({"site", "months"})


@dataclass
class FilterProblems(Problem):
    """Every problem found: (field id, message) pairs, in the order of the form."""

    problems: list[tuple[str, str]]

    def __str__(self) -> str:
        return "; ".join(message for _field, message in self.problems)


def _unknown(args: Mapping, allowed: frozenset) -> list[tuple[str, str]]:
    unknown = sorted(key for key in args if key not in allowed)
    if not unknown:
        return []
    names = ", ".join(f"“{key[:40]}”" for key in unknown[:5])
    return [("filters", f"This page has no filter called {names}. Choose the site and dates with the form below.")]


def _date(args: Mapping, name: str, words: str) -> tuple[date | None, str | None]:
    parts = {part: (args.get(f"{name}-{part}") or "").strip() for part in DATE_PARTS}
    if not any(parts.values()):
        return None, f"Enter the {words} date"
    missing = [part for part in DATE_PARTS if not parts[part]]
    if missing:
        return None, f"The {words} date must include a {' and a '.join(missing)}"
    day, month, year = (
        whole_number(parts[part], 1, high) for part, high in zip(DATE_PARTS, (31, 12, 9999), strict=True)
    )
    if day is None or month is None or year is None or len(parts["year"]) != 4:
        return None, f"The {words} date must be a real date, like 1 8 2025"
    try:
        return date(year, month, day), None
    except ValueError:
        return None, f"The {words} date must be a real date, like 1 8 2025"


def dashboard_period(args: Mapping, tz_name: str, today: date) -> Period:
    """The period the query string asks for; this month (local time) when it asks for none."""
    problems = _unknown(args, DASHBOARD_KEYS)
    if not any(args.get(f"{name}-{part}") for name in ("from", "to") for part in DATE_PARTS):
        if problems:
            raise FilterProblems(problems)
        return month_period(today)
    start, start_problem = _date(args, "from", "start")
    end, end_problem = _date(args, "to", "end")
    problems += [
        (f"{name}-day", message) for name, message in (("from", start_problem), ("to", end_problem)) if message
    ]
    if not problems:
        # _date gives a problem whenever it gives no date.
        assert start is not None and end is not None
        try:
            return check_period(Period(start, end), tz_name)
        except ReportProblem as problem:
            problems.append((f"{problem.field}-day", str(problem)))
    raise FilterProblems(problems)


def return_month(args: Mapping, tz_name: str, today: date) -> date:
    """The first day of the month the query string asks for; last month when it asks for none."""
    problems = _unknown(args, RETURN_KEYS)
    month_text, year_text = (args.get("month") or "").strip(), (args.get("year") or "").strip()
    if not month_text and not year_text:
        if problems:
            raise FilterProblems(problems)
        return (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    month, year = whole_number(month_text, 1, 12), whole_number(year_text, 1, 9999)
    if month is None:
        problems.append(("month", "Enter the month as a number from 1 to 12"))
    if year is None or len(year_text) != 4:
        problems.append(("year", "Enter the year as 4 digits, like 2025"))
    if not problems:
        # A month or year that _number refused was added to the problems above.
        assert month is not None and year is not None
        first = date(year, month, 1)
        last = latest_allowed(tz_name)
        if not EARLIEST <= first <= last:
            problems.append(("month", f"Choose a month from January {EARLIEST.year} to December {last.year}"))
        else:
            return first
    raise FilterProblems(problems)


def improvement_months(args: Mapping, default: int, low: int, high: int) -> int:
    """How many months the improvement charts cover; `default` when the query string asks for none."""
    problems = _unknown(args, IMPROVEMENT_KEYS)
    text = (args.get("months") or "").strip()
    months = whole_number(text, low, high) if text else default
    if months is None:
        problems.append(("months", f"Enter the number of months as a whole number from {low} to {high}"))
    if problems:
        raise FilterProblems(problems)
    assert months is not None
    return months


def _month(form: PostedForm, field: Field) -> None:
    """ "2026-11" (the return page's hidden field): a month the reports cover."""
    try:
        year_text, month_text = raw(field).split("-", 1)
        year, month = whole_number(year_text, 1, 9999), whole_number(month_text, 1, 12)
        if year is None or month is None:
            raise ValueError
        field.data = date(year, month, 1)
        if not EARLIEST <= field.data <= latest_allowed(form.context["tz"]):
            raise ValueError
    except ValueError:
        field.data = None
        raise StopValidation("Choose the month again from the return page") from None


class ImplementationForm(PostedForm):
    """A site's implementation status for a month. Read with `tz`, the trust's zone."""

    site = HiddenField()  # the view finds it among the manager's sites, or answers 404
    month = HiddenField(validators=[_month])
    family_route = StringField(
        validators=[
            one_of({s.value for s in FamilyRouteStatus}, "Say whether the patient and family route was live this month")
        ]
    )
    staff_route = StringField(
        validators=[
            one_of(
                {s.value for s in StaffRouteStatus},
                "Say whether the staff route was fully live, partly live or not live",
            )
        ]
    )

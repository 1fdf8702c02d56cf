"""Reading the records pages' forms: dates typed as day, month and year (the NHS date input),
and filters chosen from lists. Anything malformed, reversed, absurd or not on the list comes back
as a plain-English problem tied to its field; unknown field names are ignored."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from tracker.services.text import TextProblem, clean_block

EARLIEST = date(2000, 1, 1)
REASON_LIMIT = 500


@dataclass
class Problems:
    """Problems found in a form: for the error summary and for each field."""

    by_field: dict[str, str] = field(default_factory=dict)

    def add(self, field_id: str, message: str) -> None:
        self.by_field.setdefault(field_id, message)

    def __bool__(self) -> bool:
        return bool(self.by_field)

    def summary(self, id_prefix: str = "") -> list[dict]:
        """For the error summary; `id_prefix` when the page has two forms with the same fields."""
        return [{"text": message, "href": f"#{id_prefix}{field_id}"} for field_id, message in self.by_field.items()]


def latest_date(today: date) -> date:
    return date(today.year + 1, 12, 31)


def read_date(
    values, prefix: str, label: str, problems: Problems, today: date, *, required: bool = True
) -> date | None:
    """A date from <prefix>-day, <prefix>-month and <prefix>-year. `label` names it in messages
    ("The start date")."""
    parts = [(values.get(f"{prefix}-{name}") or "").strip() for name in ("day", "month", "year")]
    field_id = f"{prefix}-day"
    if not any(parts):
        if required:
            problems.add(field_id, f"Enter {label.lower()}")
        return None
    if not all(part.isascii() and part.isdigit() and len(part) <= 4 for part in parts) or len(parts[2]) != 4:
        problems.add(field_id, f"{label} must be a real date, for example 1 3 {today.year}")
        return None
    try:
        moment = date(int(parts[2]), int(parts[1]), int(parts[0]))
    except ValueError:
        problems.add(field_id, f"{label} must be a real date, for example 1 3 {today.year}")
        return None
    latest = latest_date(today)
    if not EARLIEST <= moment <= latest:
        problems.add(field_id, f"{label} must be between 1 January {EARLIEST.year} and 31 December {latest.year}")
        return None
    return moment


def read_period(values, problems: Problems, today: date, *, required: bool = True) -> tuple[date | None, date | None]:
    """The start and end dates ("from" and "to"), both included; the end must not come first."""
    start = read_date(values, "from", "The start date", problems, today, required=required)
    end = read_date(values, "to", "The end date", problems, today, required=required)
    if start and end and start > end:
        problems.add("to-day", "The end date must be the same as or after the start date")
    return start, end


def month_so_far(today: date) -> tuple[date, date]:
    return today.replace(day=1), today


def date_fields(prefix: str, value: date | None, values=None) -> dict:
    """What to show in a date input: what was typed (when re-showing a form), else the date."""
    if values is not None and any(values.get(f"{prefix}-{n}") for n in ("day", "month", "year")):
        return {n: (values.get(f"{prefix}-{n}") or "")[:8] for n in ("day", "month", "year")}
    if value is None:
        return {"day": "", "month": "", "year": ""}
    return {"day": str(value.day), "month": str(value.month), "year": str(value.year)}


def choice(values, name: str, allowed: dict | list, problems: Problems, message: str) -> str | None:
    """One value from a list, or None when left at "any"; anything else is a problem."""
    value = (values.get(name) or "").strip()
    if not value:
        return None
    if value not in allowed:
        problems.add(name, message)
        return None
    return value


def reason(values, problems: Problems) -> str | None:
    try:
        text = clean_block(values.get("reason"), REASON_LIMIT)
    except TextProblem as problem:
        problems.add(
            "reason",
            f"The reason must be {REASON_LIMIT} characters or fewer"
            if problem.kind == "too_long"
            else "The reason contains characters that cannot be saved. Type it again",
        )
        return None
    if not text:
        problems.add("reason", "Say why this export needs patient details")
        return None
    return text


def days_in(start: date, end: date) -> int:
    return (end - start + timedelta(days=1)).days

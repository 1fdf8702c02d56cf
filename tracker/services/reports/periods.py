"""The periods the figures cover (docs/facts.md#nhs-englands-monthly-return): a month or a range of local days in the
trust's time zone, checked before anything is counted (not before the earliest allowed, not in the
future, not longer than a year)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tracker.clock import utcnow
from tracker.problems import Problem

# Dates a report may cover: Martha's Rule began in 2024, so nothing before 2020 is a real request.
EARLIEST = date(2020, 1, 1)


MAX_DAYS = 3 * 366 + 1


class ReportProblem(Problem):
    """A request for figures that cannot be answered; the message says why in plain English."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Period:
    """Local days from `start` to `end`, both included."""

    start: date
    end: date

    @property
    def end_exclusive(self) -> date:
        return self.end + timedelta(days=1)

    def utc_bounds(self, tz_name: str) -> tuple[datetime, datetime]:
        """The UTC instants of local midnight at the start and just after the end."""
        zone = ZoneInfo(tz_name)
        return (
            datetime.combine(self.start, time(0), tzinfo=zone).astimezone(UTC),
            datetime.combine(self.end_exclusive, time(0), tzinfo=zone).astimezone(UTC),
        )

    def describe(self) -> str:
        if self.start.day == 1 and self.end_exclusive.day == 1 and _months_between(self.start, self.end_exclusive) == 1:
            return f"{self.start:%B %Y}"
        return f"{self.start.day} {self.start:%B %Y} to {self.end.day} {self.end:%B %Y}"


def _months_between(first: date, end_exclusive: date) -> int:
    return (end_exclusive.year - first.year) * 12 + end_exclusive.month - first.month


def month_period(month: date) -> Period:
    first = month.replace(day=1)
    return Period(first, _add_months(first, 1) - timedelta(days=1))


def _add_months(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def today_local(tz_name: str) -> date:
    return utcnow().astimezone(ZoneInfo(tz_name)).date()


def latest_allowed(tz_name: str) -> date:
    """The last day a report may reach: the end of next year (a later date is a typing mistake)."""
    return date(today_local(tz_name).year + 1, 12, 31)


def check_period(period: Period, tz_name: str) -> Period:
    """The period if it is sensible; ReportProblem otherwise."""
    last = latest_allowed(tz_name)
    for name, day in (("from", period.start), ("to", period.end)):
        if not EARLIEST <= day <= last:
            raise ReportProblem(
                name,
                f"Dates must be between {EARLIEST.day} January {EARLIEST.year} and {last.day} December {last.year}",
            )
    if period.end < period.start:
        raise ReportProblem("to", "The end date must be the same as or after the start date")
    if (period.end - period.start).days + 1 > MAX_DAYS:
        raise ReportProblem("to", "Choose a period of 3 years or less")
    return period

"""In hours or out of hours (docs/architecture.md#concerns-and-their-clocks): the trust's working window on weekdays, in its
own time zone, with the bank holidays of its region out of hours all day.

Bank holidays come from `tracker/data/bank-holidays.json`, GOV.UK's published list (its README
says where it came from and how it was checked). For a year the file does not cover, the `holidays`
package supplies the dates and `covered()` says so, so the dashboard can tell the reader."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path

import holidays as holidays_package

from tracker.extensions import db
from tracker.models import Settings
from tracker.problems import Problem
from tracker.services.records import audit
from tracker.services.setup import settings_history
from tracker.services.setup.settings import forget_settings

DATA_FILE = Path(__file__).resolve().parents[2] / "data" / "bank-holidays.json"

# GOV.UK's divisions, and the `holidays` package's name for each.
REGIONS = {
    "england-and-wales": "ENG",
    "scotland": "SCT",
    "northern-ireland": "NIR",
}
REGION_NAMES = {
    "england-and-wales": "England and Wales",
    "scotland": "Scotland",
    "northern-ireland": "Northern Ireland",
}


class HoursProblem(Problem):
    """An in-hours setting that cannot be saved; the message says why in plain English."""


@dataclass(frozen=True)
class WorkingHours:
    """What counts as in hours: weekdays from `start` (inclusive) to `end` (exclusive), local time,
    except the region's bank holidays."""

    start: time = time(8, 0)
    end: time = time(18, 0)
    region: str = "england-and-wales"

    def describe(self) -> str:
        return (
            f"Monday to Friday, {self.start:%H:%M} to {self.end:%H:%M}, except bank holidays in "
            f"{REGION_NAMES.get(self.region, self.region)}"
        )


@lru_cache(maxsize=1)
def _published() -> dict[str, dict[date, str]]:
    document = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    return {
        region: {date.fromisoformat(e["date"]): e["title"] for e in document[region]["events"]} for region in REGIONS
    }


def published_years(region: str) -> range:
    """The years the shipped GOV.UK list covers for this region."""
    dates = _published()[region]
    return range(min(dates).year, max(dates).year + 1)


def bank_holidays(region: str, start: date, end: date) -> dict[date, str]:
    """The region's bank holidays from `start` up to, not including, `end`, with their names."""
    if region not in REGIONS:
        raise HoursProblem(f"Unknown bank holiday region {region!r}: choose one of {', '.join(REGIONS)}")
    covered_years = published_years(region)
    found = {day: title for day, title in _published()[region].items() if start <= day < end}
    for year in range(start.year, end.year + 1):
        if year not in covered_years:
            for day, title in holidays_package.UnitedKingdom(subdiv=REGIONS[region], years=year).items():
                if start <= day < end and day.weekday() < 5:
                    found[day] = title
    return dict(sorted(found.items()))


def covered(region: str, start: date, end: date) -> bool:
    """Whether every year from `start` to `end` is in the shipped GOV.UK list (otherwise some dates
    were calculated by the `holidays` package)."""
    years = published_years(region)
    last = date.fromordinal(end.toordinal() - 1)
    return all(year in years for year in range(start.year, last.year + 1))


def is_in_hours(moment_local: datetime, hours: WorkingHours) -> bool:
    """Whether a moment, already in the trust's local time, falls in hours."""
    day = moment_local.date()
    if day.weekday() >= 5 or day in bank_holidays(hours.region, day, day + timedelta(days=1)):
        return False
    return hours.start <= moment_local.time().replace(tzinfo=None) < hours.end


def save_working_hours(actor: audit.Actor, *, start: time, end: time, region: str) -> Settings:
    """Change the trust's in-hours window and bank holiday region (audited). The trust's settings
    must exist already (`flask tracker setup-trust`)."""
    if region not in REGIONS:
        raise HoursProblem(f"The bank holiday region must be one of {', '.join(REGIONS)}")
    if not start < end:
        raise HoursProblem("In hours must start before it ends, on the same day (for example 08:00 to 18:00)")
    settings = db.session.get(Settings, 1)
    if settings is None:
        raise HoursProblem("Set up the trust first (flask tracker setup-trust with its name and phone numbers)")
    before = (settings.in_hours_start, settings.in_hours_end, settings.bank_holiday_region)
    settings.in_hours_start, settings.in_hours_end, settings.bank_holiday_region = start, end, region
    db.session.flush()
    forget_settings()
    names = ("in_hours_start", "in_hours_end", "bank_holiday_region")
    settings_history.kept(
        "working_hours_changed",
        actor,
        settings_history.differing(names, before, (start, end, region)),
        {
            "in_hours_start": start.strftime("%H:%M"),
            "in_hours_end": end.strftime("%H:%M"),
            "bank_holiday_region": region,
        },
    )
    return settings

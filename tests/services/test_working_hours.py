"""In hours and out of hours for the reports: the trust's window on weekdays in local time, the
bank holidays of its region from the shipped GOV.UK list (checked against the `holidays` package),
and the `setup-trust` options that change them."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import holidays
import pytest

from tests.test_cli import run
from tracker.models import AuditEvent, Settings
from tracker.services.reports.working_hours import (
    DATA_FILE,
    REGIONS,
    WorkingHours,
    bank_holidays,
    covered,
    is_in_hours,
    published_years,
)

LONDON = ZoneInfo("Europe/London")
STANDARD = WorkingHours()


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        ("2025-08-26 08:00", True),  # Tuesday, the window opens at 08:00 exactly
        ("2025-08-26 07:59:59", False),
        ("2025-08-26 17:59:59", True),
        ("2025-08-26 18:00", False),  # the window closes at 18:00
        ("2025-08-30 12:00", False),  # Saturday
        ("2025-08-31 12:00", False),  # Sunday
        ("2025-08-25 12:00", False),  # the summer bank holiday in England and Wales
        ("2025-12-26 10:00", False),  # Boxing Day
        ("2026-12-28 10:00", False),  # Boxing Day 2026, moved to the Monday
    ],
)
def test_in_hours_is_weekdays_from_eight_to_six_except_bank_holidays(moment, expected):
    assert is_in_hours(local(moment), STANDARD) is expected


def test_each_region_has_its_own_bank_holidays():
    scotland = WorkingHours(time(8), time(18), "scotland")
    assert is_in_hours(local("2025-08-25 12:00"), scotland)  # England's summer holiday
    assert not is_in_hours(local("2025-08-04 12:00"), scotland)  # Scotland's
    assert not is_in_hours(local("2025-12-01 12:00"), scotland)  # St Andrew's Day, moved to the Monday
    northern_ireland = WorkingHours(time(8), time(18), "northern-ireland")
    assert not is_in_hours(local("2025-07-14 12:00"), northern_ireland)  # the Boyne, moved to the Monday
    assert not is_in_hours(local("2025-03-17 12:00"), northern_ireland)  # St Patrick's Day


def test_the_shipped_list_is_gov_uks_shape_and_agrees_with_the_holidays_package():
    document = json.loads(DATA_FILE.read_text())
    assert set(document) == set(REGIONS)
    package_names = {"england-and-wales": "ENG", "scotland": "SCT", "northern-ireland": "NIR"}
    for region, subdivision in package_names.items():
        events = document[region]["events"]
        assert document[region]["division"] == region
        assert all(set(e) == {"title", "date", "notes", "bunting"} for e in events)
        ours = {date.fromisoformat(e["date"]) for e in events}
        years = published_years(region)
        theirs = {
            day for year in years for day in holidays.UnitedKingdom(subdiv=subdivision, years=year) if day.weekday() < 5
        }
        assert all(day.weekday() < 5 for day in ours), "GOV.UK lists the weekday a holiday is taken on"
        assert ours <= theirs, region
        # Known difference (tracker/data/README.md): the package adds Scotland's 15 June 2026.
        assert theirs - ours == ({date(2026, 6, 15)} if region == "scotland" else set()), region


def test_years_beyond_the_shipped_list_fall_back_to_the_holidays_package_and_say_so():
    last = published_years("england-and-wales")[-1]
    beyond = bank_holidays("england-and-wales", date(last + 1, 1, 1), date(last + 2, 1, 1))
    assert date(last + 1, 1, 1) in beyond or date(last + 1, 1, 2) in beyond or date(last + 1, 1, 3) in beyond
    assert covered("england-and-wales", date(2025, 1, 1), date(2026, 1, 1))
    assert not covered("england-and-wales", date(last, 12, 1), date(last + 1, 2, 1))


def test_unknown_regions_are_refused_with_a_message():
    from tracker.services.reports.working_hours import HoursProblem

    with pytest.raises(HoursProblem, match="england-and-wales"):
        bank_holidays("wales", date(2025, 1, 1), date(2025, 2, 1))


SETUP = [
    "setup-trust",
    "--name",
    "Example NHS Trust",
    "--emergency-instruction",
    "Press the buzzer or call 2222.",
    "--outreach-phone",
    "020 7946 0100",
]


def test_setup_trust_sets_the_in_hours_window_and_region_and_audits_it(app, read):
    assert run(app, *SETUP).exit_code == 0
    settings = read.one(Settings)
    assert (settings.in_hours_start, settings.in_hours_end, settings.bank_holiday_region) == (
        time(8),
        time(18),
        "england-and-wales",
    )
    result = run(
        app, *SETUP, "--in-hours-start", "09:00", "--in-hours-end", "17:30", "--bank-holiday-region", "scotland"
    )
    assert result.exit_code == 0, result.output
    settings = read.one(Settings)
    assert (settings.in_hours_start, settings.in_hours_end, settings.bank_holiday_region) == (
        time(9),
        time(17, 30),
        "scotland",
    )
    # Running it again without the options leaves them as they are.
    assert run(app, *SETUP).exit_code == 0
    assert read.one(Settings).in_hours_start == time(9)
    event = read.one(AuditEvent, AuditEvent.action == "working_hours_changed")
    assert event.changes == {"in_hours_start": "09:00", "in_hours_end": "17:30", "bank_holiday_region": "scotland"}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--in-hours-start", "8am"], "HH:MM on the 24-hour clock"),
        (["--in-hours-start", "18:00", "--in-hours-end", "08:00"], "must start before it ends"),
        (["--bank-holiday-region", "wales"], "Invalid value"),
    ],
)
def test_setup_trust_refuses_a_wrong_window_with_a_message(app, read, options, message):
    result = run(app, *SETUP, *options)
    assert result.exit_code != 0 and message in result.output
    assert read.count(AuditEvent, AuditEvent.action == "working_hours_changed") == 0

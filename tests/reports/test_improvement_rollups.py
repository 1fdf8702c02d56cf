"""The improvement charts read the daily rollups (services/reports/improvement_data.py): each month's calls by
route, review median and 90th percentile, share reviewed within target and daily-check coverage equal the same
figures counted straight from the calls and the daily check (tests/reports/direct_improvement.py, the computation
the rollups replaced), with days kept and days counted live, linked calls counted once, changed team targets and
another time zone. Runs on SQLite and, with TEST_DATABASE_URL, PostgreSQL (where the direct percentiles are
percentile_cont's)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select, update

from tests.reports import direct_improvement
from tests.reports.test_rollups import NOW, build_all, trust  # noqa: F401  (trust: a fixture)
from tracker.extensions import db
from tracker.models import (
    AnsweredBy,
    Bed,
    BedOccupancy,
    CheckChannel,
    Compared,
    DailyCheckAnswer,
    Feeling,
    ReportDay,
    Team,
)
from tracker.services.records import audit
from tracker.services.reports import improvement as charts
from tracker.services.reports import improvement_data, rollups
from tracker.services.reports.dashboard import _team_targets
from tracker.services.reports.periods import Period
from tracker.services.setup import hospital
from tracker.services.setup.settings import current_settings

TODAY = date(2025, 12, 10)  # NOW's day: the seeded calls run from August to December 2025
SPANS = [charts.span(TODAY, 5), charts.span(TODAY, 24), Period(date(2025, 10, 1), date(2025, 11, 30))]


def from_rollups(site_id: int, period: Period, at: str = NOW) -> tuple:
    settings = current_settings()
    with time_machine.travel(at, tick=False):
        now = datetime.fromisoformat(at)
        monthly = improvement_data.monthly(
            site_id, period, _team_targets(), now, settings.linked_calls_counted == "once"
        )
        return (
            charts._calls_by_route(monthly),
            charts._review_times(monthly),
            charts._share_within_target(monthly),
            improvement_data.coverage(site_id, period, settings.timezone, now),
        )


def direct(site_id: int, period: Period, at: str = NOW) -> tuple:
    with time_machine.travel(at, tick=False):
        return (
            direct_improvement.calls_by_route(site_id, period),
            direct_improvement.review_times(site_id, period),
            direct_improvement.share_within_target(site_id, period),
            direct_improvement.coverage(site_id, period, current_settings().timezone),
        )


def assert_same(site_id: int, period: Period, at: str = NOW) -> None:
    found, expected = from_rollups(site_id, period, at), direct(site_id, period, at)
    assert found[0] == expected[0], ("calls by route", period)
    assert found[1] == expected[1], ("review times", period)
    assert found[2] == expected[2], ("share within target", period)
    assert found[3] == expected[3], ("daily check coverage", period)


def seed_stays(ward_id: int, seed: int = 3) -> None:
    """Back-to-back stays in the ward's beds from June to December 2025 (hours to weeks, some across the clocks
    going back, one of no length, the last still open), each answered on some of its days: by staff, by the family
    (some confirmed), and a few for a day the stay was not open (a data slip: never asked)."""
    rng = random.Random(seed)
    for bed in db.session.scalars(select(Bed).where(Bed.ward_id == ward_id)):
        moment = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
        while moment < datetime(2025, 12, 5, tzinfo=UTC):
            length = timedelta(hours=rng.choice([0, 3, 20, 30, 50, 24 * 6, 24 * 17]))
            until = moment + length
            last = until >= datetime(2025, 12, 5, tzinfo=UTC)
            stay = BedOccupancy(bed_id=bed.id, occupied_from=moment, occupied_until=None if last else until)
            db.session.add(stay)
            db.session.flush()
            day = moment.date() - timedelta(days=1)
            while day <= until.date() + timedelta(days=1):
                if rng.random() < 0.6:
                    by = rng.choice([AnsweredBy.STAFF, AnsweredBy.FAMILY])
                    confirmed = datetime.combine(day, datetime.min.time(), UTC) if rng.random() < 0.5 else None
                    for _ in range(rng.choice([1, 1, 2])):  # now and then answered twice
                        db.session.add(
                            DailyCheckAnswer(
                                ward_id=ward_id,
                                bed_id=bed.id,
                                occupancy_id=stay.id,
                                local_day=day,
                                answered_at=datetime.combine(day, datetime.min.time(), UTC),
                                feeling=Feeling.GOOD,
                                compared=Compared.SAME,
                                answered_by=by,
                                channel=CheckChannel.STAFF_ASSISTED if by is AnsweredBy.STAFF else CheckChannel.TABLET,
                                worse=False,
                                confirmed_at=confirmed if by is AnsweredBy.FAMILY else None,
                            )
                        )
                day += timedelta(days=1)
            moment = until + timedelta(hours=rng.choice([0, 2, 30]))
    db.session.commit()


def test_the_rollup_based_figures_equal_the_direct_count(trust):  # noqa: F811
    seed_stays(trust["beds_ward"].id)
    site_ids = (trust["site"].id, trust["east_site"].id)
    for site_id in site_ids:  # nothing kept yet: every day counted live
        assert_same(site_id, SPANS[0])
    build_all()
    for site_id in site_ids:
        for period in SPANS:
            assert_same(site_id, period)
    monthly = from_rollups(trust["site"].id, SPANS[0])
    # July has no calls; August to November do. The slips, repeats and family answers make coverage a share.
    assert sum(monthly[0].values()) > 100 and len(monthly[1][0]) == 4 and any(monthly[3].values())
    assert any(0 < share < 100 for share in monthly[2].values())
    assert any(0 < share < 100 for share in monthly[3].values() if share is not None)
    # Linked calls counted once; then the teams' targets changed after the days were kept.
    hospital.save_linked_calls_counted(audit.Actor.cli(), "once")
    db.session.commit()
    assert_same(trust["site"].id, SPANS[0])
    db.session.execute(update(Team).values(review_target_minutes=40))
    db.session.commit()
    assert_same(trust["site"].id, SPANS[0])


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Kolkata"])
def test_in_another_time_zone_the_figures_stay_exact(trust, zone):  # noqa: F811
    seed_stays(trust["beds_ward"].id)
    build_all()
    with time_machine.travel(NOW, tick=False):
        hospital.save_settings(
            audit.Actor.cli(),
            trust_name="Test Hospitals NHS Trust",
            emergency_instruction="Press the red buzzer or ask any nurse now. Call 2222.",
            outreach_phone="020 7946 0100",
            pals_phone="020 7946 0199",
            text_relatives_allowed=True,
            timezone=zone,
        )
    db.session.commit()
    assert_same(trust["site"].id, SPANS[0])  # the moved days counted live
    build_all()
    for period in SPANS:
        assert_same(trust["site"].id, period)


def test_a_kept_month_is_worked_out_once_and_again_after_any_change_to_its_days(trust, monkeypatch):  # noqa: F811
    site_id, november = trust["site"].id, SPANS[2]  # October and November 2025: every day kept once built
    build_all()
    assert_same(site_id, november)
    read: list[tuple] = []
    days = rollups.days
    monkeypatch.setattr(rollups, "days", lambda *args, **kwargs: read.append(args) or days(*args, **kwargs))
    assert_same(site_id, november)
    assert read == []  # both months remembered: no day read again
    # A call of a kept November day re-coded: that day is stale, so November is counted again (its day live).
    concern = next(
        c
        for c in trust["calls"]
        if c.site_id == site_id and c.raised_local_month == date(2025, 11, 1) and c.to_review_us
    )
    concern.to_review_us += 3_600_000_000
    db.session.commit()
    assert_same(site_id, november)
    assert read == [(site_id, date(2025, 11, 1), date(2025, 11, 30))]
    build_all()  # kept again under a new generation: worked out once more, then remembered
    read.clear()
    assert_same(site_id, november)
    assert_same(site_id, november)
    assert read == [(site_id, date(2025, 11, 1), date(2025, 11, 30))]
    # A row changed behind the trigger's back (a hand edit: same generation) gives wrong figures, remembered; the
    # repair that rewrites it under the same generation is seen all the same (by when it was built).
    day = concern.raised_local_date
    db.session.execute(
        update(ReportDay)
        .where(ReportDay.site_id == site_id, ReportDay.local_day == day)
        .values(durations=ReportDay.durations.op("||")(" "), counts='{"0":' + EMPTY_PART + ',"1":' + EMPTY_PART + "}")
    )
    db.session.commit()
    improvement_data.forget()  # as a process started after the edit
    assert from_rollups(site_id, november)[0] != direct(site_id, november)[0]
    with time_machine.travel(datetime.fromisoformat(NOW) + timedelta(hours=1), tick=False):
        differing, _built = rollups.check(repair=True)
    db.session.commit()
    assert [d.day for d in differing] == [day]
    assert_same(site_id, november)


def test_a_month_with_a_call_not_yet_past_its_target_is_not_remembered(trust):  # noqa: F811
    """A target longer than the days counted live (30 days): a call still waiting for review since November is
    not yet past it on 10 December, and is by mid-January; the share must say so both times."""
    site_id, november = trust["site"].id, SPANS[2]
    build_all()
    db.session.execute(update(Team).values(review_target_minutes=30 * 24 * 60))
    db.session.commit()
    later = "2026-01-15 12:00:00+00:00"
    assert from_rollups(site_id, november)[2] != from_rollups(site_id, november, later)[2]
    assert_same(site_id, november)
    assert_same(site_id, november, later)


EMPTY_PART = (
    '{"groups":{},"hours":'
    + str([0] * 24).replace(" ", "")
    + ',"wards":{},"texted":0,"no_contact":0,"waiting":{},"texts":{}}'
)

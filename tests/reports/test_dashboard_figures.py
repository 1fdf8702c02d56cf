"""The dashboard's figures against figures worked out by hand: October 2025, the month BST ends
(clocks go back at 01:00 UTC on Sunday 26 October), so local hours, in and out of hours, and the
month itself all differ from UTC. Runs on SQLite and, with TEST_DATABASE_URL, PostgreSQL (where the
percentiles come from percentile_cont instead of the sorted query)."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from tests.conftest import build_trust
from tests.reports.calls import (
    ACUTE,
    CHANGE,
    CLINICAL,
    COMMUNICATION,
    CRITICAL_CARE,
    NO_CHANGE,
    OTHER,
    OXYGEN,
    F,
    P,
    S,
    call,
    text,
)
from tracker.extensions import db
from tracker.models import Audience, CancelKind, ConcernStatus, MessageChannel, SendState, SmsOptOut
from tracker.services.reports import dashboard as dashboard_figures
from tracker.services.reports import periods
from tracker.services.setup.settings import current_settings

OCTOBER = periods.Period(date(2025, 10, 1), date(2025, 10, 31))
NOW = "2025-11-05 12:00:00+00:00"  # the open calls have been waiting for days


@pytest.fixture
def october(ctx):
    built = build_trust()
    october_calls(built["ward"], built["beds_ward"])
    return built


def october_calls(w7, w8) -> None:
    """The fixture, on the test trust's two wards; commits."""
    # d1: Wed 1 Oct 08:30 BST, in hours, hour 8.
    d1 = call(
        w7,
        "2025-10-01 07:30",
        F,
        kind=ACUTE,
        outcome=CHANGE,
        changes=[OXYGEN],
        alert=30,
        ack=240,
        reviewed=1200,
        updated=3000,
    )
    # d2: Wed 17:59 BST, in hours (the window ends at 18:00), hour 17; claimed after 10 minutes.
    d2 = call(w7, "2025-10-01 16:59", S, kind=COMMUNICATION, review=False, alert=60, ack=600, updated=1200)
    # d3: Wed 18:00 BST, out of hours, hour 18; reviewed after 45 minutes.
    d3 = call(w8, "2025-10-01 17:00", P, kind=ACUTE, outcome=NO_CHANGE, alert=45, ack=120, reviewed=2700, updated=3600)
    # d4: 00:30 BST on Wed 1 October is 23:30 UTC on 30 September: October's, out of hours, hour 0.
    d4 = call(w8, "2025-09-30 23:30", F, kind=CLINICAL, review=True, alert=20, ack=180, reviewed=1500, updated=2400)
    # d5: Saturday 11:00 BST, out of hours, hour 11.
    d5 = call(
        w7, "2025-10-04 10:00", F, kind=ACUTE, outcome=CRITICAL_CARE, alert=15, ack=60, reviewed=600, updated=1800
    )
    # d6: Monday 27 October 08:00 GMT (after the clocks went back), in hours, hour 8; claimed after 6 minutes.
    call(w7, "2025-10-27 08:00", S, kind=OTHER, review=False, alert=40, ack=360)
    # d7 and d8: 01:30 on Sunday 26 October happened twice (BST, then GMT): both hour 1.
    d7 = call(w8, "2025-10-26 00:30", F, ConcernStatus.NEW, alert=30)  # never claimed: past both targets
    call(w8, "2025-10-26 01:30", P, ConcernStatus.CANCELLED, cancel=CancelKind.WITHDRAWN, alert=25)
    # d9: 23:30 GMT on Friday 31 October; claimed exactly on the 5-minute target, not reviewed yet.
    call(w7, "2025-10-31 23:30", F, ConcernStatus.ACKNOWLEDGED, alert=10, ack=300)
    # Not October's figures: a duplicate, and a September call (only in the trend).
    d10 = call(w7, "2025-10-15 12:00", F, ConcernStatus.CANCELLED, cancel=CancelKind.DUPLICATE, alert=5, ack=5)
    call(w7, "2025-09-15 12:00", F, kind=ACUTE, outcome=CRITICAL_CARE)
    # Texts.
    text(d1, Audience.FAMILY, SendState.ACCEPTED, "delivered")
    text(d2, Audience.FAMILY, SendState.ACCEPTED, "undelivered")
    text(d3, Audience.FAMILY, SendState.DEAD, error="30003")
    text(d4, Audience.FAMILY, SendState.CANCELLED, number="+447400999888")
    db.session.add(SmsOptOut(number="+447400999888", opted_out=True, keyword="STOP"))
    text(d5, Audience.FAMILY, SendState.DEAD, error="21610")
    text(d1, Audience.CLINICIAN, SendState.ACCEPTED, "delivered", number="+447400900101")
    text(d2, Audience.CLINICIAN, SendState.ACCEPTED, "sent", number="+447400900101")
    text(d7, Audience.CLINICIAN, SendState.DEAD, number="+447400900101")
    text(d1, Audience.CLINICIAN, SendState.ACCEPTED, "completed", number="+447400900101", channel=MessageChannel.VOICE)
    text(d10, Audience.FAMILY, SendState.ACCEPTED, "delivered")
    db.session.commit()


@pytest.fixture
def figures(october):
    with time_machine.travel(NOW, tick=False):
        return dashboard_figures.dashboard(october["site"], OCTOBER, current_settings())


def test_calls_by_route_ward_and_type_match_the_hand_count(figures):
    t = figures.tally
    assert (t["calls"], t["route:patient"], t["route:family_carer_advocate"], t["route:staff"]) == (9, 2, 5, 2)
    assert figures.by_ward == [("Ward 7", 5), ("Ward 8", 4)]  # the retired ward had no calls, so is not listed
    assert (
        t["type:acute_deterioration"],
        t["type:clinical_concern"],
        t["type:communication"],
        t["type:discharge_planning"],
        t["type:other_signposted"],
        t["open"],
        t["withdrawn"],
    ) == (3, 1, 1, 0, 1, 2, 1)
    assert (
        t["outcome:critical_care_admission"],
        t["outcome:transfer_enhanced_or_tertiary"],
        t["outcome:change_in_care"],
        t["outcome:no_change"],
        t["change:oxygen"],
    ) == (1, 0, 1, 1, 1)


def test_hours_of_the_day_are_local_including_the_hour_that_happens_twice(figures):
    expected = [0] * 24
    for hour, count in {0: 1, 1: 2, 8: 2, 11: 1, 17: 1, 18: 1, 23: 1}.items():
        expected[hour] = count
    assert figures.by_hour == expected


def test_in_hours_means_weekdays_from_eight_until_six_local_time(figures):
    assert figures.tally["in_hours"] == 3  # d1 08:30 BST, d2 17:59 BST, d6 08:00 GMT
    assert figures.hours.describe() == "Monday to Friday, 08:00 to 18:00, except bank holidays in England and Wales"


def test_clock_medians_and_90th_percentiles_match_the_hand_count(figures):
    clocks = {c.key: c for c in figures.clocks}
    # Seconds, sorted: alert 10 15 20 25 30 30 40 45 60; acknowledge 60 120 180 240 300 360 600;
    # review 600 1200 1500 2700; caller updated 1200 1800 2400 3000 3600. percentile_cont interpolates:
    # p90 of 9 values sits 0.2 of the way from the 8th to the 9th.
    expected = {
        "first_alert": (9, 30, 48),
        "acknowledge": (7, 240, 456),
        "review": (4, 1350, 2340),
        "caller_updated": (5, 2400, 3360),
    }
    for key, (count, median, p90) in expected.items():
        assert clocks[key].count == count, key
        assert clocks[key].median_seconds == pytest.approx(median, abs=0.01), key
        assert clocks[key].p90_seconds == pytest.approx(p90, abs=0.01), key


def test_breaches_count_late_steps_and_calls_still_waiting_past_target(figures):
    clocks = {c.key: c for c in figures.clocks}
    acknowledge, review = clocks["acknowledge"], clocks["review"]
    assert (acknowledge.breaches, acknowledge.target_minutes) == (3, "5")  # d2, d6, and d7 still new
    assert [(row["seconds"] is None, row["status"]) for row in acknowledge.breach_list] == [
        (False, "closed"),
        (True, "new"),
        (False, "closed"),
    ]  # oldest first: d2, d7, d6
    assert acknowledge.breach_list[0]["seconds"] == pytest.approx(600, abs=0.01)
    assert (review.breaches, review.target_minutes) == (3, "30")  # d3, d7, d9 (claimed, still not reviewed)
    assert clocks["first_alert"].breaches is None and clocks["caller_updated"].breaches is None


def test_the_breach_list_links_each_call_by_its_reference(figures):
    for clock in figures.clocks:
        for row in clock.breach_list:
            assert row["reference"].startswith("MR-T") and row["ward"] in {"Ward 7", "Ward 8"}


def test_texts_sent_delivered_failed_and_opted_out(figures):
    assert figures.sms == {
        "family": {"queued": 5, "sent": 2, "delivered": 1, "failed": 3, "opted_out": 2},
        "clinician": {"queued": 3, "sent": 2, "delivered": 1, "failed": 1, "opted_out": 0},
    }


def test_the_trend_covers_twelve_months_to_the_period_and_counts_each_month(figures):
    months = [m["month"] for m in figures.trend]
    assert months[0] == date(2024, 11, 1) and months[-1] == date(2025, 10, 1) and len(months) == 12
    by_month = {m["month"]: m for m in figures.trend}
    assert by_month[date(2025, 10, 1)] == {
        "month": date(2025, 10, 1),
        "calls": 9,
        "patient": 2,
        "family": 5,
        "staff": 2,
        "acute": 3,
    }
    assert by_month[date(2025, 9, 1)]["calls"] == 1 and by_month[date(2025, 9, 1)]["acute"] == 1


def test_a_bank_holiday_is_out_of_hours_all_day(ctx):
    built = build_trust()
    call(built["ward"], "2025-08-25 09:00", F)  # 10:00 BST, Monday 25 August: the summer bank holiday
    call(built["ward"], "2025-08-26 09:00", F)  # 10:00 BST the next day, an ordinary Tuesday
    db.session.commit()
    august = dashboard_figures.dashboard(built["site"], periods.month_period(date(2025, 8, 1)), current_settings())
    assert (august.tally["calls"], august.tally["in_hours"]) == (2, 1)
    assert august.holidays == {date(2025, 8, 25): "Summer bank holiday"} and august.holidays_published


def test_the_trusts_own_in_hours_window_and_region_are_used(ctx):
    from datetime import time

    from tracker.services.records import audit
    from tracker.services.reports.working_hours import save_working_hours

    built = build_trust()
    save_working_hours(audit.Actor.cli(), start=time(9, 0), end=time(17, 0), region="scotland")
    call(built["ward"], "2025-08-04 07:30", F)  # 08:30 BST Monday 4 August: before 09:00, and Scotland's holiday
    call(built["ward"], "2025-08-25 09:00", F)  # 10:00 BST on England's holiday: an ordinary day in Scotland
    db.session.commit()
    august = dashboard_figures.dashboard(built["site"], periods.month_period(date(2025, 8, 1)), current_settings())
    assert (august.tally["calls"], august.tally["in_hours"]) == (2, 1)
    assert list(august.holidays) == [date(2025, 8, 4)]


def test_an_empty_period_gives_zeros_and_no_times(ctx):
    built = build_trust()
    db.session.commit()
    empty = dashboard_figures.dashboard(built["site"], periods.month_period(date(2024, 2, 1)), current_settings())
    assert empty.tally["calls"] == 0 and empty.by_hour == [0] * 24
    assert all(c.count == 0 and c.median_seconds is None and c.p90_seconds is None for c in empty.clocks)


def test_the_figures_are_read_without_loading_a_single_concern(figures, october, app):
    """Counts and percentiles come from SQL: no Concern object is built for the dashboard."""
    from sqlalchemy import event

    from tracker.models import Concern

    loaded = []
    listener = lambda target, _context: loaded.append(target)  # noqa: E731
    event.listen(Concern, "load", listener)
    try:
        db.session.expire_all()
        with time_machine.travel(NOW, tick=False):
            dashboard_figures.dashboard(october["site"], OCTOBER, current_settings())
    finally:
        event.remove(Concern, "load", listener)
    assert loaded == []

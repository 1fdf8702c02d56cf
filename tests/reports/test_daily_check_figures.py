"""The daily check on the dashboard (services/reports/daily_check.py): coverage in bed-days counts only answers staff
recorded or confirmed, for the occupancy they were given for, on a day it was open; "worse" answers and those that
raised a call; and the local implementation section by month."""

from __future__ import annotations

from datetime import UTC, date, datetime

import time_machine
from sqlalchemy import select

from tests.services.test_concerns import raise_one
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import AnsweredBy, Bed, BedOccupancy, CheckChannel, Compared, DailyCheckAnswer, Feeling, Ward
from tracker.services.reports import daily_check
from tracker.services.reports.periods import Period

NOW = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)  # December: UK time is UTC
PERIOD = Period(date(2026, 12, 1), date(2026, 12, 3))


def _stay(ward_id: int, label: str, since: datetime, until: datetime | None) -> int:
    bed = db.session.scalars(select(Bed).where(Bed.ward_id == ward_id, Bed.label == label)).one()
    occupancy = BedOccupancy(bed_id=bed.id, occupied_from=since, occupied_until=until)
    db.session.add(occupancy)
    db.session.flush()
    return occupancy.id


def _answer(occupancy_id: int, day: int, by: AnsweredBy = AnsweredBy.STAFF, **fields) -> None:
    occupancy = db.session.get(BedOccupancy, occupancy_id)
    bed = db.session.get(Bed, occupancy.bed_id)
    worse = fields.pop("worse", False)
    db.session.add(
        DailyCheckAnswer(
            ward_id=bed.ward_id,
            bed_id=bed.id,
            occupancy_id=occupancy_id,
            local_day=date(2026, 12, day),
            answered_at=datetime(2026, 12, day, 10, 0, tzinfo=UTC),
            feeling=Feeling.BAD if worse else Feeling.GOOD,
            compared=Compared.WORSE if worse else Compared.SAME,
            answered_by=by,
            channel=CheckChannel.STAFF_ASSISTED if by is AnsweredBy.STAFF else CheckChannel.TABLET,
            worse=worse,
            **fields,
        )
    )


def seed_december(ward_id: int) -> None:
    """Bay 1: A (30 Nov to 2 Dec 08:00), then B (2 Dec 14:00, still in). Bay 2: C (from 1 Dec, still in).
    Occupied bed-days 1 to 3 December: A 2, B 2, C 3 = 7. Asked: A on the 1st and 2nd, C on the 2nd (a family
    answer staff confirmed) and 3rd = 4. Not asked: B on the 2nd (A's answer that day is not B's), C on the 1st (a
    family answer nobody confirmed), B on the 3rd."""
    a = _stay(ward_id, "Bay 1", datetime(2026, 11, 30, 10, 0, tzinfo=UTC), datetime(2026, 12, 2, 8, 0, tzinfo=UTC))
    b = _stay(ward_id, "Bay 1", datetime(2026, 12, 2, 14, 0, tzinfo=UTC), None)
    c = _stay(ward_id, "Bay 2", datetime(2026, 12, 1, 0, 0, tzinfo=UTC), None)
    ward = db.session.get(Ward, ward_id)
    call = raise_one(ward, worry_details="Mum is much worse today").concern
    _answer(a, 1)
    _answer(a, 2)
    _answer(c, 1, AnsweredBy.FAMILY, worse=True)
    _answer(c, 2, AnsweredBy.FAMILY, confirmed_at=datetime(2026, 12, 2, 11, 0, tzinfo=UTC))
    _answer(c, 3, worse=True, concern_id=call.id)
    assert b
    db.session.commit()


def test_coverage_counts_only_staff_answers_for_the_patient_then_in_the_bed(app, trust):
    with app.app_context(), write_intent(), time_machine.travel(NOW, tick=False):
        seed_december(trust["beds_ward"])
        figures = daily_check.figures(db.session.get(Ward, trust["ward"]).site_id, PERIOD, "Europe/London")
    assert (figures.occupied, figures.asked) == (7, 4)
    assert (figures.answers, figures.unconfirmed, figures.worse, figures.raised_a_call) == (5, 1, 2, 1)
    # December up to today (the 10th): A 2 days, B 9 (2nd to 10th), C 10; still 4 asked.
    assert figures.months == [daily_check.CheckMonth(date(2026, 12, 1), True, 21, 4)]


def test_a_month_with_no_answers_is_not_in_use_and_future_days_are_not_counted(app, trust):
    with app.app_context(), write_intent(), time_machine.travel(NOW, tick=False):
        _stay(trust["beds_ward"], "Bay 1", datetime(2026, 11, 1, tzinfo=UTC), None)
        db.session.commit()
        site_id = db.session.get(Ward, trust["ward"]).site_id
        figures = daily_check.figures(site_id, Period(date(2026, 11, 1), date(2027, 1, 31)), "Europe/London")
    assert [(m.month.month, m.in_use, m.occupied, m.asked) for m in figures.months] == [
        (11, False, 30, 0),
        (12, False, 10, 0),  # the 1st to today, the 10th
        (1, False, 0, 0),
    ]
    assert figures.coverage == 0 and figures.months[2].coverage is None


def test_the_dashboard_shows_the_daily_check_and_its_local_section(app, client, trust, login_as):
    with app.app_context(), write_intent(), time_machine.travel(NOW, tick=False):
        seed_december(trust["beds_ward"])
    with time_machine.travel(NOW, tick=False):
        login_as("manager")
        response = client.get("/reports/?from-day=1&from-month=12&from-year=2026&to-day=3&to-month=12&to-year=2026")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "57% (4 of 7 bed-days)" in html
    assert "Local: not part of the NHS England return" in html
    assert "December 2026" in html and "In use" in html

"""The daily check's figures on the dashboard (docs/architecture.md#reports), for a site and period of local days.

- Coverage is bed-days: a bed counts as occupied on a local day when one of its occupancies was open at any time
  of that day, and as asked when that same occupancy has an answer for that day that staff recorded or confirmed.
  A self-answer nobody confirmed, or an answer given for the bed's previous or next occupant, never counts, so a
  visitor or a wrong bed cannot make a patient who was not asked look asked. Days after today are not counted.
- "Worse" answers are every answer marked worse (self-answers included: the worry is real either way), and how
  many answers raised a call.
- Implementation per month is local: the NHS England return has no such field. A month is "in use" when any
  answer was recorded on the site's wards that month.

Two queries: the occupancies open in the span (by bed, indexed) and the answers in it (by ward and local day, the
index ix_daily_check_answer_ward_id_local_day); the days are counted here."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import AnsweredBy, Bed, BedOccupancy, DailyCheckAnswer, Ward
from tracker.services.reports.periods import Period, _add_months


@dataclass(frozen=True)
class CheckMonth:
    month: date
    in_use: bool
    occupied: int  # bed-days
    asked: int

    @property
    def coverage(self) -> float | None:
        return self.asked / self.occupied if self.occupied else None


@dataclass(frozen=True)
class CheckFigures:
    occupied: int  # occupied bed-days in the period
    asked: int  # of those, asked (staff-recorded or staff-confirmed)
    answers: int
    unconfirmed: int  # self-answers staff have not confirmed: not counted as asked
    worse: int
    raised_a_call: int
    months: list[CheckMonth]

    @property
    def coverage(self) -> float | None:
        return self.asked / self.occupied if self.occupied else None


def _local_days(start: datetime, end: datetime, zone: ZoneInfo) -> list[date]:
    """The local days an occupancy from `start` to `end` (exclusive) was open at any time of."""
    first = start.astimezone(zone).date()
    last = (end - timedelta(microseconds=1)).astimezone(zone).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _occupied(ward_ids: list[int], span: Period, zone: ZoneInfo, now: datetime) -> set[tuple[int, date]]:
    """(occupancy, local day) for every day of the span an occupancy on these wards was open, up to now."""
    open_days: set[tuple[int, date]] = set()
    if span.end < span.start or not ward_ids:
        return open_days
    start_utc = datetime.combine(span.start, time(0), zone).astimezone(UTC)
    end_utc = min(datetime.combine(span.end_exclusive, time(0), zone).astimezone(UTC), now)
    for occupancy_id, since, until in db.session.execute(
        select(BedOccupancy.id, BedOccupancy.occupied_from, BedOccupancy.occupied_until)
        .join(Bed, Bed.id == BedOccupancy.bed_id)
        .where(
            Bed.ward_id.in_(ward_ids),
            BedOccupancy.occupied_from < end_utc,
            (BedOccupancy.occupied_until.is_(None)) | (BedOccupancy.occupied_until > start_utc),
        )
    ):
        begin, stop = max(since, start_utc), min(until or end_utc, end_utc)
        if stop > begin:
            open_days.update((occupancy_id, day) for day in _local_days(begin, stop, zone))
    return open_days


def _answers(ward_ids: list[int], span: Period) -> list:
    if not ward_ids or span.end < span.start:
        return []
    return list(
        db.session.execute(
            select(
                DailyCheckAnswer.occupancy_id,
                DailyCheckAnswer.local_day,
                DailyCheckAnswer.answered_by,
                DailyCheckAnswer.confirmed_at,
                DailyCheckAnswer.worse,
                DailyCheckAnswer.concern_id,
            ).where(
                DailyCheckAnswer.ward_id.in_(ward_ids),
                DailyCheckAnswer.local_day >= span.start,
                DailyCheckAnswer.local_day <= span.end,
            )
        )
    )


def figures(site_id: int, period: Period, tz_name: str) -> CheckFigures:
    """The daily check at `site_id` in `period`, and month by month for the months the period touches."""
    zone = ZoneInfo(tz_name)
    now = utcnow()
    first = period.start.replace(day=1)
    span = Period(
        first, min(_add_months(period.end.replace(day=1), 1) - timedelta(days=1), now.astimezone(zone).date())
    )
    ward_ids = list(db.session.scalars(select(Ward.id).where(Ward.site_id == site_id)))
    open_days = _occupied(ward_ids, span, zone, now)
    asked_days: set[tuple[int, date]] = set()
    answered: Counter[date] = Counter()
    totals: Counter[str] = Counter()
    for occupancy_id, day, answered_by, confirmed_at, worse, concern_id in _answers(ward_ids, span):
        answered[day.replace(day=1)] += 1
        by_staff = answered_by is AnsweredBy.STAFF or confirmed_at is not None
        # Asked only for the occupancy the answer was given for, on a day it was open.
        if by_staff and (occupancy_id, day) in open_days:
            asked_days.add((occupancy_id, day))
        if period.start <= day <= period.end:
            totals["answers"] += 1
            totals["unconfirmed"] += not by_staff
            totals["worse"] += bool(worse)
            totals["raised_a_call"] += concern_id is not None
    occupied = Counter(day for _occupancy, day in open_days)
    asked = Counter(day for _occupancy, day in asked_days)
    months = []
    month = first
    while month <= period.end:
        days = [day for day in occupied if day.replace(day=1) == month]
        months.append(
            CheckMonth(month, answered[month] > 0, sum(occupied[d] for d in days), sum(asked[d] for d in days))
        )
        month = _add_months(month, 1)
    in_period = [day for day in occupied if period.start <= day <= period.end]
    return CheckFigures(
        occupied=sum(occupied[d] for d in in_period),
        asked=sum(asked[d] for d in in_period),
        answers=totals["answers"],
        unconfirmed=totals["unconfirmed"],
        worse=totals["worse"],
        raised_a_call=totals["raised_a_call"],
        months=months,
    )

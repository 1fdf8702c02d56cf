"""What the improvement charts read (docs/architecture.md#improvement-charts), month by month at a site, added up
from the daily rollups (`rollups.py`, docs/architecture.md#daily-rollups) as the dashboard adds them up, never
from the calls: calls by route from each day's coding groups; the review clock's durations merged per month
(sorted, exact: the median and 90th percentile are interpolated over the month's whole list, as
`percentile_cont` does); and each review duration or call still waiting judged against its team's review target
when read (`rollup_sums.breach_count`'s rule). The daily check's coverage per month comes from two queries whose
rows are one per occupancy (and month), never one per bed-day.

A day not kept (recent, or changed since it was kept) is counted from the calls, as on the dashboard."""

from __future__ import annotations

import json
import threading
from bisect import bisect_right
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime, and_, extract, func, or_, select, type_coerce

from tracker.extensions import db
from tracker.models import AnsweredBy, Bed, BedOccupancy, CallerRoute, DailyCheckAnswer, ReportDay, Ward
from tracker.services.reports import rollup_sums, rollups
from tracker.services.reports.counting import MICROS
from tracker.services.reports.percentiles import _percentile
from tracker.services.reports.periods import Period, _add_months

_REVIEW = rollups.CLOCK_KEYS.index("review")
_ROUTES = {route.value: route for route in CallerRoute}
MEMO_MONTHS = 4096  # months kept in memory (per process), least recently used dropped first


@dataclass(frozen=True)
class Monthly:
    """A span's figures by month (the first of each month)."""

    by_route: dict[tuple[date, CallerRoute], int]
    # the month's review clock: (median, 90th percentile) in µs, as percentile_cont interpolates them over the
    # month's merged durations; months with no review absent
    review: dict[date, tuple[float | None, float | None]]
    # (within the team's target, judged): reviewed, or still waiting for review and older than the target
    within: dict[date, tuple[int, int]]


@dataclass(frozen=True)
class _Month:
    by_route: dict[CallerRoute, int]
    review: tuple[float | None, float | None] | None
    within: tuple[int, int]
    # The month's last call still waiting for review passes its target after this moment (epoch µs; None: no such
    # call): read at any later moment the month is the same.
    settled_after: int | None


_MEMO: OrderedDict[tuple, _Month] = OrderedDict()
_MEMO_LOCK = threading.Lock()


def monthly(
    site_id: int, period: Period, teams: dict[int, tuple[int, int]], now: datetime, linked_once: bool
) -> Monthly:
    """The calls' figures by month over `period` (whole months), from the days' rollups.

    A month whose every day is kept (fresh, and before the days counted live) is worked out once per process and
    remembered under what it was worked out from: each day's row as kept (day, generation, when built: a trigger's
    change or a repair gives another), the linked-calls setting and every team's targets. It is used only once its
    calls still waiting for review are all past their target, when the moment it is read no longer changes it."""
    months = _months(period)
    last_kept = rollups.first_live_day() - timedelta(days=1)
    kept: dict[date, list[tuple]] = {}
    if period.start <= last_kept:
        for day, generation, built_at in db.session.execute(
            # built_at only tells one build from another here: read as the driver gives it, without the model's
            # conversion to UTC (a tenth of each dashboard view's cost of these 24 months' keys).
            select(ReportDay.local_day, ReportDay.generation, type_coerce(ReportDay.built_at, DateTime())).where(
                ReportDay.site_id == site_id,
                ReportDay.local_day >= period.start,
                ReportDay.local_day <= min(period.end, last_kept),
                ReportDay.built_generation == ReportDay.generation,
                ReportDay.version == rollups.VERSION,
            )
        ):
            kept.setdefault(day.replace(day=1), []).append((day, generation, built_at))
    targets = tuple(sorted(teams.items()))
    keys: dict[date, tuple] = {}
    figures: dict[date, _Month] = {}
    for month in months:
        rows = kept.get(month, [])
        if len(rows) == (_add_months(month, 1) - month).days:  # every day of the month kept
            keys[month] = key = (site_id, month, linked_once, targets, tuple(sorted(rows)))
            with _MEMO_LOCK:
                found = _MEMO.get(key)
                if found is not None and (
                    found.settled_after is None or rollups.epoch_micros(now) > found.settled_after
                ):
                    _MEMO.move_to_end(key)
                    figures[month] = found
    for first, last in _month_runs([month for month in months if month not in figures]):
        end = _add_months(last, 1) - timedelta(days=1)
        found_days = rollups.days(site_id, first, end, durations=(first, end))
        for month, worked in _add_up(rollups.parts_in(found_days, first, end, linked_once), teams, now).items():
            figures[month] = worked
            if month in keys and (worked.settled_after is None or rollups.epoch_micros(now) > worked.settled_after):
                with _MEMO_LOCK:
                    _MEMO[keys[month]] = worked
                    while len(_MEMO) > MEMO_MONTHS:
                        _MEMO.popitem(last=False)
    return Monthly(
        by_route={(month, route): calls for month, f in figures.items() for route, calls in f.by_route.items()},
        review={month: f.review for month, f in figures.items() if f.review is not None},
        within={month: f.within for month, f in figures.items() if f.within[1]},
    )


def forget() -> None:
    """Drop every remembered month (tests: each test's database is another)."""
    with _MEMO_LOCK:
        _MEMO.clear()


def _month_runs(months: list[date]) -> list[tuple[date, date]]:
    """Consecutive months as (first, last) runs."""
    runs: list[tuple[date, date]] = []
    for month in months:
        if runs and _add_months(runs[-1][1], 1) == month:
            runs[-1] = (runs[-1][0], month)
        else:
            runs.append((month, month))
    return runs


def _add_up(parts: Sequence[tuple[date, rollups.Part]], teams: dict[int, tuple[int, int]], now: datetime) -> dict:
    """{month: _Month} from the days' parts."""
    decoded: dict[str, CallerRoute | None] = {}
    by_route: dict[date, Counter[CallerRoute]] = {}
    review: dict[date, list[int]] = {}
    within: dict[date, list[int]] = {}
    settled: dict[date, int | None] = {}
    for day, part in parts:
        month = day.replace(day=1)
        routes = by_route.setdefault(month, Counter())
        for coding, calls in part.groups.items():
            if coding not in decoded:
                decoded[coding] = _ROUTES.get(json.loads(coding)[2])  # CODING's third column: the route
            route = decoded[coding]
            if route is not None:
                routes[route] += calls
        counts = within.setdefault(month, [0, 0])
        durations = review.setdefault(month, [])
        settled.setdefault(month, None)
        for team, lists in part.durations.items():
            values = lists[_REVIEW]
            durations.extend(values)
            minutes = rollup_sums.target_of(team, teams, 1)
            # A call of a team no longer known has no target to be judged by: in the month's times, not its share.
            if minutes is not None and values:
                counts[0] += bisect_right(values, minutes * 60 * MICROS)
                counts[1] += len(values)
        for team, waiting in part.waiting.items():
            minutes = rollup_sums.target_of(team, teams, 1)
            if minutes is not None and waiting[1]:
                cutoff = rollups.epoch_micros(now - timedelta(minutes=minutes))
                counts[1] += sum(1 for raised in waiting[1] if raised < cutoff)
                last = waiting[1][-1] + minutes * 60 * MICROS  # each list is sorted
                settled[month] = max(last, settled[month] or last)
    worked = {}
    for month, values in review.items():
        values.sort()  # runs already sorted by day and team: Timsort merges them
        worked[month] = _Month(
            by_route=dict(by_route[month]),
            review=(_percentile(values, 0.5), _percentile(values, 0.9)) if values else None,
            within=(within[month][0], within[month][1]),
            settled_after=settled[month],
        )
    return worked


# --- the daily check's coverage ---------------------------------------------------------------------------------


def coverage(site_id: int, period: Period, tz_name: str, now: datetime) -> dict[date, Fraction | None]:
    """Daily check coverage (percent) by month over `period` (whole months), as `daily_check.figures` defines it:
    occupied bed-days (an occupancy open at any time of a local day, up to now) and of those the ones asked (a
    staff-recorded or staff-confirmed answer for that occupancy on that day). None for a month with no occupied
    bed-day. Each occupancy's open days are worked out once, as a range, and split by month by arithmetic; the
    answers come grouped by occupancy and month with their first and last day, so only an occupancy with an
    answer outside its open days (a data slip) has its days read one by one."""
    zone = ZoneInfo(tz_name)
    today = now.astimezone(zone).date()
    span = Period(period.start.replace(day=1), min(period.end, today))
    months = _months(period)
    ward_ids = list(db.session.scalars(select(Ward.id).where(Ward.site_id == site_id)))
    if not ward_ids or span.end < span.start:
        return dict.fromkeys(months)
    start_utc = datetime.combine(span.start, time(0), zone).astimezone(UTC)
    end_utc = min(datetime.combine(span.end_exclusive, time(0), zone).astimezone(UTC), now)
    open_days, occupied = _open_days(ward_ids, start_utc, end_utc, zone)
    asked = _asked(ward_ids, span, open_days)
    return {month: Fraction(100 * asked[month], occupied[month]) if occupied[month] else None for month in months}


def _open_days(
    ward_ids: list[int], start_utc: datetime, end_utc: datetime, zone: ZoneInfo
) -> tuple[dict[int, tuple[date, date]], Counter[date]]:
    """Each occupancy's first and last open local day in the span, and the occupied bed-days by month."""
    occupied: Counter[date] = Counter()
    open_days: dict[int, tuple[date, date]] = {}
    for occupancy_id, since, until in db.session.execute(
        select(BedOccupancy.id, BedOccupancy.occupied_from, BedOccupancy.occupied_until)
        .join(Bed, Bed.id == BedOccupancy.bed_id)
        .where(
            Bed.ward_id.in_(ward_ids),
            BedOccupancy.occupied_from < end_utc,
            or_(BedOccupancy.occupied_until.is_(None), BedOccupancy.occupied_until > start_utc),
        )
    ):
        begin, stop = max(since, start_utc), min(until or end_utc, end_utc)
        if stop > begin:
            first = begin.astimezone(zone).date()
            last = (stop - timedelta(microseconds=1)).astimezone(zone).date()
            open_days[occupancy_id] = (first, last)
            for month, days in _by_month(first, last):
                occupied[month] += days
    return open_days, occupied


def _asked(ward_ids: list[int], span: Period, open_days: dict[int, tuple[date, date]]) -> Counter[date]:
    """The bed-days asked, by month: an occupancy's distinct days with a staff-recorded or confirmed answer
    inside its open days."""
    asked: Counter[date] = Counter()
    staff = or_(DailyCheckAnswer.answered_by == AnsweredBy.STAFF, DailyCheckAnswer.confirmed_at.is_not(None))
    in_span = and_(
        DailyCheckAnswer.ward_id.in_(ward_ids),
        DailyCheckAnswer.local_day >= span.start,
        DailyCheckAnswer.local_day <= span.end,
        DailyCheckAnswer.occupancy_id.is_not(None),
        staff,
    )
    grouped = db.session.execute(
        select(
            DailyCheckAnswer.occupancy_id,
            func.min(DailyCheckAnswer.local_day),
            func.max(DailyCheckAnswer.local_day),
            func.count(DailyCheckAnswer.local_day.distinct()),
        )
        .where(in_span)
        .group_by(
            DailyCheckAnswer.occupancy_id,
            extract("year", DailyCheckAnswer.local_day),
            extract("month", DailyCheckAnswer.local_day),
        )
    ).all()
    slipped = {
        stay
        for stay, low, high, _days in grouped
        if stay in open_days and not open_days[stay][0] <= low <= high <= open_days[stay][1]
    }
    for stay, low, _high, days in grouped:
        # Not open in the span on the site's wards: none of its answers counts.
        if stay in open_days and stay not in slipped:
            asked[low.replace(day=1)] += days
    if slipped:
        for stay, day in db.session.execute(
            select(DailyCheckAnswer.occupancy_id, DailyCheckAnswer.local_day)
            .where(in_span, DailyCheckAnswer.occupancy_id.in_(sorted(slipped)))
            .distinct()
        ):
            first, last = open_days[stay] if stay is not None else (date.max, date.min)
            if first <= day <= last:
                asked[day.replace(day=1)] += 1
    return asked


def _months(period: Period) -> list[date]:
    months, month = [], period.start.replace(day=1)
    while month <= period.end:
        months.append(month)
        month = _add_months(month, 1)
    return months


def _by_month(first: date, last: date) -> Sequence[tuple[date, int]]:
    """(month, days) for the days from `first` to `last`."""
    found = []
    month = first.replace(day=1)
    while month <= last:
        following = _add_months(month, 1)
        found.append((month, (min(last, following - timedelta(days=1)) - max(first, month)).days + 1))
        month = following
    return found

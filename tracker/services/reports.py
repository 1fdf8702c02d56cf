"""The figures managers read (issue 5): the dashboard for a period and site, and the NHS England
monthly return (domain §2.1). Plain functions returning plain values; the views only show them.

Rules every figure follows (and the pages say so):
- A call belongs to the local day, hour and month in which it was **raised**, in the trust's time
  zone (BST included): 23:30 BST on 31 August is an August call though it is 22:30 UTC.
- A call cancelled as a duplicate of another is the same call counted twice, so it is left out.
  A withdrawn call was still made: it counts as a call, with no outcome.
- Outcome coding (type, clinical review, escalation) counts only once the call is **closed**; open
  and reopened calls are shown as "not coded yet", so an early report cannot look final.

Counting happens in the database, in as few passes over the calls as possible (a year is tens of
thousands of rows): one grouped query for the totals, wards and hours, one for the monthly trend.
Percentiles use PostgreSQL's `percentile_cont`; on SQLite, which has none, one query of the calls'
durations (plain numbers), sorted and interpolated as `percentile_cont` does. No Concern objects
are loaded.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Integer, Text, and_, case, cast, extract, func, literal, not_, or_, select
from sqlalchemy.sql.elements import ColumnElement

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import (
    OPEN_STATUSES,
    Audience,
    CallerRoute,
    CancelKind,
    ChangeInCare,
    Concern,
    ConcernStatus,
    ConcernType,
    DeteriorationOutcome,
    FamilyRouteStatus,
    Message,
    MessageChannel,
    SendState,
    Site,
    SiteImplementation,
    SmsOptOut,
    StaffRouteStatus,
    Team,
    User,
    Ward,
)
from tracker.services import audit
from tracker.services.settings import TrustSettings
from tracker.services.working_hours import WorkingHours, bank_holidays, covered

# Dates a report may cover: Martha's Rule began in 2024, so nothing before 2020 is a real request.
EARLIEST = date(2020, 1, 1)
MAX_DAYS = 3 * 366 + 1
BREACH_LIST_LIMIT = 100
TREND_MONTHS = 12


class ReportProblem(ValueError):
    """A request for figures that cannot be answered; the message says why in plain English."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


# --- periods --------------------------------------------------------------------------------


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
        return (datetime.combine(self.start, time(0), tzinfo=zone).astimezone(UTC),
                datetime.combine(self.end_exclusive, time(0), tzinfo=zone).astimezone(UTC))

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
            raise ReportProblem(name, f"Dates must be between {EARLIEST.day} January {EARLIEST.year} and "
                                      f"{last.day} December {last.year}")
    if period.end < period.start:
        raise ReportProblem("to", "The end date must be the same as or after the start date")
    if (period.end - period.start).days + 1 > MAX_DAYS:
        raise ReportProblem("to", "Choose a period of 3 years or less")
    return period


# --- local time in SQL ----------------------------------------------------------------------


@lru_cache(maxsize=256)
def utc_offsets(tz_name: str, start_utc: datetime, end_utc: datetime) -> tuple[tuple[datetime, datetime, int], ...]:
    """The time zone's offset from UTC (minutes) over [start_utc, end_utc), as (from, to, offset)
    segments, one more at each clock change (BST starts and ends)."""
    zone = ZoneInfo(tz_name)

    def offset(moment: datetime) -> int:
        return int(moment.astimezone(zone).utcoffset().total_seconds() // 60)

    segments = []
    begin, current = start_utc, offset(start_utc)
    probe = start_utc
    while probe < end_utc:
        step = min(probe + timedelta(hours=12), end_utc)
        last = step if step < end_utc else end_utc - timedelta(seconds=1)
        if offset(last) == current:
            probe = step
            continue
        # The clocks changed between probe and last: find the first second of the new offset.
        low, high = int(probe.timestamp()), math.ceil(last.timestamp())
        while high - low > 1:
            middle = (low + high) // 2
            if offset(datetime.fromtimestamp(middle, UTC)) == current:
                low = middle
            else:
                high = middle
        change = datetime.fromtimestamp(high, UTC)
        segments.append((begin, change, current))
        begin, current, probe = change, offset(change), change
    segments.append((begin, end_utc, current))
    return tuple(segments)


class LocalClock:
    """SQL for a UTC timestamp column seen in the trust's local time, for rows whose column lies in
    [start_utc, end_utc), the same on both databases: whole seconds since the epoch plus the zone's
    offset at that moment (from Python's zoneinfo, one CASE branch per clock change), then integer
    arithmetic for the hour, the day and the weekday. Exact at every boundary (no floating point),
    and much cheaper per row than date functions: the dashboard reads every call of a year."""

    def __init__(self, column, tz_name: str, start_utc: datetime, end_utc: datetime):
        self.column = column
        self.segments = utc_offsets(tz_name, start_utc, end_utc)
        if db.session.get_bind().dialect.name == "postgresql":
            epoch = cast(func.floor(extract("epoch", column)), BigInteger)
        else:
            epoch = cast(func.strftime("%s", column), Integer)
        if len(self.segments) == 1:
            offset = literal(self.segments[0][2] * 60)
        else:
            offset = case(*[(column < end, minutes * 60) for _begin, end, minutes in self.segments[:-1]],
                          else_=self.segments[-1][2] * 60)
        self.seconds = epoch + offset  # local wall-clock seconds since 1970-01-01 00:00

    def hour(self) -> ColumnElement:
        return (self.seconds // 3600) % 24

    def in_hours(self, hours: WorkingHours, holidays: Iterable[date]) -> ColumnElement:
        day = self.seconds // 86400
        weekday = (day + 3) % 7  # 1 January 1970 was a Thursday: Monday is 0
        second = self.seconds % 86400
        start = hours.start.hour * 3600 + hours.start.minute * 60 + hours.start.second
        end = hours.end.hour * 3600 + hours.end.minute * 60 + hours.end.second
        condition = and_(weekday < 5, second >= start, second < end)
        epoch_days = [(d - EPOCH).days for d in sorted(holidays)]
        return and_(condition, day.not_in(epoch_days)) if epoch_days else condition


EPOCH = date(1970, 1, 1)


def month_index(column, tz_name: str, first_month: date, months: int) -> ColumnElement:
    """Which local month (0 = `first_month`) a UTC timestamp falls in, by comparing it with the UTC
    instants of local midnight on each first of the month: exact, and cheap on both databases."""
    bounds = [month_period(_add_months(first_month, i)).utc_bounds(tz_name)[0] for i in range(1, months)]
    if not bounds:
        return literal(0)
    return case(*[(column < bound, index) for index, bound in enumerate(bounds)], else_=len(bounds))


def seconds_between(later, earlier, *, exact: bool = True) -> ColumnElement:
    """`later - earlier` in seconds (a float), NULL when either is NULL."""
    if db.session.get_bind().dialect.name == "postgresql":
        return extract("epoch", later - earlier)
    days = func.julianday(later) - func.julianday(earlier)
    if not exact:
        return days * 86400.0  # within a few microseconds: enough for a median shown to the second
    # julianday() is a float of days: rounding to the millisecond removes its representation error,
    # so a call claimed exactly on its 5-minute target is 300.0 seconds, not 300.00000002 (a breach).
    return func.round(days * 86400.0, 3)


def _count(condition) -> ColumnElement:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _change_kind(kind: ChangeInCare) -> ColumnElement:
    # change_in_care is a JSON list of codes; as text each code appears quoted, e.g. ["oxygen"].
    return cast(Concern.change_in_care, Text).like(f'%"{kind.value}"%')


# --- what counts ----------------------------------------------------------------------------

DUPLICATE = and_(Concern.status == ConcernStatus.CANCELLED, Concern.cancel_kind == CancelKind.DUPLICATE)
WITHDRAWN = and_(Concern.status == ConcernStatus.CANCELLED, Concern.cancel_kind != CancelKind.DUPLICATE)
CLOSED = Concern.status == ConcernStatus.CLOSED
STILL_OPEN = Concern.status.in_(sorted(OPEN_STATUSES, key=lambda s: s.value))


def _calls(site_id: int, start_utc: datetime, end_utc: datetime) -> list[ColumnElement]:
    return [Concern.site_id == site_id, Concern.raised_at >= start_utc, Concern.raised_at < end_utc, not_(DUPLICATE)]


ROUTES = [CallerRoute.PATIENT, CallerRoute.FAMILY, CallerRoute.STAFF]
TYPES = [ConcernType.ACUTE_DETERIORATION, ConcernType.CLINICAL_CONCERN, ConcernType.COMMUNICATION,
         ConcernType.DISCHARGE_PLANNING, ConcernType.OTHER_SIGNPOSTED]
OUTCOMES = [DeteriorationOutcome.CRITICAL_CARE_ADMISSION, DeteriorationOutcome.TRANSFER_ENHANCED_OR_TERTIARY,
            DeteriorationOutcome.CHANGE_IN_CARE, DeteriorationOutcome.NO_CHANGE]
CHANGE_KINDS = [ChangeInCare.MEDICATION, ChangeInCare.OXYGEN, ChangeInCare.INVESTIGATIONS, ChangeInCare.OTHER]


def _tally_columns() -> dict[str, ColumnElement]:
    """Every count the dashboard and the return need, as conditional sums over calls."""
    columns = {
        "calls": func.count(),
        "closed": _count(CLOSED),
        "open": _count(STILL_OPEN),
        "withdrawn": _count(WITHDRAWN),
        "review_needed": _count(and_(CLOSED, Concern.clinical_review_needed.is_(True))),
        "review_not_needed": _count(and_(CLOSED, Concern.clinical_review_needed.is_(False))),
    }
    for route in ROUTES:
        columns[f"route:{route.value}"] = _count(Concern.caller_route == route)
    for kind in TYPES:
        columns[f"type:{kind.value}"] = _count(and_(CLOSED, Concern.concern_type == kind))
    acute = and_(CLOSED, Concern.concern_type == ConcernType.ACUTE_DETERIORATION)
    for outcome in OUTCOMES:
        columns[f"outcome:{outcome.value}"] = _count(and_(acute, Concern.deterioration_outcome == outcome))
    changed = and_(acute, Concern.deterioration_outcome == DeteriorationOutcome.CHANGE_IN_CARE)
    for kind in CHANGE_KINDS:
        columns[f"change:{kind.value}"] = _count(and_(changed, _change_kind(kind)))
    return columns


def _tally(site_id: int, start_utc: datetime, end_utc: datetime) -> dict:
    """One pass over the period's calls: every count the monthly return needs."""
    columns = _tally_columns()
    row = db.session.execute(select(*[c.label(f"c{i}") for i, c in enumerate(columns.values())])
                             .where(*_calls(site_id, start_utc, end_utc))).one()
    return {name: int(value or 0) for name, value in zip(columns, row, strict=True)}


# --- the dashboard --------------------------------------------------------------------------


@dataclass(frozen=True)
class Clock:
    key: str
    label: str
    count: int  # calls that have this clock
    median_seconds: float | None
    p90_seconds: float | None
    target_minutes: str | None  # "5" or "5 to 10" when teams differ; None: no target
    breaches: int | None = None
    breach_list: list[dict] = field(default_factory=list)


CLOCKS = [
    ("first_alert", "Raised to first alert sent", Concern.first_alert_sent_at, None),
    ("acknowledge", "Raised to claimed (acknowledged)", Concern.acknowledged_at, Team.ack_target_minutes),
    ("review", "Raised to clinical review", Concern.reviewed_at, Team.review_target_minutes),
    ("caller_updated", "Raised to caller updated", Concern.caller_updated_at, None),
]


@dataclass(frozen=True)
class Dashboard:
    site: dict
    period: Period
    tally: dict
    by_ward: list[tuple[str, int]]
    by_hour: list[int]
    trend: list[dict]
    clocks: list[Clock]
    sms: dict[str, dict[str, int]]
    hours: WorkingHours
    holidays: dict[date, str]
    holidays_published: bool
    generated_at: datetime


def dashboard(site: Site, period: Period, settings: TrustSettings) -> Dashboard:
    """Every dashboard figure for calls raised at `site` in `period` (local days)."""
    tz = settings.timezone
    start_utc, end_utc = period.utc_bounds(tz)
    hours = WorkingHours(settings.in_hours_start, settings.in_hours_end, settings.bank_holiday_region)
    holidays = bank_holidays(hours.region, period.start, period.end_exclusive)
    now = utcnow()
    tally, by_ward, by_hour = _cube(site.id, start_utc, end_utc, LocalClock(Concern.raised_at, tz, start_utc, end_utc),
                                    hours, holidays, now)
    return Dashboard(
        site={"id": site.id, "code": site.code, "name": site.name},
        period=period,
        tally=tally,
        by_ward=by_ward,
        by_hour=by_hour,
        trend=_trend(site.id, period, tz),
        clocks=_clocks(site.id, start_utc, end_utc, tally, now),
        sms=_sms(site.id, start_utc, end_utc),
        hours=hours,
        holidays=holidays,
        holidays_published=covered(hours.region, period.start, period.end_exclusive),
        generated_at=now,
    )


def _cube(site_id: int, start_utc: datetime, end_utc: datetime, clock: LocalClock, hours: WorkingHours,
          holidays: dict, now: datetime) -> tuple[dict, list[tuple[str, int]], list[int]]:
    """One pass over the period's calls, counted in SQL per ward and local hour (at most a few
    hundred groups), then added up: the totals, the calls by ward and by hour. Reading every call
    once, not once per chart, is what keeps a year's dashboard fast."""
    columns = _tally_columns()
    columns["in_hours"] = _count(clock.in_hours(hours, holidays))
    for key, _label, column, target in CLOCKS:
        columns[f"timed:{key}"] = func.count(column)
        if target is not None:
            columns[f"breach:{key}"] = _count(_breached(key, column, target, seconds_between(column, Concern.raised_at),
                                                        now))
    hour = clock.hour().label("hour")
    rows = db.session.execute(
        select(Concern.ward_id, hour, *[c.label(f"c{i}") for i, c in enumerate(columns.values())])
        .join(Team, Team.id == Concern.team_id)
        .where(*_calls(site_id, start_utc, end_utc)).group_by(Concern.ward_id, hour)).all()
    tally = dict.fromkeys(columns, 0)
    wards: dict[int, int] = {}
    by_hour = [0] * 24
    for ward_id, at_hour, *values in rows:
        for name, value in zip(columns, values, strict=True):
            tally[name] += int(value or 0)
        calls = int(values[0])
        wards[ward_id] = wards.get(ward_id, 0) + calls
        by_hour[int(at_hour)] += calls
    names = db.session.execute(select(Ward.id, Ward.name, Ward.retired_at).where(Ward.site_id == site_id)
                               .order_by(Ward.name)).all()
    # Retired wards appear only when they had calls in the period.
    by_ward = [(name, wards.get(ward_id, 0)) for ward_id, name, retired in names if retired is None or wards.get(ward_id)]
    return tally, by_ward, by_hour


def _trend(site_id: int, period: Period, tz: str) -> list[dict]:
    """Month by month: the twelve months ending with the period's last month (or every month of a
    longer period)."""
    last_month = period.end.replace(day=1)
    first_month = min(period.start.replace(day=1), _add_months(last_month, -(TREND_MONTHS - 1)))
    months = _months_between(first_month, _add_months(last_month, 1))
    span = Period(first_month, _add_months(last_month, 1) - timedelta(days=1))
    start_utc, end_utc = span.utc_bounds(tz)
    month = month_index(Concern.raised_at, tz, first_month, months).label("month")
    acute = and_(CLOSED, Concern.concern_type == ConcernType.ACUTE_DETERIORATION)
    rows = db.session.execute(
        select(month, func.count(), *[_count(Concern.caller_route == route) for route in ROUTES], _count(acute))
        .where(*_calls(site_id, start_utc, end_utc)).group_by(month)).all()
    found = {int(row[0]): row[1:] for row in rows}
    trend = []
    for index in range(months):
        total, patient, family, staff, acute_count = found.get(index, (0, 0, 0, 0, 0))
        trend.append({"month": _add_months(first_month, index), "calls": int(total), "patient": int(patient),
                      "family": int(family), "staff": int(staff), "acute": int(acute_count)})
    return trend


def _clocks(site_id: int, start_utc: datetime, end_utc: datetime, tally: dict, now: datetime) -> list[Clock]:
    calls = _calls(site_id, start_utc, end_utc)
    durations = {key: seconds_between(column, Concern.raised_at) for key, _label, column, _target in CLOCKS}
    percentiles = _percentiles(calls, {key: seconds_between(column, Concern.raised_at, exact=False)
                                       for key, _label, column, _target in CLOCKS})
    targets = _targets(site_id)
    clocks = []
    for key, label, column, target in CLOCKS:
        median, p90 = percentiles[key]
        count = tally[f"timed:{key}"]
        if target is None:
            clocks.append(Clock(key, label, count, median, p90, None))
            continue
        # The first calls past target, oldest first: the index on (site, raised) lets the
        # database stop after the first hundred.
        listed = db.session.execute(
            select(Concern.reference, Ward.name, Concern.raised_at, durations[key], target, Concern.status)
            .join(Team, Team.id == Concern.team_id).join(Ward, Ward.id == Concern.ward_id)
            .where(*calls, _breached(key, column, target, durations[key], now))
            .order_by(Concern.raised_at, Concern.id).limit(BREACH_LIST_LIMIT)).all()
        clocks.append(Clock(key, label, count, median, p90, targets[key], tally[f"breach:{key}"], [
            {"reference": ref, "ward": ward, "raised_at": raised, "seconds": None if secs is None else float(secs),
             "target_minutes": int(minutes), "status": ConcernStatus(status).value if status else None}
            for ref, ward, raised, secs, minutes, status in listed]))
    return clocks


def _breached(key: str, column, target, duration, now: datetime) -> ColumnElement:
    """Past the team's target: done later than the target, or not done, still waiting for it, and
    already older than the target."""
    waiting = ([ConcernStatus.NEW] if key == "acknowledge" else [ConcernStatus.NEW, ConcernStatus.ACKNOWLEDGED])
    waited = seconds_between(literal(now, type_=Concern.raised_at.type), Concern.raised_at)
    return or_(and_(column.is_not(None), duration > target * 60),
               and_(column.is_(None), Concern.status.in_(waiting), waited > target * 60))


def _targets(site_id: int) -> dict[str, str]:
    low_ack, high_ack, low_review, high_review = db.session.execute(
        select(func.min(Team.ack_target_minutes), func.max(Team.ack_target_minutes),
               func.min(Team.review_target_minutes), func.max(Team.review_target_minutes))
        .where(Team.site_id == site_id)).one()

    def words(low, high):
        if low is None:
            return "not set"
        return f"{low}" if low == high else f"{low} to {high}"

    return {"acknowledge": words(low_ack, high_ack), "review": words(low_review, high_review)}


def _percentiles(calls: list, durations: dict) -> dict[str, tuple[float | None, float | None]]:
    """(median, 90th percentile) in seconds for each clock."""
    if db.session.get_bind().dialect.name == "postgresql":
        columns = []
        for duration in durations.values():
            columns += [func.percentile_cont(0.5).within_group(duration),
                        func.percentile_cont(0.9).within_group(duration)]
        row = db.session.execute(select(*columns).where(*calls)).one()
        return {key: (_float(row[2 * i]), _float(row[2 * i + 1])) for i, key in enumerate(durations)}
    # SQLite has no percentile function. One query returns each call's durations (plain numbers,
    # never Concern objects) in a single pass over the calls; each column is sorted here and
    # interpolated as percentile_cont does. (One ORDER BY query per clock read the calls four
    # times and took four times as long on a year's 88,000 calls.)
    rows = db.session.execute(select(*durations.values()).where(*calls)).all()
    result = {}
    for index, key in enumerate(durations):
        values = sorted(row[index] for row in rows if row[index] is not None)
        result[key] = (_percentile(values, 0.5), _percentile(values, 0.9))
    return result


def _float(value) -> float | None:
    return None if value is None else float(value)


def _percentile(ordered: list, p: float) -> float | None:
    """percentile_cont: linear interpolation between the two values either side of (n - 1) × p."""
    if not ordered:
        return None
    position = (len(ordered) - 1) * p
    low = math.floor(position)
    upper = ordered[min(low + 1, len(ordered) - 1)]
    return float(ordered[low]) + (position - low) * (float(upper) - float(ordered[low]))


SMS_COLUMNS = ["queued", "sent", "delivered", "failed", "opted_out"]


def _sms(site_id: int, start_utc: datetime, end_utc: datetime) -> dict[str, dict[str, int]]:
    """Texts about the period's calls, for callers and for clinicians."""
    opted_out = or_(Message.error_code == "21610",
                    Message.to_number.in_(select(SmsOptOut.number).where(SmsOptOut.opted_out.is_(True))))
    rows = db.session.execute(
        select(Message.audience, func.count(), _count(Message.send_state == SendState.ACCEPTED),
               _count(Message.delivery_status == "delivered"),
               _count(or_(Message.send_state == SendState.DEAD, Message.delivery_status.in_(["undelivered", "failed"]))),
               _count(and_(Message.audience == Audience.FAMILY,
                           Message.send_state.in_([SendState.CANCELLED, SendState.DEAD]), opted_out)))
        .join(Concern, Concern.id == Message.concern_id)
        .where(*_calls(site_id, start_utc, end_utc), Message.channel == MessageChannel.SMS)
        .group_by(Message.audience)).all()
    found = {Audience(audience).value: dict(zip(SMS_COLUMNS, [int(v or 0) for v in values], strict=True))
             for audience, *values in rows}
    return {audience.value: found.get(audience.value, dict.fromkeys(SMS_COLUMNS, 0)) for audience in Audience}


# --- the NHS England monthly return ---------------------------------------------------------


@dataclass(frozen=True)
class Measure:
    key: str
    label: str
    value: int | str
    definition: str
    percent: str | None = None


@dataclass(frozen=True)
class Section:
    title: str
    measures: list[Measure]


@dataclass(frozen=True)
class MonthlyReturn:
    site: dict
    month: date
    sections: list[Section]
    calls: int
    still_open: int
    withdrawn: int
    implementation: dict | None
    generated_at: datetime


FAMILY_ROUTE_WORDS = {FamilyRouteStatus.LIVE.value: "Live", FamilyRouteStatus.NOT_LIVE.value: "Not live"}
STAFF_ROUTE_WORDS = {StaffRouteStatus.FULLY_LIVE.value: "Fully live", StaffRouteStatus.PARTLY_LIVE.value: "Partly live",
                     StaffRouteStatus.NOT_LIVE.value: "Not live"}

COUNTED = ("Counts every call raised at this site in the month (UK time, by when it was raised), except calls "
           "cancelled as a duplicate of another.")
CODED = "Closed calls only, as coded by the clinician at close; calls still open are not counted yet."


def _percent(part: int, whole: int) -> str | None:
    return f"{round(100 * part / whole)}%" if whole else None


def monthly_return(site: Site, month: date, settings: TrustSettings) -> MonthlyReturn:
    """Each measure NHS England collects (domain §2.1) for calls raised at `site` in `month`, with
    its definition in terms of our coding, and the site's implementation status for the month."""
    period = month_period(month)
    start_utc, end_utc = period.utc_bounds(settings.timezone)
    t = _tally(site.id, start_utc, end_utc)
    calls = t["calls"]
    acute = t["type:acute_deterioration"]
    life_saving = t["outcome:critical_care_admission"] + t["outcome:transfer_enhanced_or_tertiary"]
    sections = [
        Section("Escalation calls by route", [
            Measure("route_patient", "Patient escalation process", t["route:patient"],
                    f"Calls the patient raised themselves (caller: patient). {COUNTED}", _percent(t["route:patient"], calls)),
            Measure("route_family", "Family (including carers and advocates) escalation process",
                    t["route:family_carer_advocate"],
                    f"Calls raised by a relative, friend, carer or advocate (caller: family, carer or advocate), "
                    f"including those they phoned in. {COUNTED}", _percent(t["route:family_carer_advocate"], calls)),
            Measure("route_staff", "Staff escalation process", t["route:staff"],
                    f"Calls raised by a member of staff on the staff route (caller: staff). {COUNTED}",
                    _percent(t["route:staff"], calls)),
            Measure("calls_total", "All escalation calls", calls,
                    f"The three routes added together. {COUNTED} Withdrawn calls are included."),
        ]),
        Section("Clinical review and acute deterioration", [
            Measure("clinical_review", "Calls that needed a clinical review", t["review_needed"],
                    f"Calls coded \"clinical review needed: yes\". {CODED}", _percent(t["review_needed"], calls)),
            Measure("acute_deterioration", "Calls related to acute deterioration", acute,
                    f"Calls coded as acute deterioration. The percentage is of all escalation calls. {CODED}",
                    _percent(acute, calls)),
        ]),
        Section("Outcome of acute deterioration calls", [
            Measure("outcome_critical_care", "Urgent admission to HDU or ICU", t["outcome:critical_care_admission"],
                    f"Acute deterioration calls coded \"admitted to critical care (HDU or ICU)\". {CODED}"),
            Measure("outcome_transfer", "Transfer to another enhanced level of care or a tertiary centre",
                    t["outcome:transfer_enhanced_or_tertiary"],
                    f"Acute deterioration calls coded \"transferred to enhanced care or a tertiary centre\". {CODED}"),
            Measure("outcome_life_saving", "Potentially life-saving escalations of care", life_saving,
                    "The two rows above added together (urgent HDU or ICU admission, and transfer). Each call has "
                    "one outcome, so no call is counted twice."),
            Measure("outcome_change_in_care", "Change in care on the current ward", t["outcome:change_in_care"],
                    f"Acute deterioration calls coded \"change in care on the ward\" (for example new medication "
                    f"such as antibiotics, oxygen, investigations or other treatment). It does not include the "
                    f"escalations above. {CODED}"),
            Measure("change_medication", "Change in care: medication (for example antibiotics)",
                    t["change:medication"], "Of the changes in care, those that included new or changed medication. "
                    "A change can include more than one kind, so these four rows can add up to more than the row above."),
            Measure("change_oxygen", "Change in care: oxygen", t["change:oxygen"],
                    "Of the changes in care, those that included oxygen."),
            Measure("change_investigations", "Change in care: investigations", t["change:investigations"],
                    "Of the changes in care, those that included investigations."),
            Measure("change_other", "Change in care: other treatment", t["change:other"],
                    "Of the changes in care, those that included other treatment."),
            Measure("outcome_no_change", "No change in care", t["outcome:no_change"],
                    f"Acute deterioration calls coded \"no change in care\". With the rows above (except the kinds of "
                    f"change) it adds up to all acute deterioration calls. {CODED}"),
        ]),
        Section("Calls not about acute deterioration", [
            Measure("not_acute_clinical", "Clinical concerns addressed (for example delays in medication or "
                    "investigations)", t["type:clinical_concern"],
                    f"Calls coded \"clinical concern\". {CODED}"),
            Measure("not_acute_communication", "Communication issues resolved", t["type:communication"],
                    f"Calls coded \"communication\". {CODED}"),
            Measure("not_acute_discharge", "Discharge planning issues resolved", t["type:discharge_planning"],
                    f"Calls coded \"discharge planning\". {CODED}"),
            Measure("not_acute_communication_discharge", "Communication and discharge planning issues resolved",
                    t["type:communication"] + t["type:discharge_planning"],
                    "The two rows above added together, as NHS England publishes them."),
            Measure("not_acute_other", "Other concerns, signposted (PALS, complaints, non-clinical)",
                    t["type:other_signposted"],
                    f"Calls coded \"other, signposted\". NHS England does not publish this group; it is here so "
                    f"that every coded call is counted somewhere. {CODED}"),
        ]),
        Section("Calls without an outcome yet", [
            Measure("still_open", "Calls still open", t["open"],
                    "Calls raised in the month that are not closed yet (including reopened calls). Their type and "
                    "outcome are not in the figures above until they are closed: close them before you submit."),
            Measure("withdrawn", "Calls withdrawn by the caller", t["withdrawn"],
                    "Calls the caller withdrew. They count as calls by route but have no outcome."),
        ]),
    ]
    implementation = implementation_status(site.id, period.start)
    sections.append(Section("Site implementation status", [
        Measure("family_route_status", "Patient and family escalation route",
                FAMILY_ROUTE_WORDS[implementation["family_route"]] if implementation else "Not recorded",
                "Whether patients, families and carers could call for a review at this site during the month, as you "
                "recorded it below. No call can tell this."),
        Measure("staff_route_status", "Staff escalation route",
                STAFF_ROUTE_WORDS[implementation["staff_route"]] if implementation else "Not recorded",
                "Whether staff could call a different team for a review at any time during the month (fully, partly "
                "or not live), as you recorded it below."),
    ]))
    return MonthlyReturn(site={"id": site.id, "code": site.code, "name": site.name}, month=period.start,
                         sections=sections, calls=calls, still_open=t["open"], withdrawn=t["withdrawn"],
                         implementation=implementation, generated_at=utcnow())


def implementation_status(site_id: int, month: date) -> dict | None:
    row = db.session.execute(
        select(SiteImplementation.family_route, SiteImplementation.staff_route, SiteImplementation.recorded_at,
               User.display_name)
        .outerjoin(User, User.id == SiteImplementation.recorded_by_id)
        .where(SiteImplementation.site_id == site_id, SiteImplementation.month == month.replace(day=1))).first()
    if row is None:
        return None
    family, staff, recorded_at, name = row
    return {"family_route": FamilyRouteStatus(family).value, "staff_route": StaffRouteStatus(staff).value,
            "recorded_at": recorded_at, "recorded_by": name}


def record_implementation(user: User, site_id: int, month: date, family_route: FamilyRouteStatus,
                          staff_route: StaffRouteStatus) -> SiteImplementation:
    """Record (or correct) a site's implementation status for a month, audited with the old and
    new values. The caller checks the site is the user's."""
    first = month.replace(day=1)
    row = db.session.scalar(select(SiteImplementation).where(SiteImplementation.site_id == site_id,
                                                             SiteImplementation.month == first))
    before = None
    if row is None:
        row = SiteImplementation(site_id=site_id, month=first)
        db.session.add(row)
    else:
        before = {"family_route": row.family_route.value, "staff_route": row.staff_route.value}
    row.family_route, row.staff_route = family_route, staff_route
    row.recorded_by_id, row.recorded_at = user.id, utcnow()
    db.session.flush()
    changes = {"site_id": site_id, "month": first.isoformat(), "family_route": family_route.value,
               "staff_route": staff_route.value}
    if before:
        changes.update({f"previous_{name}": value for name, value in before.items()})
    audit.record("implementation_status_recorded", audit.Actor.user(user.id), object_type="site_implementation",
                 object_id=row.id, changes=changes)
    return row


def return_rows(report: MonthlyReturn) -> list[list]:
    """The return as spreadsheet rows (header first), for the CSV."""
    rows = [["Site code", "Site", "Month", "Section", "Measure", "Value", "Percentage of all calls", "Definition"]]
    for section in report.sections:
        for measure in section.measures:
            rows.append([report.site["code"], report.site["name"], f"{report.month:%Y-%m}", section.title,
                         measure.label, measure.value, measure.percent or "", measure.definition])
    return rows


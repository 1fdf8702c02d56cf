"""The figures managers read: the dashboard for a period and site, and the NHS England
monthly return (docs/facts.md#nhs-englands-monthly-return). Plain functions returning plain values; the views only show them.

Rules every figure follows (and the pages say so):
- A call belongs to the local day, hour and month in which it was **raised**, in the trust's time
  zone (BST included): 23:30 BST on 31 August is an August call though it is 22:30 UTC.
- A call cancelled as a duplicate of another is the same call counted twice, so it is left out.
  A withdrawn call was still made: it counts as a call, with no outcome.
- Outcome coding (type, clinical review, escalation) counts only once the call is **closed**; open
  and reopened calls are shown as "not coded yet", so an early report cannot look final.

Counting happens in the database over each call's report facts (services/reports/report_facts.py: its
local day, time of day and weekday, and its clocks' durations, written with the call), read from
one covering index, in a few passes (a year is tens of thousands of calls): one for every total,
one grouped by ward and hour, one per local day for the monthly trend, one for the texts.
Percentiles use PostgreSQL's `percentile_cont`; on SQLite, which has none, one query returns the
durations (plain numbers), sorted and interpolated here as `percentile_cont` does. No Concern
objects are loaded. In or out of hours is decided when the figures are read, from the trust's
current window and bank holidays.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row, SQLColumnExpression, and_, case, func, literal, not_, or_, select, text
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
from tracker.services.records import audit
from tracker.services.reports import report_facts
from tracker.services.reports.working_hours import WorkingHours, bank_holidays, covered
from tracker.services.setup.settings import TrustSettings

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


# --- what counts ----------------------------------------------------------------------------
#
# Every figure reads the calls' report facts (services/reports/report_facts.py): the local day, time of
# day and weekday each call was raised, and each clock's duration in microseconds, written when
# the timestamps were. So the database compares plain numbers, and the index ix_concern_report
# (site, local month, the coding, then every other column read here) answers each query without
# reading the table.

DUPLICATE = and_(Concern.status == ConcernStatus.CANCELLED, Concern.cancel_kind == CancelKind.DUPLICATE)
WITHDRAWN = and_(Concern.status == ConcernStatus.CANCELLED, Concern.cancel_kind != CancelKind.DUPLICATE)
CLOSED = Concern.status == ConcernStatus.CLOSED
STILL_OPEN = Concern.status.in_(sorted(OPEN_STATUSES, key=lambda s: s.value))
ACUTE = and_(Concern.concern_type == ConcernType.ACUTE_DETERIORATION, CLOSED)
MICROS = 1_000_000


def _calls(site_id: int, first: date, last: date) -> list[ColumnElement]:
    """The calls raised at the site on local days `first` to `last`, duplicates left out. The local
    months as well as the days: the report index is ordered by month, so the database reads only
    the period's stretch of it."""
    return [
        Concern.site_id == site_id,
        Concern.raised_local_month >= first.replace(day=1),
        Concern.raised_local_month <= last.replace(day=1),
        Concern.raised_local_date >= first,
        Concern.raised_local_date <= last,
        not_(DUPLICATE),
    ]


ROUTES = [CallerRoute.PATIENT, CallerRoute.FAMILY, CallerRoute.STAFF]
TYPES = [
    ConcernType.ACUTE_DETERIORATION,
    ConcernType.CLINICAL_CONCERN,
    ConcernType.COMMUNICATION,
    ConcernType.DISCHARGE_PLANNING,
    ConcernType.OTHER_SIGNPOSTED,
]
OUTCOMES = [
    DeteriorationOutcome.CRITICAL_CARE_ADMISSION,
    DeteriorationOutcome.TRANSFER_ENHANCED_OR_TERTIARY,
    DeteriorationOutcome.CHANGE_IN_CARE,
    DeteriorationOutcome.NO_CHANGE,
]
CHANGE_KINDS = [ChangeInCare.MEDICATION, ChangeInCare.OXYGEN, ChangeInCare.INVESTIGATIONS, ChangeInCare.OTHER]


def _count(condition: ColumnElement | None = None) -> ColumnElement:
    """count(*), or count(*) FILTER (WHERE condition): both databases skip the rows that do not
    match without evaluating anything else for them (cheaper than SUM(CASE ...))."""
    return func.count() if condition is None else func.count().filter(condition)


# The coding every count depends on, in the report index's order after (site, month): grouping by
# the month and these reads the index in order, so the database never sorts, and it evaluates a
# handful of aggregates per call instead of one filtered count per figure (a year is ~90,000 calls:
# sixty filtered counts per call took 0.4 s on SQLite; a few hundred groups added up here do not).
CODING = [
    Concern.status,
    Concern.cancel_kind,
    Concern.caller_route,
    Concern.concern_type,
    Concern.clinical_review_needed,
    Concern.deterioration_outcome,
    Concern.change_in_care,
]


def _cube(site_id: int, period: Period, extras: dict[str, ColumnElement] | None = None) -> Sequence[Row]:
    """The period's calls grouped by local month and coding: rows of (month, *coding, calls, *extras)."""
    extras = extras or {}
    return db.session.execute(
        select(
            Concern.raised_local_month,
            *CODING,
            func.count(),
            *[c.label(f"x{i}") for i, c in enumerate(extras.values())],
        )
        .where(*_calls(site_id, period.start, period.end))
        .group_by(Concern.raised_local_month, *CODING)
    ).all()


def _tally_names() -> list[str]:
    names = ["calls", "closed", "open", "withdrawn", "review_needed", "review_not_needed"]
    names += [f"route:{route.value}" for route in ROUTES]
    names += [f"type:{kind.value}" for kind in TYPES]
    names += [f"outcome:{outcome.value}" for outcome in OUTCOMES]
    names += [f"change:{kind.value}" for kind in CHANGE_KINDS]
    return names


def _counted_as(  # a cube row's coding: enums, or their values (read as values below)
    status: Any, cancel_kind: Any, route: Any, concern_type: Any, review_needed: bool | None, outcome: Any, changes: Any
) -> list[str]:
    """The figures one call with this coding counts towards: the one place these rules live.
    Coding counts only once the call is closed; duplicates never reach here (`_calls`)."""
    status, cancel_kind, route, concern_type, outcome = (
        getattr(value, "value", value) for value in (status, cancel_kind, route, concern_type, outcome)
    )
    names = ["calls", f"route:{route}"]
    if status == ConcernStatus.CLOSED.value:
        names.append("closed")
        if review_needed is True:
            names.append("review_needed")
        elif review_needed is False:
            names.append("review_not_needed")
        if concern_type is not None:
            names.append(f"type:{concern_type}")
        if concern_type == ConcernType.ACUTE_DETERIORATION.value and outcome is not None:
            names.append(f"outcome:{outcome}")
            if outcome == DeteriorationOutcome.CHANGE_IN_CARE.value:
                names += [f"change:{kind}" for kind in set(changes or ()) if kind in CHANGE_VALUES]
    elif status in OPEN_VALUES:
        names.append("open")
    elif status == ConcernStatus.CANCELLED.value and cancel_kind is not None:
        names.append("withdrawn")
    return names


CHANGE_VALUES = {kind.value for kind in CHANGE_KINDS}
OPEN_VALUES = {status.value for status in OPEN_STATUSES}


def _add_up(rows: Iterable[Sequence], extra_names: Iterable[str] = ()) -> dict[str, int]:
    """Every figure from cube rows: each group's calls added to the figures its coding counts
    towards, and the extra aggregates summed."""
    extra_names = list(extra_names)
    tally = dict.fromkeys([*_tally_names(), *extra_names], 0)
    width = len(CODING)
    for row in rows:
        coding, calls, extras = row[1 : width + 1], row[width + 1], row[width + 2 :]
        for name in _counted_as(*coding):
            if name in tally:  # an unknown route or type in the data counts in the total only
                tally[name] += calls
        for name, value in zip(extra_names, extras, strict=True):
            tally[name] += int(value or 0)
    return tally


def _tally(site_id: int, period: Period) -> dict:
    """One pass over the period's calls: every count the monthly return needs."""
    return _add_up(_cube(site_id, period))


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


# (key, label, the clock's duration fact, the team's target in minutes, statuses still waiting for it)
CLOCKS = [
    ("first_alert", "Raised to first alert sent", Concern.to_first_alert_us, None, ()),
    (
        "acknowledge",
        "Raised to claimed (acknowledged)",
        Concern.to_acknowledge_us,
        "ack_target_minutes",
        (ConcernStatus.NEW,),
    ),
    (
        "review",
        "Raised to clinical review",
        Concern.to_review_us,
        "review_target_minutes",
        (ConcernStatus.NEW, ConcernStatus.ACKNOWLEDGED),
    ),
    ("caller_updated", "Raised to caller updated", Concern.to_caller_updated_us, None, ()),
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
    facts_missing: bool = False  # some call at the site has no report facts: the figures leave it out


def dashboard(site: Site, period: Period, settings: TrustSettings) -> Dashboard:
    """Every dashboard figure for calls raised at `site` in `period` (local days)."""
    _plan_for_these_values()
    hours = WorkingHours(settings.in_hours_start, settings.in_hours_end, settings.bank_holiday_region)
    holidays = bank_holidays(hours.region, period.start, period.end_exclusive)
    now = utcnow()
    teams = _team_targets()
    wards = db.session.execute(
        select(Ward.id, Ward.name, Ward.retired_at).where(Ward.site_id == site.id).order_by(Ward.name)
    ).all()
    extras = {"in_hours": _count(_in_hours(hours, holidays))}
    for key, _label, fact, target, waiting in CLOCKS:
        extras[f"timed:{key}"] = func.count(fact)
        if target is not None:
            extras[f"breach:{key}"] = _count(_breached(fact, target, waiting, teams, now))
    cube = _cube(site.id, period, extras)
    tally = _add_up(cube, extras)
    by_ward, by_hour = _by_ward_and_hour(site.id, period, wards)
    return Dashboard(
        site={"id": site.id, "code": site.code, "name": site.name},
        period=period,
        tally=tally,
        by_ward=by_ward,
        by_hour=by_hour,
        trend=_trend(site.id, period, cube),
        clocks=_clocks(site.id, period, settings.timezone, tally, teams, now),
        sms=_sms(site.id, period),
        hours=hours,
        holidays=holidays,
        holidays_published=covered(hours.region, period.start, period.end_exclusive),
        generated_at=now,
        facts_missing=report_facts.any_missing(site.id),
    )


def _plan_for_these_values() -> None:
    """PostgreSQL: plan each query for the period it is given. psycopg prepares a statement run
    often, and the server may then settle on one generic plan for every period; one fit for a
    month can take ten times longer over a year (measured: a breach list 2 ms, then 80 ms)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def _in_hours(hours: WorkingHours, holidays: Iterable[date]) -> ColumnElement:
    """Raised on a weekday, in the window, not on a bank holiday: all local time."""

    def seconds(moment: time) -> int:
        return moment.hour * 3600 + moment.minute * 60 + moment.second

    condition = and_(
        Concern.raised_local_weekday < 5,
        Concern.raised_local_seconds >= seconds(hours.start),
        Concern.raised_local_seconds < seconds(hours.end),
    )
    days = sorted(holidays)
    return and_(condition, Concern.raised_local_date.not_in(days)) if days else condition


def _team_targets() -> dict[int, tuple[int, int]]:
    """Each team's (acknowledge, review) targets in minutes. A call is judged by the targets of the
    team it was raised to (teams are few: their targets go into the query as constants)."""
    return {
        team_id: (ack, review)
        for team_id, ack, review in db.session.execute(
            select(Team.id, Team.ack_target_minutes, Team.review_target_minutes)
        )
    }


def _breached(
    fact: SQLColumnExpression[int | None], target: str, waiting: tuple, teams: dict[int, tuple[int, int]], now: datetime
) -> ColumnElement:
    """Past the team's target: done later than the target, or not done, still waiting for it, and
    raised longer ago than the target."""
    index = 0 if target == "ack_target_minutes" else 1
    if not teams:
        return literal(False)
    limit = case({team_id: minutes[index] * 60 * MICROS for team_id, minutes in teams.items()}, value=Concern.team_id)
    cutoff = case(
        {
            team_id: literal(now - timedelta(minutes=minutes[index]), Concern.raised_at.type)
            for team_id, minutes in teams.items()
        },
        value=Concern.team_id,
    )
    return or_(
        and_(fact.is_not(None), fact > limit),
        and_(fact.is_(None), Concern.status.in_(waiting), Concern.raised_at < cutoff),
    )


def _by_ward_and_hour(site_id: int, period: Period, wards: Sequence[Row]) -> tuple[list[tuple[str, int]], list[int]]:
    """Calls by ward and by local hour of the day, from one count grouped in the order of the
    index on (site, month, hour, ward), which also holds what `_calls` filters on."""
    by_ward: dict[int, int] = {}
    by_hour = [0] * 24
    for _month, hour, ward_id, calls in db.session.execute(
        select(Concern.raised_local_month, Concern.raised_local_hour, Concern.ward_id, func.count())
        .where(*_calls(site_id, period.start, period.end))
        .group_by(Concern.raised_local_month, Concern.raised_local_hour, Concern.ward_id)
    ):
        by_ward[ward_id] = by_ward.get(ward_id, 0) + calls
        assert hour is not None  # _calls needs the local date, which is always set with the hour
        by_hour[int(hour)] += calls
    # Retired wards appear only when they had calls in the period.
    return (
        [
            (name, by_ward.get(ward_id, 0))
            for ward_id, name, retired in wards
            if retired is None or by_ward.get(ward_id)
        ],
        by_hour,
    )


TREND_CODING = 4  # status, cancel kind, route, type: all the trend's figures depend on


def _trend(site_id: int, period: Period, cube: Sequence[Sequence] | None = None) -> list[dict]:
    """Month by month: the twelve months ending with the period's last month (or every month of a
    longer period). From the period's own cube when it is exactly those months (a year of whole
    months), else from a cube of its own."""
    last_month = period.end.replace(day=1)
    first_month = min(period.start.replace(day=1), _add_months(last_month, -(TREND_MONTHS - 1)))
    months = _months_between(first_month, _add_months(last_month, 1))
    span = Period(first_month, _add_months(last_month, 1) - timedelta(days=1))
    if span == period and cube is not None:
        rows = cube
    else:
        # The trend shows calls, routes and acute deterioration only: grouped by the coding's
        # leading columns alone (the index's order again), twelve months cost a fraction of a cube.
        lead = CODING[:TREND_CODING]
        unused = (None,) * (len(CODING) - TREND_CODING)
        rows = [
            (month, *coding, *unused, calls)
            for month, *coding, calls in db.session.execute(
                select(Concern.raised_local_month, *lead, func.count())
                .where(*_calls(site_id, span.start, span.end))
                .group_by(Concern.raised_local_month, *lead)
            )
        ]
    by_month: dict[date, list[Sequence]] = {}
    for row in rows:
        by_month.setdefault(row[0], []).append(row[: len(CODING) + 2])  # without the cube's extras
    trend = []
    for index in range(months):
        month = _add_months(first_month, index)
        t = _add_up(by_month.get(month, []))
        trend.append(
            {
                "month": month,
                "calls": t["calls"],
                "patient": t["route:patient"],
                "family": t["route:family_carer_advocate"],
                "staff": t["route:staff"],
                "acute": t["type:acute_deterioration"],
            }
        )
    return trend


def _clocks(site_id: int, period: Period, tz_name: str, tally: dict, teams: dict, now: datetime) -> list[Clock]:
    calls = _calls(site_id, period.start, period.end)
    percentiles = _percentiles(calls, {key: fact for key, _label, fact, _target, _waiting in CLOCKS})
    targets = _targets(site_id)
    start_utc, end_utc = period.utc_bounds(tz_name)
    clocks = []
    for key, label, fact, target, waiting in CLOCKS:
        median, p90 = percentiles[key]
        count = tally[f"timed:{key}"]
        if target is None:
            clocks.append(Clock(key, label, count, median, p90, None))
            continue
        # The first calls past target, oldest first: with the period also given in UTC, the index
        # on (site, raised) lets the database stop after the first hundred.
        listed = db.session.execute(
            select(Concern.reference, Ward.name, Concern.raised_at, fact, getattr(Team, target), Concern.status)
            .join(Team, Team.id == Concern.team_id)
            .join(Ward, Ward.id == Concern.ward_id)
            .where(
                *calls,
                Concern.raised_at >= start_utc,
                Concern.raised_at < end_utc,
                _breached(fact, target, waiting, teams, now),
            )
            .order_by(Concern.raised_at, Concern.id)
            .limit(BREACH_LIST_LIMIT)
        ).all()
        clocks.append(
            Clock(
                key,
                label,
                count,
                median,
                p90,
                targets[key],
                tally[f"breach:{key}"],
                [
                    {
                        "reference": ref,
                        "ward": ward,
                        "raised_at": raised,
                        "seconds": None if micros is None else micros / MICROS,
                        "target_minutes": int(minutes),
                        "status": ConcernStatus(status).value if status else None,
                    }
                    for ref, ward, raised, micros, minutes, status in listed
                ],
            )
        )
    return clocks


def _targets(site_id: int) -> dict[str, str]:
    low_ack, high_ack, low_review, high_review = db.session.execute(
        select(
            func.min(Team.ack_target_minutes),
            func.max(Team.ack_target_minutes),
            func.min(Team.review_target_minutes),
            func.max(Team.review_target_minutes),
        ).where(Team.site_id == site_id)
    ).one()

    def words(low: int | None, high: int | None) -> str:
        if low is None:
            return "not set"
        return f"{low}" if low == high else f"{low} to {high}"

    return {"acknowledge": words(low_ack, high_ack), "review": words(low_review, high_review)}


def _percentiles(calls: list, durations: dict) -> dict[str, tuple[float | None, float | None]]:
    """(median, 90th percentile) in seconds for each clock, from its duration fact."""
    if db.session.get_bind().dialect.name == "postgresql":
        columns = []
        for duration in durations.values():
            columns += [
                func.percentile_cont(0.5).within_group(duration),
                func.percentile_cont(0.9).within_group(duration),
            ]
        row = db.session.execute(select(*columns).where(*calls)).one()
        return {key: (_seconds(row[2 * i]), _seconds(row[2 * i + 1])) for i, key in enumerate(durations)}
    # SQLite has no percentile function. One query over the report index returns each clock's
    # durations (whole numbers, never Concern objects) as one comma-separated string per clock
    # (far cheaper than a row per call); each is sorted here and interpolated as percentile_cont does.
    row = db.session.execute(
        select(*[func.group_concat(duration) for duration in durations.values()]).where(*calls)
    ).one()
    result = {}
    for key, joined in zip(durations, row, strict=True):
        values = json.loads(f"[{joined}]") if joined else []  # the C parser: faster than int() on each
        values.sort()
        median, p90 = _percentile(values, 0.5), _percentile(values, 0.9)
        result[key] = (_seconds(median), _seconds(p90))
    return result


def _seconds(micros: float | None) -> float | None:
    return None if micros is None else float(micros) / MICROS


def _percentile(ordered: list, p: float) -> float | None:
    """percentile_cont: linear interpolation between the two values either side of (n - 1) × p."""
    if not ordered:
        return None
    position = (len(ordered) - 1) * p
    low = math.floor(position)
    upper = ordered[min(low + 1, len(ordered) - 1)]
    return float(ordered[low]) + (position - low) * (float(upper) - float(ordered[low]))


SMS_COLUMNS = ["queued", "sent", "delivered", "failed", "opted_out"]


def _sms(site_id: int, period: Period) -> dict[str, dict[str, int]]:
    """Texts about the period's calls, for callers and for clinicians: filtered counts per audience
    in one pass (no grouping, so no sorting), reading the calls' and the texts' covering indexes."""
    opted_out = or_(
        Message.error_code == "21610",
        Message.to_number.in_(select(SmsOptOut.number).where(SmsOptOut.opted_out.is_(True))),
    )
    figures = {
        "queued": None,
        "sent": Message.send_state == SendState.ACCEPTED,
        "delivered": Message.delivery_status == "delivered",
        "failed": or_(Message.send_state == SendState.DEAD, Message.delivery_status.in_(["undelivered", "failed"])),
        "opted_out": and_(Message.send_state.in_([SendState.CANCELLED, SendState.DEAD]), opted_out),
    }
    columns = {}
    for audience in Audience:
        for name, condition in figures.items():
            if name == "opted_out" and audience is not Audience.FAMILY:
                continue  # only callers opt out
            mine = Message.audience == audience
            columns[(audience.value, name)] = _count(mine if condition is None else and_(mine, condition))
    row = db.session.execute(
        select(*columns.values())
        .join_from(Message, Concern, Concern.id == Message.concern_id)
        .where(*_calls(site_id, period.start, period.end), Message.channel == MessageChannel.SMS)
    ).one()
    found = dict(zip(columns, row, strict=True))
    return {
        audience.value: {name: int(found.get((audience.value, name)) or 0) for name in SMS_COLUMNS}
        for audience in Audience
    }


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
    facts_missing: bool = False  # some call at the site has no report facts: the figures leave it out


FAMILY_ROUTE_WORDS = {FamilyRouteStatus.LIVE.value: "Live", FamilyRouteStatus.NOT_LIVE.value: "Not live"}
STAFF_ROUTE_WORDS = {
    StaffRouteStatus.FULLY_LIVE.value: "Fully live",
    StaffRouteStatus.PARTLY_LIVE.value: "Partly live",
    StaffRouteStatus.NOT_LIVE.value: "Not live",
}

COUNTED = (
    "Counts every call raised at this site in the month (UK time, by when it was raised), except calls "
    "cancelled as a duplicate of another."
)
CODED = "Closed calls only, as coded by the clinician at close; calls still open are not counted yet."


def _percent(part: int, whole: int) -> str | None:
    return f"{round(100 * part / whole)}%" if whole else None


def monthly_return(site: Site, month: date, settings: TrustSettings) -> MonthlyReturn:
    """Each measure NHS England collects (docs/facts.md#nhs-englands-monthly-return) for calls raised at `site` in `month`, with
    its definition in terms of our coding, and the site's implementation status for the month."""
    period = month_period(month)
    t = _tally(site.id, period)
    calls = t["calls"]
    acute = t["type:acute_deterioration"]
    life_saving = t["outcome:critical_care_admission"] + t["outcome:transfer_enhanced_or_tertiary"]
    sections = [
        Section(
            "Escalation calls by route",
            [
                Measure(
                    "route_patient",
                    "Patient escalation process",
                    t["route:patient"],
                    f"Calls the patient raised themselves (caller: patient). {COUNTED}",
                    _percent(t["route:patient"], calls),
                ),
                Measure(
                    "route_family",
                    "Family (including carers and advocates) escalation process",
                    t["route:family_carer_advocate"],
                    f"Calls raised by a relative, friend, carer or advocate (caller: family, carer or advocate), "
                    f"including those they phoned in. {COUNTED}",
                    _percent(t["route:family_carer_advocate"], calls),
                ),
                Measure(
                    "route_staff",
                    "Staff escalation process",
                    t["route:staff"],
                    f"Calls raised by a member of staff on the staff route (caller: staff). {COUNTED}",
                    _percent(t["route:staff"], calls),
                ),
                Measure(
                    "calls_total",
                    "All escalation calls",
                    calls,
                    f"The three routes added together. {COUNTED} Withdrawn calls are included.",
                ),
            ],
        ),
        Section(
            "Clinical review and acute deterioration",
            [
                Measure(
                    "clinical_review",
                    "Calls that needed a clinical review",
                    t["review_needed"],
                    f'Calls coded "clinical review needed: yes". {CODED}',
                    _percent(t["review_needed"], calls),
                ),
                Measure(
                    "acute_deterioration",
                    "Calls related to acute deterioration",
                    acute,
                    f"Calls coded as acute deterioration. The percentage is of all escalation calls. {CODED}",
                    _percent(acute, calls),
                ),
            ],
        ),
        Section(
            "Outcome of acute deterioration calls",
            [
                Measure(
                    "outcome_critical_care",
                    "Urgent admission to HDU or ICU",
                    t["outcome:critical_care_admission"],
                    f'Acute deterioration calls coded "admitted to critical care (HDU or ICU)". {CODED}',
                ),
                Measure(
                    "outcome_transfer",
                    "Transfer to another enhanced level of care or a tertiary centre",
                    t["outcome:transfer_enhanced_or_tertiary"],
                    f'Acute deterioration calls coded "transferred to enhanced care or a tertiary centre". {CODED}',
                ),
                Measure(
                    "outcome_life_saving",
                    "Potentially life-saving escalations of care",
                    life_saving,
                    "The two rows above added together (urgent HDU or ICU admission, and transfer). Each call has "
                    "one outcome, so no call is counted twice.",
                ),
                Measure(
                    "outcome_change_in_care",
                    "Change in care on the current ward",
                    t["outcome:change_in_care"],
                    f'Acute deterioration calls coded "change in care on the ward" (for example new medication '
                    f"such as antibiotics, oxygen, investigations or other treatment). It does not include the "
                    f"escalations above. {CODED}",
                ),
                Measure(
                    "change_medication",
                    "Change in care: medication (for example antibiotics)",
                    t["change:medication"],
                    "Of the changes in care, those that included new or changed medication. "
                    "A change can include more than one kind, so these four rows can add up to more than the row above.",
                ),
                Measure(
                    "change_oxygen",
                    "Change in care: oxygen",
                    t["change:oxygen"],
                    "Of the changes in care, those that included oxygen.",
                ),
                Measure(
                    "change_investigations",
                    "Change in care: investigations",
                    t["change:investigations"],
                    "Of the changes in care, those that included investigations.",
                ),
                Measure(
                    "change_other",
                    "Change in care: other treatment",
                    t["change:other"],
                    "Of the changes in care, those that included other treatment.",
                ),
                Measure(
                    "outcome_no_change",
                    "No change in care",
                    t["outcome:no_change"],
                    f'Acute deterioration calls coded "no change in care". With the rows above (except the kinds of '
                    f"change) it adds up to all acute deterioration calls. {CODED}",
                ),
            ],
        ),
        Section(
            "Calls not about acute deterioration",
            [
                Measure(
                    "not_acute_clinical",
                    "Clinical concerns addressed (for example delays in medication or investigations)",
                    t["type:clinical_concern"],
                    f'Calls coded "clinical concern". {CODED}',
                ),
                Measure(
                    "not_acute_communication",
                    "Communication issues resolved",
                    t["type:communication"],
                    f'Calls coded "communication". {CODED}',
                ),
                Measure(
                    "not_acute_discharge",
                    "Discharge planning issues resolved",
                    t["type:discharge_planning"],
                    f'Calls coded "discharge planning". {CODED}',
                ),
                Measure(
                    "not_acute_communication_discharge",
                    "Communication and discharge planning issues resolved",
                    t["type:communication"] + t["type:discharge_planning"],
                    "The two rows above added together, as NHS England publishes them.",
                ),
                Measure(
                    "not_acute_other",
                    "Other concerns, signposted (PALS, complaints, non-clinical)",
                    t["type:other_signposted"],
                    f'Calls coded "other, signposted". NHS England does not publish this group; it is here so '
                    f"that every coded call is counted somewhere. {CODED}",
                ),
            ],
        ),
        Section(
            "Calls without an outcome yet",
            [
                Measure(
                    "still_open",
                    "Calls still open",
                    t["open"],
                    "Calls raised in the month that are not closed yet (including reopened calls). Their type and "
                    "outcome are not in the figures above until they are closed: close them before you submit.",
                ),
                Measure(
                    "withdrawn",
                    "Calls withdrawn by the caller",
                    t["withdrawn"],
                    "Calls the caller withdrew. They count as calls by route but have no outcome.",
                ),
            ],
        ),
    ]
    implementation = implementation_status(site.id, period.start)
    sections.append(
        Section(
            "Site implementation status",
            [
                Measure(
                    "family_route_status",
                    "Patient and family escalation route",
                    FAMILY_ROUTE_WORDS[implementation["family_route"]] if implementation else "Not recorded",
                    "Whether patients, families and carers could call for a review at this site during the month, as you "
                    "recorded it below. No call can tell this.",
                ),
                Measure(
                    "staff_route_status",
                    "Staff escalation route",
                    STAFF_ROUTE_WORDS[implementation["staff_route"]] if implementation else "Not recorded",
                    "Whether staff could call a different team for a review at any time during the month (fully, partly "
                    "or not live), as you recorded it below.",
                ),
            ],
        )
    )
    return MonthlyReturn(
        site={"id": site.id, "code": site.code, "name": site.name},
        month=period.start,
        sections=sections,
        calls=calls,
        still_open=t["open"],
        withdrawn=t["withdrawn"],
        implementation=implementation,
        generated_at=utcnow(),
        facts_missing=report_facts.any_missing(site.id),
    )


def implementation_status(site_id: int, month: date) -> dict | None:
    row = db.session.execute(
        select(
            SiteImplementation.family_route,
            SiteImplementation.staff_route,
            SiteImplementation.recorded_at,
            User.display_name,
        )
        .outerjoin(User, User.id == SiteImplementation.recorded_by_id)
        .where(SiteImplementation.site_id == site_id, SiteImplementation.month == month.replace(day=1))
    ).first()
    if row is None:
        return None
    family, staff, recorded_at, name = row
    return {
        "family_route": FamilyRouteStatus(family).value,
        "staff_route": StaffRouteStatus(staff).value,
        "recorded_at": recorded_at,
        "recorded_by": name,
    }


def record_implementation(
    user: User, site_id: int, month: date, family_route: FamilyRouteStatus, staff_route: StaffRouteStatus
) -> SiteImplementation:
    """Record (or correct) a site's implementation status for a month, audited with the old and
    new values. The caller checks the site is the user's."""
    first = month.replace(day=1)
    row = db.session.scalar(
        select(SiteImplementation).where(SiteImplementation.site_id == site_id, SiteImplementation.month == first)
    )
    before = None
    if row is None:
        row = SiteImplementation(site_id=site_id, month=first)
        db.session.add(row)
    else:
        before = {"family_route": row.family_route.value, "staff_route": row.staff_route.value}
    row.family_route, row.staff_route = family_route, staff_route
    row.recorded_by_id, row.recorded_at = user.id, utcnow()
    db.session.flush()
    changes = {
        "site_id": site_id,
        "month": first.isoformat(),
        "family_route": family_route.value,
        "staff_route": staff_route.value,
    }
    if before:
        changes.update({f"previous_{name}": value for name, value in before.items()})
    audit.record(
        "implementation_status_recorded",
        audit.Actor.user(user.id),
        object_type="site_implementation",
        object_id=row.id,
        changes=changes,
    )
    return row


def return_rows(report: MonthlyReturn) -> list[list]:
    """The return as spreadsheet rows (header first), for the CSV."""
    rows: list[list[str | int]] = [
        ["Site code", "Site", "Month", "Section", "Measure", "Value", "Percentage of all calls", "Definition"]
    ]
    for section in report.sections:
        for measure in section.measures:
            rows.append(
                [
                    report.site["code"],
                    report.site["name"],
                    f"{report.month:%Y-%m}",
                    section.title,
                    measure.label,
                    measure.value,
                    measure.percent or "",
                    measure.definition,
                ]
            )
    return rows

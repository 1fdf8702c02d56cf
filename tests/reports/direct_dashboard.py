"""The dashboard as it was counted before the daily rollups (kept as the oracle tests/reports/test_rollups.py compares
the rollup-based dashboard with, figure by figure). The managers' dashboard for a period and site (docs/facts.md#nhs-englands-monthly-return). The NHS England
monthly return is `monthly_return.py`; both count with `counting.py` over periods from `periods.py`.
Plain functions returning plain values; the views only show them.

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
durations (plain numbers), sorted and interpolated as `percentile_cont` does (`percentiles.py`). No Concern
objects are loaded. In or out of hours is decided when the figures are read, from the trust's
current window and bank holidays.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import Row, SQLColumnExpression, and_, case, func, literal, or_, select, text
from sqlalchemy.sql.elements import ColumnElement

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import (
    Audience,
    CallerUpdateMethod,
    Concern,
    ConcernStatus,
    Message,
    MessageChannel,
    SendState,
    Site,
    SmsOptOut,
    Team,
    Ward,
)
from tracker.services.reports import report_facts
from tracker.services.reports.counting import CODING, MICROS, _add_up, _calls, _count, _cube
from tracker.services.reports.percentiles import _percentile, _seconds
from tracker.services.reports.periods import Period, _add_months, _months_between
from tracker.services.reports.working_hours import WorkingHours, bank_holidays, covered
from tracker.services.setup.settings import TrustSettings
from tracker.services.words import NO_WARD_YET

BREACH_LIST_LIMIT = 100
TREND_MONTHS = 12


# --- periods --------------------------------------------------------------------------------


# --- what counts ----------------------------------------------------------------------------
#
# Every figure reads the calls' report facts (services/reports/report_facts.py): the local day, time of
# day and weekday each call was raised, and each clock's duration in microseconds, written when
# the timestamps were. So the database compares plain numbers, and the index ix_concern_report
# (site, local month, the coding, then every other column read here) answers each query without
# reading the table.


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
    extras = {
        "in_hours": _count(_in_hours(hours, holidays)),
        # Counted apart from "caller updated" (only a clinician's record that the caller was told).
        "caller_texted": func.count(Concern.caller_texted_at),
        "could_not_contact": _count(Concern.caller_update_method == CallerUpdateMethod.COULD_NOT_CONTACT),
    }
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
    by_ward: dict[int | None, int] = {}
    by_hour = [0] * 24
    for _month, hour, ward_id, calls in db.session.execute(
        select(Concern.raised_local_month, Concern.raised_local_hour, Concern.ward_id, func.count())
        .where(*_calls(site_id, period.start, period.end))
        .group_by(Concern.raised_local_month, Concern.raised_local_hour, Concern.ward_id)
    ):
        by_ward[ward_id] = by_ward.get(ward_id, 0) + calls
        assert hour is not None  # _calls needs the local date, which is always set with the hour
        by_hour[int(hour)] += calls
    # Retired wards appear only when they had calls in the period; text-in calls whose ward nobody has set yet
    # are counted on a line of their own, so the wards add up to the site's calls.
    rows = [
        (name, by_ward.get(ward_id, 0)) for ward_id, name, retired in wards if retired is None or by_ward.get(ward_id)
    ]
    if by_ward.get(None):
        rows.append((NO_WARD_YET, by_ward[None]))
    return rows, by_hour


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
            .outerjoin(Ward, Ward.id == Concern.ward_id)  # a text-in call may have no ward yet
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
                        "ward": ward or NO_WARD_YET,
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

"""The managers' dashboard for a period and site (docs/facts.md#nhs-englands-monthly-return). The NHS England
monthly return is `monthly_return.py`; both count with `counting.py` over periods from `periods.py`.
Plain functions returning plain values; the views only show them.

Rules every figure follows (and the pages say so):
- A call belongs to the local day, hour and month in which it was **raised**, in the trust's time
  zone (BST included): 23:30 BST on 31 August is an August call though it is 22:30 UTC.
- A call cancelled as a duplicate of another is the same call counted twice, so it is left out.
  A withdrawn call was still made: it counts as a call, with no outcome.
- Outcome coding (type, clinical review, escalation) counts only once the call is **closed**; open
  and reopened calls are shown as "not coded yet", so an early report cannot look final.

The counts, hours, wards and clock durations come from the daily rollups (`rollups.py`,
docs/architecture.md#daily-rollups): each day's figures added up once, exact, with the targets, in-hours window,
bank holidays and linked-calls setting applied here when read; a day not kept (recent, or changed since) is
counted from the calls; so are the texts, but for numbers opted out since. The breach lists (the first hundred)
are read from the calls' index.
No Concern objects are loaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Row, SQLColumnExpression, and_, case, func, literal, or_, select, text
from sqlalchemy.sql.elements import ColumnElement

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import (
    Audience,
    Concern,
    ConcernStatus,
    Site,
    Team,
    Ward,
)
from tracker.services.reports import report_facts, rollup_sums, rollup_texts, rollups
from tracker.services.reports.counting import MICROS, _add_up, _calls
from tracker.services.reports.percentiles import _seconds, percentile_of_runs
from tracker.services.reports.periods import Period, _add_months, _months_between
from tracker.services.reports.working_hours import WorkingHours, bank_holidays, covered
from tracker.services.setup.settings import TrustSettings, current_settings
from tracker.services.words import NO_WARD_YET

BREACH_LIST_LIMIT = 100
TREND_MONTHS = 12


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
    """Every dashboard figure for calls raised at `site` in `period` (local days), added up from the daily
    rollups (rollups.py), each day counted from the calls when its rollup is not fresh."""
    _plan_for_these_values()
    hours = WorkingHours(settings.in_hours_start, settings.in_hours_end, settings.bank_holiday_region)
    holidays = bank_holidays(hours.region, period.start, period.end_exclusive)
    now = utcnow()
    teams = _team_targets()
    wards = db.session.execute(
        select(Ward.id, Ward.name, Ward.retired_at).where(Ward.site_id == site.id).order_by(Ward.name)
    ).all()
    span = trend_span(period)
    found = rollups.days(site.id, span.start, span.end, durations=(period.start, period.end))
    linked_once = current_settings().linked_calls_counted == "once"
    parts = rollups.parts_in(found, period.start, period.end, linked_once)
    trend_rows = rollup_sums.cube_rows(rollups.parts_in(found, span.start, span.end, linked_once))
    if period.start.day == 1 and (period.end + timedelta(days=1)).day == 1:
        # Whole months: the period's rows are the trend's rows of its months (the trend always holds the period).
        tally = _add_up([row for row in trend_rows if period.start <= row[0] <= period.end])
    else:
        tally = _add_up(rollup_sums.cube_rows(parts))
    tally["in_hours"] = rollup_sums.in_hours_count(site.id, period, parts, hours, holidays)
    tally["caller_texted"] = sum(part.texted for _day, part in parts)
    tally["could_not_contact"] = sum(part.no_contact for _day, part in parts)
    runs = rollup_sums.duration_runs(parts)
    for index, (key, _label, _fact, target, _waiting) in enumerate(CLOCKS):
        tally[f"timed:{key}"] = sum(map(len, runs[index]))
        if target is not None:
            tally[f"breach:{key}"] = rollup_sums.breach_count(parts, index, target, teams, now)
    by_ward, by_hour = _by_ward_and_hour(parts, wards)
    return Dashboard(
        site={"id": site.id, "code": site.code, "name": site.name},
        period=period,
        tally=tally,
        by_ward=by_ward,
        by_hour=by_hour,
        trend=_trend(span, trend_rows),
        clocks=_clocks(site.id, period, settings.timezone, tally, runs, teams, now),
        sms=_sms(site.id, period, parts),
        hours=hours,
        holidays=holidays,
        holidays_published=covered(hours.region, period.start, period.end_exclusive),
        generated_at=now,
        facts_missing=report_facts.any_missing(site.id),
    )


def trend_span(period: Period) -> Period:
    """The months the trend shows: the twelve ending with the period's last month (or every month of a longer
    period). They always hold the period."""
    last_month = period.end.replace(day=1)
    first_month = min(period.start.replace(day=1), _add_months(last_month, -(TREND_MONTHS - 1)))
    return Period(first_month, _add_months(last_month, 1) - timedelta(days=1))


def _plan_for_these_values() -> None:
    """PostgreSQL: plan each query for the period it is given. psycopg prepares a statement run
    often, and the server may then settle on one generic plan for every period; one fit for a
    month can take ten times longer over a year (measured: a breach list 2 ms, then 80 ms)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


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


def _by_ward_and_hour(
    parts: Sequence[tuple[date, rollups.Part]], wards: Sequence[Row]
) -> tuple[list[tuple[str, int]], list[int]]:
    """Calls by ward and by local hour of the day."""
    by_ward: dict[int | None, int] = {}
    by_hour = [0] * 24
    for _day, part in parts:
        for ward, calls in part.wards.items():
            ward_id = int(ward) if ward else None
            by_ward[ward_id] = by_ward.get(ward_id, 0) + calls
        for hour, calls in enumerate(part.hours):
            by_hour[hour] += calls
    # Retired wards appear only when they had calls in the period; text-in calls whose ward nobody has set yet
    # are counted on a line of their own, so the wards add up to the site's calls.
    rows = [
        (name, by_ward.get(ward_id, 0)) for ward_id, name, retired in wards if retired is None or by_ward.get(ward_id)
    ]
    if by_ward.get(None):
        rows.append((NO_WARD_YET, by_ward[None]))
    return rows, by_hour


def _trend(span: Period, rows: Sequence[Sequence]) -> list[dict]:
    """Month by month over the trend's span, from the cube's rows (month, *coding, calls) of its days."""
    by_month: dict[date, list[Sequence]] = {}
    for row in rows:
        by_month.setdefault(row[0], []).append(row)
    trend = []
    for index in range(_months_between(span.start, span.end_exclusive)):
        month = _add_months(span.start, index)
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


def _clocks(
    site_id: int, period: Period, tz_name: str, tally: dict, runs: list[list], teams: dict, now: datetime
) -> list[Clock]:
    calls = _calls(site_id, period.start, period.end)
    targets = _targets(site_id)
    start_utc, end_utc = period.utc_bounds(tz_name)
    clocks = []
    for index, (key, label, fact, target, waiting) in enumerate(CLOCKS):
        # percentile_cont's interpolation over the exact durations, as if merged (percentiles.py)
        median, p90 = _seconds(percentile_of_runs(runs[index], 0.5)), _seconds(percentile_of_runs(runs[index], 0.9))
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


def _sms(site_id: int, period: Period, parts: Sequence[tuple[date, rollups.Part]]) -> dict[str, dict[str, int]]:
    """Texts about the period's calls, for callers and for clinicians, added up from the days' rollups. A text
    counts as opted out when it was cancelled or failed and the provider refused it as opted out (kept in the
    rollup) or its number is opted out now (`rollup_sums.opted_out_now`, read now: a number can opt out later)."""
    totals = {audience.value: [0] * len(rollup_texts.TEXT_FIGURES) for audience in Audience}
    for _day, part in parts:
        for audience, figures in part.texts.items():
            found = totals.setdefault(audience, [0] * len(rollup_texts.TEXT_FIGURES))
            for index, texts in enumerate(figures):
                found[index] += texts
    result = {}
    for audience in Audience:
        queued, sent, delivered, failed, refused = totals[audience.value]
        opted_out = refused + rollup_sums.opted_out_now(site_id, period) if audience is Audience.FAMILY else 0
        result[audience.value] = {
            "queued": queued,
            "sent": sent,
            "delivered": delivered,
            "failed": failed,
            "opted_out": opted_out,
        }
    return result

"""The improvement charts' figures as they were counted before they read the daily rollups: straight from the
calls (one grouped query per figure) and the daily check's own month-by-month figures. Kept as the oracle
tests/reports/test_improvement_rollups.py compares the rollup-based figures with (as direct_dashboard.py is the
dashboard's)."""

from __future__ import annotations

import json
from datetime import date
from fractions import Fraction

from sqlalchemy import and_, func, not_, select

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import CallerRoute, Concern
from tracker.services.reports import daily_check, spc
from tracker.services.reports.counting import MICROS, _calls
from tracker.services.reports.dashboard import CLOCKS, _breached, _team_targets
from tracker.services.reports.percentiles import _percentile
from tracker.services.reports.periods import Period

MINUTE = 60 * MICROS
_REVIEW = next(clock for clock in CLOCKS if clock[0] == "review")


def calls_by_route(site_id: int, period: Period) -> dict[tuple[date, CallerRoute], int]:
    return {
        (month, CallerRoute(route)): count
        for month, route, count in db.session.execute(
            select(Concern.raised_local_month, Concern.caller_route, func.count())
            .where(*_calls(site_id, period.start, period.end))
            .group_by(Concern.raised_local_month, Concern.caller_route)
        )
        if route is not None and month is not None
    }


def _minutes(micros: float | None) -> Fraction | None:
    return None if micros is None else spc.exact(micros) / MINUTE


def review_times(site_id: int, period: Period) -> tuple[dict, dict]:
    """(median, 90th percentile) in minutes by month: percentile_cont on PostgreSQL, else interpolated here."""
    calls, fact = _calls(site_id, period.start, period.end), Concern.to_review_us
    median: dict[date, Fraction | None] = {}
    p90: dict[date, Fraction | None] = {}
    if db.session.get_bind().dialect.name == "postgresql":
        for month, middle, high in db.session.execute(
            select(
                Concern.raised_local_month,
                func.percentile_cont(0.5).within_group(fact),
                func.percentile_cont(0.9).within_group(fact),
            )
            .where(*calls, fact.is_not(None))
            .group_by(Concern.raised_local_month)
        ):
            median[month], p90[month] = _minutes(middle), _minutes(high)
        return median, p90
    for month, joined in db.session.execute(
        select(Concern.raised_local_month, func.group_concat(fact))
        .where(*calls, fact.is_not(None))
        .group_by(Concern.raised_local_month)
    ):
        values = sorted(json.loads(f"[{joined}]")) if joined else []
        median[month], p90[month] = _minutes(_percentile(values, 0.5)), _minutes(_percentile(values, 0.9))
    return median, p90


def share_within_target(site_id: int, period: Period) -> dict[date, Fraction]:
    _key, _label, fact, target, waiting = _REVIEW
    assert target is not None
    breached = _breached(fact, target, waiting, _team_targets(), utcnow())
    rows = db.session.execute(
        select(
            Concern.raised_local_month,
            func.count().filter(and_(fact.is_not(None), not_(breached))),
            func.count().filter((fact.is_not(None)) | breached),
        )
        .where(*_calls(site_id, period.start, period.end))
        .group_by(Concern.raised_local_month)
    )
    return {month: Fraction(100 * within, judged) for month, within, judged in rows if judged and month is not None}


def coverage(site_id: int, period: Period, tz_name: str) -> dict[date, Fraction | None]:
    return {
        month.month: None if month.coverage is None else Fraction(100 * month.asked, month.occupied)
        for month in daily_check.figures(site_id, period, tz_name).months
    }

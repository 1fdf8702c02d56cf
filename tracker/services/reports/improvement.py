"""The improvement charts' series (docs/architecture.md#improvement-charts): month by month at a site, from the
daily rollups and the daily check (`improvement_data.py`), each put through `spc.xmr_chart`. Plain functions
returning plain values; the view only shows them.

Never a query per month: the span's days are read from `report_day` once (a day not kept is counted from the
calls); calls by month and route, the review clock's median and 90th percentile by month (interpolated over the
month's merged durations as `percentiles.py` does), and reviews within and past the team's target by month are
added up from them; the daily check's coverage is two queries for the whole span. A month with no calls is 0
calls and a missing point (None) for a time or a share: a share of nothing is unknown, not nought."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import func, select

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import CallerRoute, Site, Team
from tracker.problems import Problem
from tracker.services.reports import improvement_changes, improvement_data, report_facts, spc
from tracker.services.reports.counting import MICROS
from tracker.services.reports.dashboard import _team_targets
from tracker.services.reports.improvement_changes import Marks
from tracker.services.reports.periods import Period, _add_months
from tracker.services.reports.remembered import Remembered
from tracker.services.setup.settings import TrustSettings
from tracker.services.words import LABELS

DEFAULT_MONTHS = 24
MIN_MONTHS = 2  # the arithmetic's least; limits are drawn only from 12 (spc.MIN_POINTS_FOR_LIMITS)
MAX_MONTHS = improvement_changes.MAX_CHART_MONTHS
ROUTES = (CallerRoute.PATIENT, CallerRoute.FAMILY, CallerRoute.STAFF)
MINUTE = 60 * MICROS
MEMO_SERIES = 256  # charts remembered per process (8 a view: 32 views), least recently used dropped first


@dataclass(frozen=True)
class Row:
    """One month of a chart's table, rounded to two places as shown: `lower` and `upper` are None where the
    limits are not drawable; `flags` are the special-cause rules the point is part of (empty when not judged)."""

    month: date
    value: Decimal | None
    mean: Decimal | None
    lower: Decimal | None
    upper: Decimal | None
    flags: tuple[spc.Rule, ...]
    kind: spc.Kind
    change: bool = False  # the first month after a recorded change: a new segment, with its own baseline


@dataclass(frozen=True)
class Series:
    key: str
    title: str
    unit: str  # "calls", "minutes" or "%"
    note: str  # what the figure is, in a sentence
    target_words: str  # the target as the page says it, or why there is none
    chart: spc.Chart
    rows: tuple[Row, ...]
    # Everything the series was worked out from (its key in `_SERIES`): what a drawing of it may be remembered
    # under (web/improvement_drawn.py).
    inputs: tuple = field(default=(), compare=False, repr=False)


@dataclass(frozen=True)
class Improvement:
    site: dict
    months: tuple[date, ...]
    series: tuple[Series, ...]
    facts_missing: bool
    marks: Marks = Marks()


def span(today: date, months: int) -> Period:
    """The `months` whole months up to and including last month (this month is not over, and a part-month
    would read as a fall)."""
    if not MIN_MONTHS <= months <= MAX_MONTHS:
        raise Problem(f"Choose from {MIN_MONTHS} to {MAX_MONTHS} months.")
    this_month = today.replace(day=1)
    return Period(_add_months(this_month, -months), this_month - timedelta(days=1))


def improvement(
    site: Site, today: date, months: int, settings: TrustSettings, facts_missing: bool | None = None
) -> Improvement:
    """Every improvement chart for `site`: the `months` whole months before `today`'s month. `facts_missing`: what
    a caller that already asked `report_facts.any_missing` found (a probe that can cost a scan on PostgreSQL)."""
    period = span(today, months)
    firsts = tuple(_add_months(period.start, n) for n in range(months))
    marks = improvement_changes.marks(site.id, firsts, settings.spc_run_length)
    now = utcnow()
    linked_once = settings.linked_calls_counted == "once"
    calls = improvement_data.monthly(site.id, period, _team_targets(), now, linked_once)
    coverage = improvement_data.coverage(site.id, period, settings.timezone, now)
    series = [
        *_call_series(_calls_by_route(calls), firsts, marks),
        *_review_series(calls, firsts, _review_target(site.id), marks),
        _series(
            marks, "check-coverage", "Daily check coverage", "%",
            "Of the occupied bed-days on the site's wards, the share whose patient was asked the daily check. "
            "Higher is better.",
            [coverage.get(m) for m in firsts], firsts, spc.Direction.HIGHER_IS_BETTER, None,
            "No target is set for daily check coverage, so there is no assurance icon.",
        ),
    ]  # fmt: skip
    return Improvement(
        site={"id": site.id, "code": site.code, "name": site.name},
        months=firsts,
        series=tuple(series),
        facts_missing=report_facts.any_missing(site.id) if facts_missing is None else facts_missing,
        marks=marks,
    )


_NO_CALL_TARGET = "Calls have no target: more calls is neither better nor worse."


def _call_series(by_route: dict[tuple[date, CallerRoute], int], firsts: Sequence[date], marks: Marks) -> list[Series]:
    """All calls, then each route's: counts, with no direction and no target."""
    series = [
        _series(
            marks, "calls", "Calls per month", "calls", "Every call raised at the site, by every route (duplicates left out).",
            [sum(by_route.get((m, r), 0) for r in ROUTES) for m in firsts], firsts,
            spc.Direction.NONE, None, _NO_CALL_TARGET,
        ),
    ]  # fmt: skip
    for route in ROUTES:
        series.append(
            _series(
                marks,
                f"calls-{route.value}".replace("_", "-"),
                f"Calls per month: {LABELS.get(route.value, route.value).lower()}",
                "calls",
                "Calls raised by this route.",
                [by_route.get((m, route), 0) for m in firsts],
                firsts,
                spc.Direction.NONE,
                None,
                _NO_CALL_TARGET,
            )
        )
    return series


def _review_series(
    calls: improvement_data.Monthly, firsts: Sequence[date], target: int | None, marks: Marks
) -> list[Series]:
    """The review clock: its median and 90th percentile (lower is better, against the team's target when the
    site's teams share one) and the share within target (higher is better, no target of its own)."""
    median, p90 = _review_times(calls)
    share = _share_within_target(calls)
    target_words = f"The team's target is review within {target} minutes." if target is not None else _NO_TIME_TARGET
    return [
        _series(
            marks, "review-median", "Median time to clinical review", "minutes",
            "Half the month's reviewed calls were reviewed within this time of being raised. Lower is better.",
            [median.get(m) for m in firsts], firsts, spc.Direction.LOWER_IS_BETTER, target, target_words,
        ),
        _series(
            marks, "review-p90", "90th percentile time to clinical review", "minutes",
            "Nine in ten of the month's reviewed calls were reviewed within this time. Lower is better.",
            [p90.get(m) for m in firsts], firsts, spc.Direction.LOWER_IS_BETTER, target, target_words,
        ),
        _series(
            marks, "review-share", "Share reviewed within the team's target", "%",
            "Of the month's calls reviewed or overdue for review, the share reviewed within their team's target. "
            "Higher is better.",
            [share.get(m) for m in firsts], firsts, spc.Direction.HIGHER_IS_BETTER, None,
            "No target is set for the share itself, so there is no assurance icon.",
        ),
    ]  # fmt: skip


_NO_TIME_TARGET = "The site's teams have different review targets (or none), so there is no assurance icon."


def _series(
    marks: Marks,
    key: str,
    title: str,
    unit: str,
    note: str,
    values: Sequence[Fraction | int | None],
    months: Sequence[date],
    direction: spc.Direction,
    target: int | None,
    target_words: str,
) -> Series:
    """The chart and its rows, worked out once per process for the same inputs (remembered.py: keyed by every
    argument's value, so a new figure, change, baseline, run length or target is another key, never stale)."""
    inputs = (marks, tuple(months), key, title, unit, note, tuple(values), direction, target, target_words)
    return _SERIES.get(inputs, lambda: _worked_out(inputs))


_SERIES: Remembered[Series] = Remembered(MEMO_SERIES)


def _worked_out(inputs: tuple) -> Series:
    marks, months, key, title, unit, note, values, direction, target, target_words = inputs
    ceiling = 100 if unit == "%" else None
    chart = spc.xmr_chart(
        values,
        direction=direction,
        target=target,
        run_length=marks.run_length,
        fixed_baselines=marks.baselines,
        changes=marks.changes,
        floor=0,
        ceiling=ceiling,
    )
    return Series(key, title, unit, note, target_words, chart, _rows(chart, months), inputs)


def _rows(chart: spc.Chart, months: Sequence[date]) -> tuple[Row, ...]:
    rows = []
    for segment in chart.segments:
        limits = segment.limits if segment.drawable else None
        for point in chart.points[segment.start : segment.end]:
            rows.append(
                Row(
                    months[point.index],
                    None if point.value is None else spc.rounded(point.value),
                    None if segment.mean is None else spc.rounded(segment.mean),
                    None if limits is None else spc.rounded(limits.shown_lower),
                    None if limits is None else spc.rounded(limits.shown_upper),
                    point.rules if point.judged else (),
                    point.kind if point.judged else spc.Kind.COMMON_CAUSE,
                    change=point.index == segment.start and segment.start > 0,
                )
            )
    return tuple(rows)


def _calls_by_route(calls: improvement_data.Monthly) -> dict[tuple[date, CallerRoute], int]:
    return calls.by_route


def _minutes(micros: float | None) -> Fraction | None:
    return None if micros is None else spc.exact(micros) / MINUTE


def _review_times(
    calls: improvement_data.Monthly,
) -> tuple[dict[date, Fraction | None], dict[date, Fraction | None]]:
    """(median, 90th percentile) of the review clock in minutes, by month; months with no review are absent."""
    median: dict[date, Fraction | None] = {}
    p90: dict[date, Fraction | None] = {}
    for month, (middle, high) in calls.review.items():
        median[month], p90[month] = _minutes(middle), _minutes(high)
    return median, p90


def _share_within_target(calls: improvement_data.Monthly) -> dict[date, Fraction]:
    """The percentage of each month's calls reviewed within their team's target, of those reviewed or still
    waiting for review past it (the dashboard's breach rule); months with neither are absent."""
    return {month: Fraction(100 * within, judged) for month, (within, judged) in calls.within.items()}


def _review_target(site_id: int) -> int | None:
    """The review target in minutes when every team at the site has the same one; None otherwise."""
    low, high = db.session.execute(
        select(func.min(Team.review_target_minutes), func.max(Team.review_target_minutes)).where(
            Team.site_id == site_id
        )
    ).one()
    return int(low) if low is not None and low == high else None


# What the table says for each rule a point is part of (docs/architecture.md#improvement-charts).
RULE_WORDS = {
    spc.Rule.OUTSIDE_LIMITS: "beyond a process limit",
    spc.Rule.SHIFT: "part of a shift",
    spc.Rule.TREND: "part of a trend",
    spc.Rule.TWO_OF_THREE: "two of three near a limit",
}
KIND_WORDS = {
    spc.Kind.IMPROVEMENT: "Special cause improvement",
    spc.Kind.CONCERN: "Special cause concern",
    spc.Kind.NEITHER: "Special cause neither",
}


def flag_words(row: Row) -> str:
    """A table row's flags in words: the kind of special cause and every rule, or empty."""
    if not row.flags:
        return ""
    rules = "; ".join(RULE_WORDS[rule] for rule in row.flags)
    return f"{KIND_WORDS.get(row.kind, 'Special cause')}: {rules}"

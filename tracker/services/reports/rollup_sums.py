"""The dashboard's figures added up from daily rollups (docs/architecture.md#daily-rollups): what `dashboard.py`
reads from the days' `Part`s, with whatever the trust can change (targets, the in-hours window, bank holidays)
applied now, exactly as the direct counts apply it."""

from __future__ import annotations

import json
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from tracker.extensions import db
from tracker.models import Audience, Concern, Message, MessageChannel, SendState, SmsOptOut
from tracker.services.reports.counting import MICROS, _calls
from tracker.services.reports.periods import Period
from tracker.services.reports.rollup_texts import OPT_OUT_ERROR
from tracker.services.reports.rollups import CLOCK_KEYS, Part, epoch_micros
from tracker.services.reports.working_hours import WorkingHours


def cube_rows(parts: Sequence[tuple[date, Part]]) -> list[tuple]:
    """The days' coding groups as the cube's rows: (month, *coding, calls), one per month and coding (a year of
    days has thousands of groups, a few hundred once added up by month; each coding is decoded once)."""
    by_month: dict[tuple[date, str], int] = {}
    for day, part in parts:
        month = day.replace(day=1)
        for coding, calls in part.groups.items():
            by_month[(month, coding)] = by_month.get((month, coding), 0) + calls
    decoded: dict[str, list] = {}
    rows = []
    for (month, coding), calls in by_month.items():
        if coding not in decoded:
            decoded[coding] = json.loads(coding)
        rows.append((month, *decoded[coding], calls))
    return rows


def in_hours_count(
    site_id: int, period: Period, parts: Sequence[tuple[date, Part]], hours: WorkingHours, holidays: dict
) -> int:
    """Calls raised in hours: whole hours inside the window from the days' hours; an hour the window starts or
    ends inside is counted from the calls themselves (the rollups keep hours, not seconds)."""

    def seconds(moment: time) -> int:
        return moment.hour * 3600 + moment.minute * 60 + moment.second

    start, end = seconds(hours.start), seconds(hours.end)
    whole = [h for h in range(24) if h * 3600 >= start and (h + 1) * 3600 <= end]
    partial = [h for h in range(24) if h not in whole and h * 3600 < end and (h + 1) * 3600 > start]
    count = sum(part.hours[h] for day, part in parts if day.weekday() < 5 and day not in holidays for h in whole)
    if partial:
        count += (
            db.session.scalar(
                select(func.count()).where(
                    *_calls(site_id, period.start, period.end),
                    Concern.raised_local_hour.in_(partial),
                    in_hours_condition(hours, holidays),
                )
            )
            or 0
        )
    return count


def duration_runs(parts: Sequence[tuple[date, Part]]) -> list[list]:
    """Each clock's durations over the period as runs, one per day, team and kind of call, each sorted: the
    percentiles' exact input (`percentiles.percentile_of_runs`), never merged into one list."""
    runs: list[list] = [[] for _ in CLOCK_KEYS]
    for _day, part in parts:
        for lists in part.durations.values():
            for index, values in enumerate(lists):
                if len(values):
                    runs[index].append(values)
    return runs


def target_of(team: str, teams: dict[int, tuple[int, int]], which: int) -> int | None:
    targets = teams.get(int(team)) if team else None
    return None if targets is None else targets[which]


def breach_count(
    parts: Sequence[tuple[date, Part]],
    index: int,
    target: str,
    teams: dict[int, tuple[int, int]],
    now: datetime,
) -> int:
    """As `_breached` counts them: durations past the team's target, and calls still waiting for the step that
    were raised longer ago than the target. A call of a team that no longer exists counts in neither."""
    which = 0 if target == "ack_target_minutes" else 1
    count = 0
    for _day, part in parts:
        for team, lists in part.durations.items():
            minutes = target_of(team, teams, which)
            if minutes is not None:
                values = lists[index]
                count += len(values) - bisect_right(values, minutes * 60 * MICROS)
        for team, waiting in part.waiting.items():
            minutes = target_of(team, teams, which)
            if minutes is not None:
                cutoff = epoch_micros(now - timedelta(minutes=minutes))
                count += sum(1 for raised in waiting[which] if raised < cutoff)
    return count


def in_hours_condition(hours: WorkingHours, holidays: Iterable[date]) -> ColumnElement:
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


def opted_out_now(site_id: int, period: Period) -> int:
    """Texts to callers about the period's calls, cancelled or failed, that the provider did not refuse as opted out
    (those are in the rollups) but whose number is opted out now. Driven by the opted-out numbers: the partial
    index ix_message_unsent_family (migration 0037) holds only callers' cancelled and failed texts. With no number
    opted out, the planner cannot tell that from an estimate (it reads the period's calls instead): it is asked."""
    opted_out = select(SmsOptOut.number).where(SmsOptOut.opted_out.is_(True))
    if db.session.scalar(opted_out.limit(1)) is None:
        return 0
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Message)
            .join(Concern, Concern.id == Message.concern_id)
            .where(
                Message.to_number.in_(opted_out),
                Message.audience == Audience.FAMILY,
                Message.send_state.in_([SendState.CANCELLED, SendState.DEAD]),
                Message.channel == MessageChannel.SMS,
                or_(Message.error_code.is_(None), Message.error_code != OPT_OUT_ERROR),
                *_calls(site_id, period.start, period.end),
            )
        )
        or 0
    )

"""Counting calls by their report facts (docs/facts.md#nhs-englands-monthly-return): what counts as a call (not a
duplicate), which calls are coded (closed), and the grouped passes over the covering index that every
figure is added up from."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Row, and_, func, not_, select
from sqlalchemy.sql.elements import ColumnElement

from tracker.extensions import db
from tracker.models import (
    OPEN_STATUSES,
    CallerRoute,
    CancelKind,
    ChangeInCare,
    Concern,
    ConcernStatus,
    ConcernType,
    DeteriorationOutcome,
)
from tracker.services.reports.periods import Period
from tracker.services.setup.settings import current_settings

DUPLICATE = and_(Concern.status == ConcernStatus.CANCELLED, Concern.cancel_kind == CancelKind.DUPLICATE)


WITHDRAWN = and_(Concern.status == ConcernStatus.CANCELLED, Concern.cancel_kind != CancelKind.DUPLICATE)


CLOSED = Concern.status == ConcernStatus.CLOSED


STILL_OPEN = Concern.status.in_(sorted(OPEN_STATUSES, key=lambda s: s.value))


ACUTE = and_(Concern.concern_type == ConcernType.ACUTE_DETERIORATION, CLOSED)


MICROS = 1_000_000


def _calls(site_id: int, first: date, last: date) -> list[ColumnElement]:
    """The calls raised at the site on local days `first` to `last`, duplicates left out, and linked calls too
    where the trust counts them once (services/concerns/linking.py; by default a linked call counts as its own
    call, by its own route). The local months as well as the days: the report index is ordered by month, so the
    database reads only the period's stretch of it."""
    conditions = [
        Concern.site_id == site_id,
        Concern.raised_local_month >= first.replace(day=1),
        Concern.raised_local_month <= last.replace(day=1),
        Concern.raised_local_date >= first,
        Concern.raised_local_date <= last,
        not_(DUPLICATE),
    ]
    if current_settings().linked_calls_counted == "once":
        conditions.append(Concern.linked_to_id.is_(None))
    return conditions


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
    # A recorded review always counts as "needed a clinical review", whatever the coding says.
    Concern.reviewed_at.is_not(None).label("review_recorded"),
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
    status: Any,
    cancel_kind: Any,
    route: Any,
    concern_type: Any,
    review_needed: bool | None,
    outcome: Any,
    changes: Any,
    review_recorded: Any = False,
) -> list[str]:
    """The figures one call with this coding counts towards: the one place these rules live.
    Coding counts only once the call is closed; duplicates never reach here (`_calls`)."""
    status, cancel_kind, route, concern_type, outcome = (
        getattr(value, "value", value) for value in (status, cancel_kind, route, concern_type, outcome)
    )
    names = ["calls", f"route:{route}"]
    if status == ConcernStatus.CLOSED.value:
        names.append("closed")
        if review_needed is True or bool(review_recorded):
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

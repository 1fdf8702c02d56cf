"""What a manager records about a site's improvement charts (docs/architecture.md#improvement-charts): a change
to the service, which starts a new segment with its own baseline on every chart of the site, and a baseline
fixed by hand. Each is audited when recorded and when removed (the description stays out of the audit trail:
free text never goes there). `marks` turns them into the positions `spc.xmr_chart` takes for the months shown.
The caller checks the site is the manager's and commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import ImprovementBaseline, ImprovementChange, User, Ward
from tracker.models.improvement import DESCRIPTION_LIMIT
from tracker.problems import FieldProblem
from tracker.services.records import audit
from tracker.services.reports import spc
from tracker.services.reports.periods import EARLIEST
from tracker.services.scope import ROLE_NAMES

__all__ = [
    "DESCRIPTION_LIMIT",
    "MAX_RUN_LENGTH",
    "MIN_BASELINE_MONTHS",
    "MIN_RUN_LENGTH",
    "Marks",
    "Recorded",
    "baseline_of_site",
    "change_of_site",
    "fix_baseline",
    "marks",
    "record_change",
    "recorded",
    "remove_baseline",
    "remove_change",
]

# The shift and trend rules' run length: NHS England's Making Data Count uses 7, and its SPC tool allows 6.
# Nothing longer: each point more is another month a sustained deterioration goes unflagged.
MIN_RUN_LENGTH, MAX_RUN_LENGTH = 6, 7
MAX_CHART_MONTHS = 60  # improvement.MAX_MONTHS (that module reads this one)
MIN_BASELINE_MONTHS = 2  # the arithmetic's least; limits are drawn only from 12 (spc.MIN_POINTS_FOR_LIMITS)


@dataclass(frozen=True)
class Marks:
    """How a site's charts are split and judged over the months shown: each change's position (the first month
    after it), the fixed baselines as positions, the run length, and notes on any recorded baseline not used."""

    changes: tuple[int, ...] = ()
    baselines: tuple[spc.Period, ...] = ()
    run_length: int = spc.DEFAULT_RUN_LENGTH
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Recorded:
    """A change or a baseline as the page lists it."""

    id: int
    start: date  # a change's month, or a baseline's first month
    end: date | None  # a baseline's last month
    ward: str | None
    description: str
    by: str  # who recorded it, "Name (Role)"


def _month_words(month: date) -> str:
    return f"{month:%b %Y}"


def _this_month(today: date) -> date:
    return today.replace(day=1)


def _active_changes(site_id: int) -> list[ImprovementChange]:
    return list(
        db.session.scalars(
            select(ImprovementChange)
            .where(ImprovementChange.site_id == site_id, ImprovementChange.removed_at.is_(None))
            .order_by(ImprovementChange.month, ImprovementChange.id)
        )
    )


def _active_baselines(site_id: int) -> list[ImprovementBaseline]:
    return list(
        db.session.scalars(
            select(ImprovementBaseline)
            .where(ImprovementBaseline.site_id == site_id, ImprovementBaseline.removed_at.is_(None))
            .order_by(ImprovementBaseline.start_month, ImprovementBaseline.id)
        )
    )


def _spanning(baselines: Sequence[ImprovementBaseline], month: date) -> ImprovementBaseline | None:
    """The baseline a change taking effect in `month` would split (one that has months both before and from it)."""
    return next((b for b in baselines if b.start_month < month <= b.end_month), None)


def record_change(
    user: User, site_id: int, month: date, ward_id: int | None, description: str, today: date
) -> ImprovementChange:
    """Record a change to the service at the site, taking effect in `month` (the first month after it)."""
    first = month.replace(day=1)
    if first > _this_month(today):
        raise FieldProblem(
            "change_month",
            "The month a change took effect cannot be in the future: record it once that month has begun",
        )
    if first < EARLIEST:
        raise FieldProblem("change_month", f"Choose a month from January {EARLIEST.year}")
    if ward_id is not None and db.session.scalar(select(Ward.site_id).where(Ward.id == ward_id)) != site_id:
        raise FieldProblem("ward", "Choose a ward of this site, or no ward")
    split = _spanning(_active_baselines(site_id), first)
    if split is not None:
        raise FieldProblem(
            "change_month",
            f"The baseline fixed from {_month_words(split.start_month)} to {_month_words(split.end_month)} spans "
            f"{first:%B %Y}: unfix it first, as a baseline cannot mix the months before and after a change",
        )
    row = ImprovementChange(site_id=site_id, ward_id=ward_id, month=first, description=description[:DESCRIPTION_LIMIT])
    row.recorded_by_id, row.recorded_at = user.id, utcnow()
    db.session.add(row)
    db.session.flush()
    audit.record(
        "improvement_change_recorded",
        audit.Actor.user(user.id),
        object_type="improvement_change",
        object_id=row.id,
        changes={"site_id": site_id, "month": first.isoformat(), "ward_id": ward_id},
    )
    return row


def change_of_site(site_id: int, change_id: int) -> ImprovementChange | None:
    """The site's change (not removed) with this id; None for another site's or one removed."""
    row = db.session.get(ImprovementChange, change_id)
    return row if row is not None and row.site_id == site_id and row.removed_at is None else None


def remove_change(user: User, row: ImprovementChange) -> None:
    row.removed_by_id, row.removed_at = user.id, utcnow()
    db.session.flush()
    audit.record(
        "improvement_change_removed",
        audit.Actor.user(user.id),
        object_type="improvement_change",
        object_id=row.id,
        changes={"site_id": row.site_id, "month": row.month.isoformat()},
    )


def fix_baseline(user: User, site_id: int, start: date, end: date, today: date) -> ImprovementBaseline:
    """Fix the baseline of the segment the months `start` to `end` (both included) lie in."""
    first, last = start.replace(day=1), end.replace(day=1)
    if last >= _this_month(today):
        raise FieldProblem("to_month", "A baseline must end by last month: this month is not over yet")
    if first < EARLIEST:
        raise FieldProblem("from_month", f"Choose a month from January {EARLIEST.year}")
    if last < first:
        raise FieldProblem("to_month", "The baseline must end in or after the month it starts")
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    if months < MIN_BASELINE_MONTHS:
        raise FieldProblem(
            "to_month", f"A baseline needs at least {MIN_BASELINE_MONTHS} months (and 12 to draw process limits)"
        )
    changes = _active_changes(site_id)
    inside = next((change for change in changes if first < change.month <= last), None)
    if inside is not None:
        raise FieldProblem(
            "to_month",
            f"A change is recorded from {inside.month:%B %Y}, within these months: a baseline cannot mix the months "
            "before and after a change",
        )
    segment = [change.month for change in changes]
    for other in _active_baselines(site_id):
        if _segment_of(other.start_month, segment) == _segment_of(first, segment):
            raise FieldProblem(
                "from_month",
                f"A baseline is already fixed from {_month_words(other.start_month)} to "
                f"{_month_words(other.end_month)} between the same recorded changes: unfix it first",
            )
    row = ImprovementBaseline(site_id=site_id, start_month=first, end_month=last)
    row.fixed_by_id, row.fixed_at = user.id, utcnow()
    db.session.add(row)
    db.session.flush()
    audit.record(
        "improvement_baseline_fixed",
        audit.Actor.user(user.id),
        object_type="improvement_baseline",
        object_id=row.id,
        changes={"site_id": site_id, "start": first.isoformat(), "end": last.isoformat()},
    )
    return row


def _segment_of(month: date, change_months: Sequence[date]) -> int:
    """Which segment a month falls in: how many changes took effect in or before it."""
    return sum(change <= month for change in change_months)


def baseline_of_site(site_id: int, baseline_id: int) -> ImprovementBaseline | None:
    row = db.session.get(ImprovementBaseline, baseline_id)
    return row if row is not None and row.site_id == site_id and row.removed_at is None else None


def remove_baseline(user: User, row: ImprovementBaseline) -> None:
    row.removed_by_id, row.removed_at = user.id, utcnow()
    db.session.flush()
    audit.record(
        "improvement_baseline_removed",
        audit.Actor.user(user.id),
        object_type="improvement_baseline",
        object_id=row.id,
        changes={"site_id": row.site_id, "start": row.start_month.isoformat(), "end": row.end_month.isoformat()},
    )


def _by(user_id: int, people: dict[int, tuple[str, str]]) -> str:
    name, role = people.get(user_id, ("Someone no longer listed", ""))
    return f"{name} ({role})" if role else name


def recorded(site_id: int) -> tuple[list[Recorded], list[Recorded]]:
    """The site's changes and fixed baselines (not removed), oldest first, for the page."""
    changes, baselines = _active_changes(site_id), _active_baselines(site_id)
    ids = {c.recorded_by_id for c in changes} | {b.fixed_by_id for b in baselines}
    people = {
        user_id: (name, ROLE_NAMES.get(role, ""))
        for user_id, name, role in db.session.execute(
            select(User.id, User.display_name, User.role).where(User.id.in_(ids))
        )
    }
    wards = {
        ward_id: name for ward_id, name in db.session.execute(select(Ward.id, Ward.name).where(Ward.site_id == site_id))
    }
    return (
        [
            Recorded(c.id, c.month, None, wards.get(c.ward_id) if c.ward_id else None, c.description,
                     _by(c.recorded_by_id, people))
            for c in changes
        ],
        [Recorded(b.id, b.start_month, b.end_month, None, "", _by(b.fixed_by_id, people)) for b in baselines],
    )  # fmt: skip


def marks(site_id: int, months: Sequence[date], run_length: int) -> Marks:
    """The site's changes and baselines as positions in `months` (consecutive firsts of months). A change before
    the first month shown is before the series (it starts nothing); one in this month, after the last month
    shown, starts a segment with no figures yet. A baseline not wholly within the months shown is not used,
    and a note says so (the charts then take the first 12 months with figures of its segment)."""
    index = {month: position for position, month in enumerate(months)}
    change_months = [change.month for change in _active_changes(site_id)]
    positions = sorted({_position(month, months) for month in change_months})
    periods: list[spc.Period] = []
    notes: list[str] = []
    for baseline in _active_baselines(site_id):
        start, end = index.get(baseline.start_month), index.get(baseline.end_month)
        if start is None or end is None:
            notes.append(_outside(baseline, months))
            continue
        period = spc.Period(start, end + 1)
        clash = any(start < change <= end for change in positions)
        if clash or any(_same_segment(other, period, positions) for other in periods):
            notes.append(
                f"The baseline fixed from {_month_words(baseline.start_month)} to "
                f"{_month_words(baseline.end_month)} is not used: it spans a recorded change, or shares its "
                "segment with another fixed baseline."
            )
            continue
        periods.append(period)
    return Marks(tuple(positions), tuple(periods), run_length, tuple(notes))


def _position(month: date, months: Sequence[date]) -> int:
    if month <= months[0]:
        return 0
    if month > months[-1]:
        return len(months)
    return (month.year - months[0].year) * 12 + month.month - months[0].month


def _same_segment(one: spc.Period, other: spc.Period, changes: Sequence[int]) -> bool:
    return sum(change <= one.start for change in changes) == sum(change <= other.start for change in changes)


def _outside(baseline: ImprovementBaseline, months: Sequence[date]) -> str:
    words = f"The baseline fixed from {_month_words(baseline.start_month)} to {_month_words(baseline.end_month)}"
    if baseline.start_month < months[0]:
        needed = (months[-1].year - baseline.start_month.year) * 12 + months[-1].month - baseline.start_month.month + 1
        if needed > MAX_CHART_MONTHS:
            return f"{words} is older than the {MAX_CHART_MONTHS} months the charts can show, so they do not use it."
        return (
            f"{words} starts before the months shown, so these charts take their baselines from the first 12 months "
            f"with figures instead: show {needed} months to use it."
        )
    return f"{words} ends after the months shown, so these charts do not use it yet."

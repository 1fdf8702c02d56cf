"""Report facts: plain numbers kept on each call so the managers' dashboard can count and sort a
year of calls without working out local times or durations for every row on every request
(the dashboard's speed, bench/README.md).

Each fact is derived from the call's own timestamps, written when those are set, never by hand:

- `raised_local_date`, `raised_local_month` (its first day), `raised_local_hour`,
  `raised_local_seconds` (since local midnight) and `raised_local_weekday` (Monday is 0): when the
  call was raised, on the wall clock of the trust's time zone (`settings.timezone`, BST included;
  01:30 on the night the clocks go back is hour 1 both times). A call belongs to the local day, hour and month
  in which it was raised; in or out of hours stays a decision made when the report is read (the
  trust can change its in-hours window and bank holiday region), from these facts and the bank
  holiday list.
- `to_first_alert_us`, `to_acknowledge_us`, `to_review_us`, `to_caller_updated_us`: each clock's
  duration from `raised_at`, in whole microseconds (exact: the timestamps themselves are
  microseconds), NULL while the step has not happened.

Who writes them:

- intake inserts a call with Core (`services/concerns/intake.py`): `raised_values()`;
- Core updates of a clock (a claim in `services/concerns/triage.py`, the first alert and a texted update in
  `outbox/delivery.py`): `clock_values()` / `clock_update()`;
- everything written through the ORM (a review, the caller-updated time given at close, test
  fixtures): the session's `before_flush` hook below recomputes the facts of any call whose
  `raised_at` or clocks changed.

If the trust's time zone changes (`hospital.save_settings`), the local facts of every call are
recomputed in the same transaction. `flask tracker report-facts` recomputes them all (after a
restore, or if a call was written some other way) and `--check` only reports calls whose facts
disagree with their timestamps.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from itertools import chain
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row, bindparam, event, inspect, select, update
from sqlalchemy.orm import Session, UOWTransaction

from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import Concern

log = logging.getLogger(__name__)

LOCAL_FACTS = (
    "raised_local_date",
    "raised_local_month",
    "raised_local_hour",
    "raised_local_seconds",
    "raised_local_weekday",
)
# Each clock and the fact that holds its duration.
CLOCK_FACTS = {
    "first_alert_sent_at": "to_first_alert_us",
    "acknowledged_at": "to_acknowledge_us",
    "reviewed_at": "to_review_us",
    "caller_updated_at": "to_caller_updated_us",
}
ALL_FACTS = (*LOCAL_FACTS, *CLOCK_FACTS.values())
MICROSECOND = timedelta(microseconds=1)


@lru_cache(maxsize=8)
def _zone(tz_name: str) -> ZoneInfo:
    return ZoneInfo(tz_name)


def local_values(raised_at: datetime, tz_name: str) -> dict:
    """The local facts of a call raised at `raised_at` (an aware UTC moment)."""
    moment = raised_at.astimezone(_zone(tz_name))
    return {
        "raised_local_date": moment.date(),
        "raised_local_month": moment.date().replace(day=1),
        "raised_local_hour": moment.hour,
        "raised_local_seconds": moment.hour * 3600 + moment.minute * 60 + moment.second,
        "raised_local_weekday": moment.weekday(),
    }


def micros_between(later: datetime | None, earlier: datetime) -> int | None:
    """`later - earlier` in whole microseconds (exact), None when `later` is None."""
    return None if later is None else (later - earlier) // MICROSECOND


def clock_values(clock: str, when: datetime | None, raised_at: datetime) -> dict:
    """The duration fact for one clock set to `when`."""
    return {CLOCK_FACTS[clock]: micros_between(when, raised_at)}


def raised_values(raised_at: datetime, tz_name: str, clocks: Mapping[str, datetime | None] | None = None) -> dict:
    """Every fact of a new call (for a Core insert): its local facts, and the durations of any
    clocks it already has."""
    values = local_values(raised_at, tz_name)
    for clock, fact in CLOCK_FACTS.items():
        values[fact] = micros_between((clocks or {}).get(clock), raised_at)
    return values


def clock_update(concern_id: int, clock: str, when: datetime) -> dict:
    """What a Core UPDATE that sets `clock` to `when` on one call also sets: the clock and its
    duration (one read of the call's `raised_at` by primary key)."""
    raised_at = db.session.execute(select(Concern.raised_at).where(Concern.id == concern_id)).scalar_one()
    return {clock: when, **clock_values(clock, when, raised_at)}


def facts_of(concern: Concern, tz_name: str) -> dict:
    return raised_values(concern.raised_at, tz_name, {clock: getattr(concern, clock) for clock in CLOCK_FACTS})


def _timezone() -> str:
    from tracker.services.setup.settings import current_settings

    return current_settings().timezone


# --- the ORM hook ------------------------------------------------------------------------------------


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _context: UOWTransaction, _instances: Sequence[Any] | None) -> None:
    """Keep the facts of calls written through the ORM in step with their timestamps."""
    tz_name = None
    for concern in chain(session.new, session.dirty):
        if not isinstance(concern, Concern):
            continue
        state = inspect(concern)
        attrs = state.attrs
        is_new = not state.has_identity
        if is_new and concern.raised_at is None:
            concern.raised_at = utcnow()  # the column's default, taken now so the facts can use it
        raised_changed = is_new or attrs.raised_at.history.has_changes()
        if raised_changed:
            tz_name = tz_name or _timezone()
            for name, value in local_values(concern.raised_at, tz_name).items():
                setattr(concern, name, value)
        for clock, fact in CLOCK_FACTS.items():
            if raised_changed or attrs[clock].history.has_changes():
                setattr(concern, fact, micros_between(getattr(concern, clock), concern.raised_at))


# --- recomputing and checking ------------------------------------------------------------------------

_COLUMNS = [
    Concern.id,
    Concern.raised_at,
    *[getattr(Concern, clock) for clock in CLOCK_FACTS],
    *[getattr(Concern, fact) for fact in ALL_FACTS],
]


def _batches(batch_size: int) -> Iterable[Sequence[Row]]:
    last = 0
    while True:
        rows = db.session.execute(
            select(*_COLUMNS).where(Concern.id > last).order_by(Concern.id).limit(batch_size)
        ).all()
        if not rows:
            return
        yield rows
        last = rows[-1].id


def _expected(row: Row, tz_name: str) -> dict:
    return raised_values(row.raised_at, tz_name, {clock: getattr(row, clock) for clock in CLOCK_FACTS})


def check(tz_name: str | None = None, batch_size: int = 5000, limit: int = 20) -> tuple[int, list[dict]]:
    """(calls whose facts disagree with their timestamps, the first `limit` of them)."""
    tz_name = tz_name or _timezone()
    wrong = 0
    examples: list[dict] = []
    for rows in _batches(batch_size):
        for row in rows:
            expected = _expected(row, tz_name)
            found = {fact: getattr(row, fact) for fact in ALL_FACTS}
            if found != expected:
                wrong += 1
                if len(examples) < limit:
                    examples.append({"id": row.id, "found": found, "expected": expected})
    return wrong, examples


_TABLE = Concern.__table__
_UPDATE_FACTS = (
    update(_TABLE).where(_TABLE.c.id == bindparam("fact_id")).values({fact: bindparam(fact) for fact in ALL_FACTS})
)


def recompute(tz_name: str | None = None, batch_size: int = 5000) -> int:
    """Rewrite the facts of every call whose facts disagree with its timestamps (for instance
    after the trust's time zone changed). Returns how many were rewritten; the caller commits."""
    tz_name = tz_name or _timezone()
    changed = 0
    for rows in _batches(batch_size):
        fixes = []
        for row in rows:
            expected = _expected(row, tz_name)
            if any(getattr(row, fact) != value for fact, value in expected.items()):
                fixes.append({"fact_id": row.id, **expected})
        if fixes:
            # Plain UPDATEs by primary key: derived numbers, not a clinician's edit, so no version bump.
            db.session.execute(_UPDATE_FACTS, fixes)
            changed += len(fixes)
    if changed:
        log.info("report facts rewritten for %d calls (time zone %s)", changed, tz_name)
    return changed


def any_missing(site_id: int) -> bool:
    """Whether a call at the site has no local facts (written by something that bypassed this
    module): the reports would leave it out, so they say so. One probe of the report index."""
    # The month, not the day: it is second in the report index, so this is one index probe.
    return (
        db.session.scalar(
            select(Concern.id).where(Concern.site_id == site_id, Concern.raised_local_month.is_(None)).limit(1)
        )
        is not None
    )

"""Daily rollups (docs/architecture.md#daily-rollups): each site's dashboard figures for one local day, added up
once and kept in `report_day`, so a year's dashboard adds up 365 small rows instead of counting 90,000 calls.

A day's row keeps only what every figure can be worked out from **exactly**, whatever the reader's settings:

- the calls by coding (status, cancel kind, route, type, review, outcome, changes, review recorded), for the
  counts and the trend; by local hour and by ward; how many were texted and "could not contact";
- each team's clock durations, sorted, whole microseconds: the median and 90th percentile are taken over the
  period's values as if merged (never averaged across days), and breaches are counted against the team's target when
  the figures are read (a target can change);
- for each team, when each call still waiting for a claim or a review was raised: whether it is past its
  target depends on the moment the dashboard is read;
- the texts about the day's calls, per audience: sent, accepted, delivered, failed, and (for callers) refused
  by the provider as opted out (error 21610); whether a number is opted out now is read when the figures are
  (rollup_sums.py: `opted_out_now`);
- all of it twice: for calls linked to another and for the rest, so the trust's "count linked calls once"
  setting is applied when the figures are read.

In or out of hours is also decided when read, from the hours (and, when the window starts or ends inside an
hour, a count of those hours' calls from the calls themselves).

What makes a day stale is written down in docs/architecture.md#daily-rollups; the database's trigger on
`concern` (migration 0034), and the one on `message` (migration 0037) for a text about one of the day's calls,
bump the day's `generation` for any of them, and a row counts only while its
`built_generation` equals it. Days from LIVE_DAYS ago on are never kept: they are always counted live.
"""

from __future__ import annotations

import base64
import json
import logging
import sys
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, not_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from tracker.clock import utcnow
from tracker.db import begin_write
from tracker.extensions import db
from tracker.models import CallerUpdateMethod, Concern, ReportDay, Site
from tracker.services.reports import rollup_texts
from tracker.services.reports.counting import CODING, DUPLICATE

log = logging.getLogger(__name__)

VERSION = 4  # of what a row holds: a row of another version is built again
LIVE_DAYS = 3  # the migration's trigger ignores days this recent (by the database's clock): counted live
CLOCK_KEYS = ("first_alert", "acknowledge", "review", "caller_updated")
CLOCK_COLUMNS = (
    Concern.to_first_alert_us,
    Concern.to_acknowledge_us,
    Concern.to_review_us,
    Concern.to_caller_updated_us,
)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
LINKED, UNLINKED = "1", "0"  # the parts of a day: calls linked to another, and the rest


def epoch_micros(moment: datetime) -> int:
    return (moment - EPOCH) // MICROSECOND


@dataclass
class Part:
    """One day's figures for one kind of call (linked or not)."""

    # the coding's values as a JSON list (a key days add up by without decoding it) -> calls
    groups: dict[str, int] = field(default_factory=dict)
    hours: list[int] = field(default_factory=lambda: [0] * 24)
    wards: dict[str, int] = field(default_factory=dict)  # ward id ("" for none yet) -> calls
    texted: int = 0
    no_contact: int = 0
    # team id ("" for none) -> [acknowledge, review]: raised_at (epoch µs) of each call still waiting for it
    waiting: dict[str, list[list[int]]] = field(default_factory=dict)
    # team id -> one sorted list of durations (µs) per clock, in CLOCK_KEYS order (an array('q') once read back)
    durations: dict[str, list[Any]] = field(default_factory=dict)
    # audience -> the texts about these calls by rollup_texts.TEXT_FIGURES
    texts: dict[str, list[int]] = field(default_factory=dict)

    def counts_json(self) -> dict:
        return {
            "groups": dict(sorted(self.groups.items())),
            "hours": self.hours,
            "wards": dict(sorted(self.wards.items())),
            "texted": self.texted,
            "no_contact": self.no_contact,
            "waiting": dict(sorted(self.waiting.items())),
            "texts": dict(sorted(self.texts.items())),
        }

    def durations_json(self) -> dict:
        # Each sorted list (`build` sorts them) packed as 64-bit integers in base64: a year is 350,000 of them,
        # which unpack as one copy each, where JSON parses every digit.
        return {team: [_pack(values) for values in lists] for team, lists in sorted(self.durations.items())}


def _pack(values: Sequence[int]) -> str:
    packed = array("q", values)
    if sys.byteorder == "big":
        packed.byteswap()  # kept little-endian whatever the machine
    return base64.b64encode(packed.tobytes()).decode("ascii")


def _unpack(text: str) -> array:
    values = array("q")
    values.frombytes(base64.b64decode(text))
    if sys.byteorder == "big":
        values.byteswap()
    return values


def _key(value: object) -> str:
    return "" if value is None else str(value)


def _plain(value: object) -> object:
    value = getattr(value, "value", value)
    if isinstance(value, list):  # the change in care: a list, in the order it was recorded
        return list(value)
    return value


def _day_filter(site_id: int, first: date, last: date) -> list:
    """The site's calls raised on local days `first` to `last`, duplicates left out (counting.py: `_calls`, without
    the linked-calls setting: both kinds are kept apart)."""
    return [
        Concern.site_id == site_id,
        Concern.raised_local_month >= first.replace(day=1),
        Concern.raised_local_month <= last.replace(day=1),
        Concern.raised_local_date >= first,
        Concern.raised_local_date <= last,
        not_(DUPLICATE),
    ]


def _runs(days: Iterable[date]) -> Iterator[tuple[date, date]]:
    """Consecutive days as (first, last) runs."""
    ordered = sorted(set(days))
    start = previous = None
    for day in ordered:
        if previous is not None and day == previous + timedelta(days=1):
            previous = day
            continue
        if start is not None and previous is not None:
            yield start, previous
        start = previous = day
    if start is not None and previous is not None:
        yield start, previous


def build(site_id: int, days: Iterable[date]) -> dict[date, dict[str, Part]]:
    """Count the given local days at the site from the calls themselves: {day: {part: Part}}, every day given
    present (an empty one when it had no calls). One query per run of consecutive days, a row per call."""
    wanted = set(days)
    built: dict[date, dict[str, Part]] = {day: {UNLINKED: Part(), LINKED: Part()} for day in wanted}
    for first, last in _runs(wanted):
        rows = db.session.execute(
            select(
                Concern.raised_local_date,
                Concern.linked_to_id.is_not(None),
                *CODING,
                Concern.caller_texted_at.is_not(None),
                Concern.caller_update_method,
                Concern.raised_local_hour,
                Concern.ward_id,
                Concern.team_id,
                Concern.raised_at,
                *CLOCK_COLUMNS,
            ).where(*_day_filter(site_id, first, last))
        )
        width = len(CODING)
        row: Any
        for row in rows:
            day, linked, coding = row[0], row[1], row[2 : 2 + width]
            texted, method, hour, ward_id, team_id, raised_at = row[2 + width : 8 + width]
            clocks = row[8 + width :]
            part = built[day][LINKED if linked else UNLINKED]
            key = json.dumps([_plain(value) for value in coding], separators=(",", ":"))
            part.groups[key] = part.groups.get(key, 0) + 1
            part.hours[int(hour)] += 1
            part.wards[_key(ward_id)] = part.wards.get(_key(ward_id), 0) + 1
            part.texted += bool(texted)
            part.no_contact += _plain(method) == CallerUpdateMethod.COULD_NOT_CONTACT.value
            team = _key(team_id)
            lists = part.durations.setdefault(team, [[] for _ in CLOCK_KEYS])
            for index, micros in enumerate(clocks):
                if micros is not None:
                    lists[index].append(int(micros))
            status = _plain(coding[0])
            waiting = part.waiting.setdefault(team, [[], []])
            if clocks[1] is None and status == "new":
                waiting[0].append(epoch_micros(raised_at))
            if clocks[2] is None and status in ("new", "acknowledged"):
                waiting[1].append(epoch_micros(raised_at))
        for day, linked, audience, figures in rollup_texts.count(_day_filter(site_id, first, last)):
            totals = built[day][LINKED if linked else UNLINKED].texts.setdefault(audience, [0] * len(figures))
            for index, texts in enumerate(figures):
                totals[index] += texts
    for parts in built.values():
        for part in parts.values():
            part.waiting = {
                team: [sorted(w) for w in lists] for team, lists in part.waiting.items() if lists[0] or lists[1]
            }
            part.durations = {team: [sorted(d) for d in lists] for team, lists in part.durations.items()}
    return built


def _serialise(parts: dict[str, Part]) -> tuple[str, str]:
    counts = {name: part.counts_json() for name, part in parts.items()}
    durations = {name: part.durations_json() for name, part in parts.items()}
    return json.dumps(counts, separators=(",", ":")), json.dumps(durations, separators=(",", ":"))


def _parse(counts: str | None, durations: str | None) -> dict[str, Part]:
    """The Parts a row holds (durations only when read)."""
    loaded = json.loads(counts or "{}")
    timed = json.loads(durations) if durations else {}
    parts = {}
    for name, found in loaded.items():
        parts[name] = Part(
            groups=found["groups"],
            hours=found["hours"],
            wards=found["wards"],
            texted=found["texted"],
            no_contact=found["no_contact"],
            waiting=found["waiting"],
            texts=found["texts"],
            durations={team: [_unpack(text) for text in lists] for team, lists in timed.get(name, {}).items()},
        )
    return parts


# --- which days are kept ---------------------------------------------------------------------------------------


def first_live_day() -> date:
    """The first local day counted live, by the database's clock, as the migration's trigger decides."""
    if db.session.get_bind().dialect.name == "postgresql":
        today = db.session.scalar(text("SELECT (now() AT TIME ZONE 'UTC')::date"))
    else:
        today = date.fromisoformat(db.session.scalar(text("SELECT date('now')")))
    assert isinstance(today, date)
    return today - timedelta(days=LIVE_DAYS)


def _fresh(site_id: int, first: date, last: date, durations: tuple[date, date] | None = None) -> dict:
    """{day: (counts, durations)} of the fresh rows from `first` to `last`; durations only for days in
    `durations` (first, last), else None."""
    kept: Any = ReportDay.version  # a placeholder column when durations are not wanted
    if durations is not None:
        inside = and_(ReportDay.local_day >= durations[0], ReportDay.local_day <= durations[1])
        kept = case((inside, ReportDay.durations), else_=None)
    return {
        day: (counts, extra if durations is not None else None)
        for day, counts, extra in db.session.execute(
            select(ReportDay.local_day, ReportDay.counts, kept).where(
                ReportDay.site_id == site_id,
                ReportDay.local_day >= first,
                ReportDay.local_day <= last,
                ReportDay.built_generation == ReportDay.generation,
                ReportDay.version == VERSION,
            )
        )
    }


def days(
    site_id: int, first: date, last: date, *, durations: tuple[date, date] | None = None
) -> dict[date, dict[str, Part]]:
    """Every local day from `first` to `last` at the site: from its row when fresh (with the clocks' durations
    for the days in `durations`), otherwise counted from the calls now."""
    kept = _fresh(site_id, first, last, durations) if first < first_live_day() else {}
    found = {day: _parse(counts, timed) for day, (counts, timed) in kept.items()}
    wanted = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    found.update(build(site_id, [day for day in wanted if day not in found]))
    return found


def refresh(site_id: int, first: date, last: date) -> int:
    """Build the rows of the days from `first` to `last` at the site that are missing or stale (and old enough
    to keep). Returns how many; the caller commits. A GET may call it: it takes the write lock only when a day
    needs building, and works each day out again inside that transaction."""
    last = min(last, first_live_day() - timedelta(days=1))
    if last < first:
        return 0
    # (site, day) is the table's key: as many fresh rows as days means none is missing or stale. A count, not
    # the days themselves: every dashboard view asks this of its period and of the improvement charts' 24 months.
    kept = db.session.scalar(
        select(func.count()).where(
            ReportDay.site_id == site_id,
            ReportDay.local_day >= first,
            ReportDay.local_day <= last,
            ReportDay.built_generation == ReportDay.generation,
            ReportDay.version == VERSION,
        )
    )
    if kept == (last - first).days + 1:
        return 0
    begin_write()
    return _rebuild(site_id, first, last, only_stale=True)


def _rebuild(site_id: int, first: date, last: date, *, only_stale: bool) -> int:
    generations = {
        day: (generation, built, version)
        for day, generation, built, version in db.session.execute(
            select(ReportDay.local_day, ReportDay.generation, ReportDay.built_generation, ReportDay.version).where(
                ReportDay.site_id == site_id, ReportDay.local_day >= first, ReportDay.local_day <= last
            )
        )
    }
    wanted = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    if only_stale:
        wanted = [
            day
            for day in wanted
            if day not in generations or generations[day][0] != generations[day][1] or generations[day][2] != VERSION
        ]
    for day, parts in build(site_id, wanted).items():
        _store(site_id, day, parts, generations.get(day, (None,))[0])
    return len(wanted)


def _store(site_id: int, day: date, parts: dict[str, Part], generation: int | None) -> None:
    """Keep a day's figures, counted at `generation`. If the day changed since (the trigger moved the generation
    on, even in a transaction not yet committed), nothing is kept: the row waits for that change, and the day is
    counted live until built again."""
    counts, durations = _serialise(parts)
    values = {"counts": counts, "durations": durations, "version": VERSION, "built_at": utcnow()}
    if generation is None:
        dialect = db.session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        db.session.execute(
            insert(ReportDay)
            .values(site_id=site_id, local_day=day, generation=0, built_generation=0, **values)
            .on_conflict_do_nothing(index_elements=["site_id", "local_day"])
        )
        return
    db.session.execute(
        update(ReportDay)
        .where(ReportDay.site_id == site_id, ReportDay.local_day == day, ReportDay.generation == generation)
        .values(built_generation=generation, **values)
    )


# --- checking -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    site_id: int
    day: date


def check(*, repair: bool = False) -> tuple[list[Difference], int]:
    """Every fresh row compared with the same day counted from the calls now: (the days that differ, how many
    stale or missing days were built). With `repair`, the differing days are built again, and every stale or
    missing day old enough to keep is built; the caller commits."""
    differing = []
    built = 0
    cutoff = first_live_day() - timedelta(days=1)
    for site_id in db.session.scalars(select(Site.id).order_by(Site.id)):
        rows = db.session.execute(
            select(ReportDay.local_day, ReportDay.counts, ReportDay.durations, ReportDay.generation).where(
                ReportDay.site_id == site_id,
                ReportDay.built_generation == ReportDay.generation,
                ReportDay.version == VERSION,
            )
        ).all()
        for run in _runs(row.local_day for row in rows):
            expected = build(site_id, [run[0] + timedelta(days=n) for n in range((run[1] - run[0]).days + 1)])
            for row in (r for r in rows if run[0] <= r.local_day <= run[1]):
                if (row.counts, row.durations) != _serialise(expected[row.local_day]):
                    differing.append(Difference(site_id, row.local_day))
                    if repair:
                        _store(site_id, row.local_day, expected[row.local_day], row.generation)
        if repair:
            first = db.session.scalar(
                select(func.min(Concern.raised_local_date)).where(
                    and_(Concern.site_id == site_id, Concern.raised_local_date.is_not(None))
                )
            )
            if first is not None and first <= cutoff:
                built += _rebuild(site_id, first, cutoff, only_stale=True)
    return differing, built


def parts_in(found: dict[date, dict[str, Part]], first: date, last: date, linked_once: bool) -> Sequence[tuple]:
    """(day, Part) for each day from `first` to `last`, leaving out linked calls when the trust counts them once."""
    names = (UNLINKED,) if linked_once else (UNLINKED, LINKED)
    return [(day, parts[name]) for day, parts in sorted(found.items()) if first <= day <= last for name in names]

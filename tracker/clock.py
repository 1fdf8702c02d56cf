"""The one source of "now". Tests move it with time-machine; nothing else calls datetime.now().

A worker started as a separate process by the fault tests cannot be moved by time-machine, so
for tests only, `TRACKER_TEST_CLOCK_FILE` names a file holding a number of seconds that "now" is
ahead of the real time. The test process and its workers read the same file, so they share one
clock that the test moves forward by rewriting the file (atomically, with os.replace). The file
is read again only when it has changed. Production refuses to start with the variable set
(config.ProductionConfig.validate); unset, the only cost is one environment look-up."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

TEST_CLOCK_ENV = "TRACKER_TEST_CLOCK_FILE"
_offset_cache: tuple[tuple, timedelta] = ((), timedelta(0))


def utcnow() -> datetime:
    now = datetime.now(UTC)
    path = os.environ.get(TEST_CLOCK_ENV)
    return now + _test_offset(path) if path else now


def _test_offset(path: str) -> timedelta:
    global _offset_cache
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return timedelta(0)
    # A rewrite by os.replace is a new file: its inode, size or change time differ.
    key = (path, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
    if _offset_cache[0] != key:
        with open(path, encoding="ascii") as file:
            _offset_cache = (key, timedelta(seconds=float(file.read().strip() or 0)))
    return _offset_cache[1]


def local(moment: datetime, tz_name: str) -> datetime:
    """A UTC moment in the trust's own time zone (BST included)."""
    return moment.astimezone(ZoneInfo(tz_name))


TYPED_TIME_LEEWAY = timedelta(minutes=10)  # a watch a little fast is still "now", not tomorrow


class NoSuchLocalTime(ValueError):
    """A wall-clock time that did not happen (the hour skipped when the clocks go forward)."""


def typed_time_before(hour: int, minute: int, now: datetime, tz_name: str) -> datetime:
    """The moment staff mean when they type a wall-clock time for something that has happened: the
    latest moment with that local time that is at most 10 minutes after now, stored as no later than
    now. So 23:58 typed at 00:05 is two minutes before midnight, yesterday; 00:07 typed at 00:05 is
    now. In the hour repeated when the clocks go back, the later of the two is meant if it has
    come. A time in the hour skipped when the clocks go forward raises NoSuchLocalTime."""
    zone = ZoneInfo(tz_name)
    latest = now + TYPED_TIME_LEEWAY
    today = now.astimezone(zone).date()
    for days_back in range(3):
        day = today - timedelta(days=days_back)
        candidates = []
        for fold in (1, 0):  # the later of a repeated hour first
            wall = datetime(day.year, day.month, day.day, hour, minute, fold=fold, tzinfo=zone)
            moment = wall.astimezone(UTC)
            if moment.astimezone(zone).replace(tzinfo=None) != wall.replace(tzinfo=None):
                if days_back == 0 or moment <= latest:
                    raise NoSuchLocalTime(f"{hour:02d}:{minute:02d} did not happen on {day:%-d %B}")
                continue
            candidates.append(moment)
        fitting = [moment for moment in candidates if moment <= latest]
        if fitting:
            return min(max(fitting), now)
    raise AssertionError("unreachable: yesterday's time is always within reach")


def years_after(moment: date, years: int) -> date:
    """The same day `years` later (or earlier, when negative); 29 February becomes the 28th in a year without it.
    Retention periods are counted in whole years (services/records/retention.py)."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)

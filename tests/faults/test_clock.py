"""The controllable clock the fault tests share with their worker processes (tracker.clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.faults.conftest import Clock
from tracker.clock import TEST_CLOCK_ENV, utcnow


def close_to(moment: datetime, expected: datetime) -> bool:
    return abs(moment - expected) < timedelta(seconds=5)


def test_without_the_variable_the_clock_is_the_real_one(monkeypatch):
    monkeypatch.delenv(TEST_CLOCK_ENV, raising=False)
    assert close_to(utcnow(), datetime.now(UTC))


def test_the_clock_follows_every_rewrite_of_the_file(tmp_path, monkeypatch):
    start = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    clock = Clock(tmp_path / "clock", start)
    monkeypatch.setenv(TEST_CLOCK_ENV, str(clock.path))
    assert close_to(utcnow(), start)
    for _ in range(3):  # rewrites in quick succession are each seen (no stale cache)
        clock.advance(minutes=10)
    assert close_to(utcnow(), start + timedelta(minutes=30))
    assert clock.path.read_text().strip() == repr(clock.offset)


def test_a_missing_file_means_no_offset(tmp_path, monkeypatch):
    monkeypatch.setenv(TEST_CLOCK_ENV, str(tmp_path / "not-there"))
    assert close_to(utcnow(), datetime.now(UTC))

"""A wall-clock time typed by staff for something that has happened (docs/architecture.md#concerns-and-their-clocks):
the latest moment with that local time that is at most 10 minutes from now, never later than now."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tracker.clock import NoSuchLocalTime, typed_time_before

LONDON = "Europe/London"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("typed", "now", "meant"),
    [
        ((23, 58), "2026-12-03 00:05", "2026-12-02 23:58"),  # after midnight: last night, not later today
        ((0, 7), "2026-12-03 00:05", "2026-12-03 00:05"),  # a watch two minutes fast: now, not yesterday
        ((0, 20), "2026-12-03 00:05", "2026-12-02 00:20"),  # more than 10 minutes ahead: yesterday's
        ((14, 30), "2026-07-01 13:40", "2026-07-01 13:30"),  # BST: 14:30 local is 13:30 UTC
        ((1, 30), "2026-10-25 01:40", "2026-10-25 01:30"),  # the repeated hour, second time round: the later
        ((1, 30), "2026-10-25 00:45", "2026-10-25 00:30"),  # the repeated hour, first time round
    ],
)
def test_a_typed_time_means_its_latest_moment_up_to_ten_minutes_from_now(typed, now, meant):
    assert typed_time_before(*typed, at(now), LONDON) == at(meant)


def test_a_time_in_the_hour_the_clocks_skip_is_refused():
    with pytest.raises(NoSuchLocalTime, match="01:30 did not happen on 29 March"):
        typed_time_before(1, 30, at("2026-03-29 02:00"), LONDON)
    assert typed_time_before(1, 30, at("2026-03-30 02:00"), LONDON) == at("2026-03-30 00:30")

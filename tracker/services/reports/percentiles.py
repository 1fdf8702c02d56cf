"""Percentiles of the clocks' durations (docs/facts.md#nhs-englands-monthly-return): the interpolation PostgreSQL's
percentile_cont does, over durations already sorted, or over the daily rollups' sorted runs as if merged
(docs/architecture.md#daily-rollups)."""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from itertools import repeat

from tracker.services.reports.counting import MICROS

STRIDE = 16  # order_statistics: one value in 16 of each run, sorted, to choose the window


def _seconds(micros: float | None) -> float | None:
    return None if micros is None else float(micros) / MICROS


def _percentile(ordered: list, p: float) -> float | None:
    """percentile_cont: linear interpolation between the two values either side of (n - 1) × p."""
    if not ordered:
        return None
    position = (len(ordered) - 1) * p
    low = math.floor(position)
    upper = ordered[min(low + 1, len(ordered) - 1)]
    return float(ordered[low]) + (position - low) * (float(upper) - float(ordered[low]))


def percentile_of_runs(runs: Sequence[Sequence[int]], p: float) -> float | None:
    """`_percentile` over every value of `runs` (each sorted), as if merged and sorted: the same two values, the same
    interpolation."""
    total = sum(map(len, runs))
    if not total:
        return None
    position = (total - 1) * p
    low = math.floor(position)
    high = min(low + 1, total - 1)
    found = order_statistics(runs, [low, high])
    return float(found[low]) + (position - low) * (float(found[high]) - float(found[low]))


def order_statistics(runs: Sequence[Sequence[int]], positions: Sequence[int]) -> dict[int, int]:
    """The values at `positions` (0-based) of all the runs' values in order, each run already sorted, without sorting
    them all (a year's clock is 90,000 values in 2,000 runs, a day's team's): a sample picks a window of values
    around each position, a bisection of each run counts exactly how many values lie below the window, and only the
    window is sorted. A window that misses its position is widened; at worst everything is sorted. Always exact."""
    total = sum(map(len, runs))
    if not total:
        return {}
    sample = array("q")
    for run in runs:
        sample.extend(run[STRIDE // 2 :: STRIDE])
    ordered = sorted(sample)
    found: dict[int, int] = {}
    for position in positions:
        spread = max(4, len(ordered) // 50)
        while position not in found and spread < len(ordered):
            guess = position * len(ordered) // total  # runs shorter than the stride give no sample: scale
            low_at, high_at = guess - spread, guess + spread
            starts = [0] * len(runs) if low_at < 0 else list(map(bisect_left, runs, repeat(ordered[low_at])))
            ends = (
                list(map(len, runs))
                if high_at >= len(ordered)
                else list(map(bisect_right, runs, repeat(ordered[high_at])))
            )
            below = sum(starts)
            window = array("q")
            for run, start, end in zip(runs, starts, ends, strict=True):
                if end > start:
                    window.extend(run[start:end])
            if below <= position < below + len(window):
                values = sorted(window)
                for wanted in positions:  # a percentile's two neighbours share a window
                    if below <= wanted < below + len(values):
                        found[wanted] = values[wanted - below]
            spread *= 4
        if position not in found:
            merged = sorted(value for run in runs for value in run)
            return {wanted: merged[wanted] for wanted in positions}
    return found

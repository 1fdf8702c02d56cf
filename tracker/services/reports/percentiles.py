"""Percentiles of the clocks' durations (docs/facts.md#nhs-englands-monthly-return): the interpolation PostgreSQL's
percentile_cont does, over durations already sorted (the daily rollups' merged lists, docs/architecture.md#daily-rollups)."""

from __future__ import annotations

import math

from tracker.services.reports.counting import MICROS


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

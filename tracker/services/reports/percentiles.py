"""Percentiles of the clocks' durations (docs/facts.md#nhs-englands-monthly-return): PostgreSQL's percentile_cont, and on SQLite,
which has none, the same interpolation over the sorted durations."""

from __future__ import annotations

import json
import math

from sqlalchemy import func, select

from tracker.extensions import db
from tracker.services.reports.counting import MICROS


def _percentiles(calls: list, durations: dict) -> dict[str, tuple[float | None, float | None]]:
    """(median, 90th percentile) in seconds for each clock, from its duration fact."""
    if db.session.get_bind().dialect.name == "postgresql":
        columns = []
        for duration in durations.values():
            columns += [
                func.percentile_cont(0.5).within_group(duration),
                func.percentile_cont(0.9).within_group(duration),
            ]
        row = db.session.execute(select(*columns).where(*calls)).one()
        return {key: (_seconds(row[2 * i]), _seconds(row[2 * i + 1])) for i, key in enumerate(durations)}
    # SQLite has no percentile function. One query over the report index returns each clock's
    # durations (whole numbers, never Concern objects) as one comma-separated string per clock
    # (far cheaper than a row per call); each is sorted here and interpolated as percentile_cont does.
    row = db.session.execute(
        select(*[func.group_concat(duration) for duration in durations.values()]).where(*calls)
    ).one()
    result = {}
    for key, joined in zip(durations, row, strict=True):
        values = json.loads(f"[{joined}]") if joined else []  # the C parser: faster than int() on each
        values.sort()
        median, p90 = _percentile(values, 0.5), _percentile(values, 0.9)
        result[key] = (_seconds(median), _seconds(p90))
    return result


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

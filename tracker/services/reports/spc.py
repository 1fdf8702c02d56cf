"""Statistical process control: the XmR chart as the NHS reads it (docs/architecture.md#improvement-charts).

Plain functions over plain values: a series of monthly figures in, frozen dataclasses out, no database and
no pages. The arithmetic is exact (`Fraction`): a point is judged against a limit, a line or a target with
no rounding, so a figure that sits exactly on one is judged the same on every machine. `rounded` turns a
result into the two places a chart or table shows."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from tracker.problems import Problem
from tracker.services.reports.spc_icons import Icon, Kind, assurance_icon, variation_icon
from tracker.services.reports.spc_rules import Lines, Pattern, Rule, Side, special_causes

__all__ = [
    "Chart",
    "Direction",
    "Icon",
    "Kind",
    "Limits",
    "Pattern",
    "Period",
    "Point",
    "Rule",
    "Segment",
    "Side",
    "exact",
    "mean",
    "moving_ranges",
    "process_limits",
    "rounded",
    "xmr_chart",
]

Number = int | Fraction | Decimal | float

LIMIT_FACTOR = Fraction("2.66")  # three sigma, with sigma estimated as the mean moving range / 1.128
TWO_SIGMA_FACTOR = Fraction("1.7733")  # two sigma, for rule 4
MIN_POINTS_FOR_LIMITS = 12  # fewer give limits too unstable to draw
DEFAULT_RUN_LENGTH = 7


class Direction(StrEnum):
    """Which way is better for a measure; NONE (e.g. the number of calls) has no better or worse."""

    HIGHER_IS_BETTER = "higher"
    LOWER_IS_BETTER = "lower"
    NONE = "none"


@dataclass(frozen=True)
class Period:
    """A baseline a manager fixed: positions `start` (included) to `end` (excluded) of the series."""

    start: int
    end: int


@dataclass(frozen=True)
class Limits:
    """A baseline's mean, mean moving range, process limits and two-sigma lines. `shown_lower` and
    `shown_upper` are the limits as drawn: clipped to what the measure can be (a count's lower limit below
    zero is shown as zero)."""

    mean: Fraction
    mean_moving_range: Fraction
    lower: Fraction
    upper: Fraction
    lower_two_sigma: Fraction
    upper_two_sigma: Fraction
    shown_lower: Fraction
    shown_upper: Fraction


@dataclass(frozen=True)
class Segment:
    """The points from `start` to `end` (excluded) between two recorded changes, with their own baseline
    (positions `baseline_start` to `baseline_end`, `baseline_points` of them with figures) and limits.
    `drawable` is False when the limits are too unstable to draw; `reason` then says why in plain English."""

    start: int
    end: int
    baseline_start: int
    baseline_end: int
    baseline_points: int
    mean: Fraction | None
    limits: Limits | None
    drawable: bool
    reason: str


@dataclass(frozen=True)
class Point:
    """One month: its value (None when missing), its moving range from the month before (None at the start
    of a segment or beside a missing month), the rules whose patterns include it, and what it shows.
    `judged` is False in a segment whose limits are not drawable: its rules are worked out (the arithmetic
    runs from 2 points) but rest on limits too unstable to show, so a chart colours no such point."""

    index: int
    value: Fraction | None
    moving_range: Fraction | None
    rules: tuple[Rule, ...]
    side: Side | None
    kind: Kind
    judged: bool


@dataclass(frozen=True)
class Chart:
    """An XmR chart. `variation` and `assurance` are None when they cannot be given, with the reason."""

    points: tuple[Point, ...]
    segments: tuple[Segment, ...]
    patterns: tuple[Pattern, ...]
    direction: Direction
    target: Fraction | None
    run_length: int
    variation: Icon | None
    variation_reason: str
    assurance: Icon | None
    assurance_reason: str


def exact(value: Number) -> Fraction:
    """A figure as an exact fraction. A float is read as the decimal it prints as (0.1 is one tenth, not the
    binary fraction nearest it), so figures computed elsewhere compare as a person reading them would."""
    if isinstance(value, bool) or not isinstance(value, int | Fraction | Decimal | float):
        raise TypeError(f"not a number: {value!r}")
    if (isinstance(value, Decimal) and not value.is_finite()) or (
        isinstance(value, float) and not math.isfinite(value)
    ):
        raise Problem(f"A figure in the series is {value}, which is not a number that can be charted.")
    return Fraction(repr(value)) if isinstance(value, float) else Fraction(value)


def mean(values: Sequence[Number | None]) -> Fraction:
    """The mean of the figures present (missing months are left out)."""
    present = [exact(value) for value in values if value is not None]
    if not present:
        raise Problem("There are no figures to take the mean of.")
    return Fraction(sum(present), len(present))


def moving_ranges(values: Sequence[Number | None]) -> list[Fraction | None]:
    """|xᵢ − xᵢ₋₁| at each position i, as long as `values`: None at the first and beside a missing month (a
    range across a gap would span two months, not one)."""
    exacts = [None if value is None else exact(value) for value in values]
    return [None] + [
        None if before is None or value is None else abs(value - before)
        for before, value in zip(exacts, exacts[1:], strict=False)
    ]


def process_limits(
    baseline: Sequence[Number | None], *, floor: Number | None = None, ceiling: Number | None = None
) -> Limits | None:
    """The limits from a baseline: mean ± 2.66 × mean moving range, two-sigma lines at ± 1.7733 ×. None when
    no two consecutive months of the baseline have figures (so there is no moving range). All moving ranges
    count: none is screened out as too large."""
    ranges = [value for value in moving_ranges(baseline) if value is not None]
    if not ranges:
        return None
    centre, spread = mean(baseline), Fraction(sum(ranges), len(ranges))
    lower, upper = centre - LIMIT_FACTOR * spread, centre + LIMIT_FACTOR * spread
    low, high = _bound(floor), _bound(ceiling)
    return Limits(
        mean=centre,
        mean_moving_range=spread,
        lower=lower,
        upper=upper,
        lower_two_sigma=centre - TWO_SIGMA_FACTOR * spread,
        upper_two_sigma=centre + TWO_SIGMA_FACTOR * spread,
        shown_lower=lower if low is None else max(lower, low),
        shown_upper=upper if high is None else min(upper, high),
    )


def rounded(value: Fraction, places: int = 2) -> Decimal:
    """`value` to `places` decimal places, halves away from zero, exactly (no binary float on the way)."""
    scaled = abs(value) * 10**places
    whole = math.floor(scaled + Fraction(1, 2))
    return Decimal(whole if value >= 0 else -whole).scaleb(-places)


def xmr_chart(
    values: Sequence[Number | None],
    *,
    direction: Direction = Direction.NONE,
    target: Number | None = None,
    run_length: int = DEFAULT_RUN_LENGTH,
    baseline_points: int = MIN_POINTS_FOR_LIMITS,
    fixed_baselines: Sequence[Period] = (),
    changes: Sequence[int] = (),
    floor: Number | None = None,
    ceiling: Number | None = None,
) -> Chart:
    """The chart of a series of 2 or more monthly figures (None for a missing month).

    Each recorded change (the position of the first month after it) starts a new segment with its own
    baseline: the first `baseline_points` months with figures, or the `fixed_baselines` period inside it.
    The four rules run over each whole segment, baseline included, with runs and trends of `run_length`.
    `floor` and `ceiling` are what the measure can be (0 for a count or a time): a figure beyond them is
    refused, and limits beyond them are shown at them. A `target` is met at or above it when higher is
    better, at or below it when lower is better. Raises `Problem` for a series or setting that cannot be
    charted."""
    figures = _checked(values, floor, ceiling)
    if run_length < 2:
        raise Problem(f"The run length must be at least 2 points; it is {run_length}.")
    if baseline_points < 2:
        raise Problem(f"A baseline needs at least 2 points; it is set to {baseline_points}.")
    bounds = [(start, end) for start, end in _segment_bounds(len(figures), changes)]
    segments = tuple(
        _segment(
            figures, start, end, _fixed(fixed_baselines, start, end, len(figures)), baseline_points, floor, ceiling
        )
        for start, end in bounds
    )
    patterns: list[Pattern] = []
    for segment in segments:
        if segment.mean is not None:
            patterns += special_causes(figures[segment.start : segment.end], _lines(segment), run_length, segment.start)
    points = _points(figures, segments, patterns, direction)
    goal = None if target is None else exact(target)
    variation, variation_reason = _variation(points, segments[-1])
    assurance, assurance_reason = _assurance(segments[-1], direction, goal)
    return Chart(
        points, segments, tuple(patterns), direction, goal, run_length,
        variation, variation_reason, assurance, assurance_reason,
    )  # fmt: skip


def _checked(values: Sequence[Number | None], floor: Number | None, ceiling: Number | None) -> list[Fraction | None]:
    if len(values) < 2:
        raise Problem(f"A chart needs at least 2 points; this series has {len(values)}.")
    low, high = _bound(floor), _bound(ceiling)
    figures = [None if value is None else exact(value) for value in values]
    for position, figure in enumerate(figures, start=1):
        if figure is not None and low is not None and figure < low:
            raise Problem(f"Point {position} is {_shown(figure)}, but this measure cannot be below {_shown(low)}.")
        if figure is not None and high is not None and figure > high:
            raise Problem(f"Point {position} is {_shown(figure)}, but this measure cannot be above {_shown(high)}.")
    return figures


def _bound(value: Number | None) -> Fraction | None:
    return None if value is None else exact(value)


def _shown(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else str(rounded(value))


def _segment_bounds(length: int, changes: Sequence[int]) -> list[tuple[int, int]]:
    """(start, end) of each segment. A change at 0 is before the series and starts nothing; a change at
    `length` (recorded after the latest month) starts a segment with no points yet."""
    for change in changes:
        if not 0 <= change <= length:
            raise Problem(f"A change is recorded at point {change + 1}, outside the series of {length} points.")
    starts = sorted({0, *(change for change in changes if change > 0)})
    return list(zip(starts, [*starts[1:], length], strict=True))


def _fixed(periods: Sequence[Period], start: int, end: int, length: int) -> Period | None:
    """The fixed baseline inside a segment, if any; one that straddles a change is refused."""
    inside = []
    for period in periods:
        if not 0 <= period.start < period.end <= length:
            raise Problem(f"A fixed baseline must start and end within the series of {length} points, in that order.")
        if start <= period.start < end or start < period.end <= end:
            if period.start < start or period.end > end:
                raise Problem("A fixed baseline cannot span a recorded change: the process changed within it.")
            inside.append(period)
    if len(inside) > 1:
        raise Problem("Only one fixed baseline can be set between two recorded changes.")
    return inside[0] if inside else None


def _segment(
    figures: list[Fraction | None],
    start: int,
    end: int,
    fixed: Period | None,
    baseline_points: int,
    floor: Number | None,
    ceiling: Number | None,
) -> Segment:
    observed = [i for i in range(start, end) if figures[i] is not None]
    if fixed is not None:
        first, stop = fixed.start, fixed.end
    else:
        chosen = observed[:baseline_points]
        first, stop = (chosen[0], chosen[-1] + 1) if chosen else (start, start)
    baseline = figures[first:stop]
    count = sum(value is not None for value in baseline)
    centre = mean(baseline) if count else None
    limits = process_limits(baseline, floor=floor, ceiling=ceiling) if count else None
    reason = _reason(start, count, fixed, baseline_points, limits)
    return Segment(start, end, first, stop, count, centre, limits, not reason, reason)


def _reason(start: int, count: int, fixed: Period | None, baseline_points: int, limits: Limits | None) -> str:
    """Why a segment's limits cannot be drawn, in plain English; empty when they can."""
    since = " since the last recorded change" if start else ""
    if count == 0:
        return f"There are no figures{since} yet."
    if count < MIN_POINTS_FOR_LIMITS:
        if fixed is not None:
            return (
                f"The fixed baseline has {_months(count)} with figures; limits need at least {MIN_POINTS_FOR_LIMITS}."
            )
        if baseline_points < MIN_POINTS_FOR_LIMITS and count == baseline_points:
            return f"The baseline is set to {_months(count)}; limits need at least {MIN_POINTS_FOR_LIMITS}."
        return f"Limits need at least {MIN_POINTS_FOR_LIMITS} months of figures{since}; there are {count} so far."
    if limits is None:
        return "No two consecutive months of the baseline have figures, so the spread cannot be measured."
    return ""


def _months(count: int) -> str:
    return "1 month" if count == 1 else f"{count} months"


def _lines(segment: Segment) -> Lines:
    assert segment.mean is not None
    limits = segment.limits
    if limits is None:
        return Lines(segment.mean)
    return Lines(limits.mean, limits.lower, limits.upper, limits.lower_two_sigma, limits.upper_two_sigma)


def _points(
    figures: list[Fraction | None], segments: Sequence[Segment], patterns: Sequence[Pattern], direction: Direction
) -> tuple[Point, ...]:
    rules: list[set[Rule]] = [set() for _ in figures]
    sides: list[set[Side]] = [set() for _ in figures]
    for pattern in patterns:
        for i in range(pattern.first, pattern.last + 1):
            if figures[i] is not None:
                rules[i].add(pattern.rule)
                sides[i].add(pattern.side)
    ranges: list[Fraction | None] = []
    judged: list[bool] = []
    for segment in segments:
        ranges += moving_ranges(figures[segment.start : segment.end])
        judged += [segment.drawable] * (segment.end - segment.start)
    return tuple(
        Point(i, figures[i], ranges[i], tuple(sorted(rules[i])), *_classify(sides[i], direction), judged[i])
        for i in range(len(figures))
    )


def _classify(sides: set[Side], direction: Direction) -> tuple[Side | None, Kind]:
    """A point's side and kind. Where patterns through one point disagree (a falling trend above the mean),
    a measure with a direction reads concern, on its worse side, so improvement is never claimed while any
    pattern points the other way; a measure without one reads neither, with no side."""
    if not sides:
        return None, Kind.COMMON_CAUSE
    side = next(iter(sides)) if len(sides) == 1 else None
    if direction is Direction.NONE:
        return side, Kind.NEITHER
    worse = Side.LOW if direction is Direction.HIGHER_IS_BETTER else Side.HIGH
    if side is None or side is worse:
        return worse, Kind.CONCERN
    return side, Kind.IMPROVEMENT


def _variation(points: Sequence[Point], latest: Segment) -> tuple[Icon | None, str]:
    """The variation icon reads the latest month with a figure, judged against the latest segment's limits."""
    if not latest.drawable:
        return None, latest.reason
    last = next(point for point in reversed(points[latest.start : latest.end]) if point.value is not None)
    return variation_icon(last.kind, last.side), ""


def _assurance(latest: Segment, direction: Direction, target: Fraction | None) -> tuple[Icon | None, str]:
    if direction is Direction.NONE:
        return None, "No assurance icon: this measure has no better or worse direction to meet a target in."
    if target is None:
        return None, "No assurance icon: no target is set for this measure."
    if not latest.drawable or latest.limits is None:
        return None, latest.reason
    limits = latest.limits
    if direction is Direction.HIGHER_IS_BETTER:
        passing = [limit >= target for limit in (limits.shown_lower, limits.shown_upper)]
    else:
        passing = [limit <= target for limit in (limits.shown_lower, limits.shown_upper)]
    return assurance_icon(all(passing), not any(passing)), ""

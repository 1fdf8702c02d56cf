"""The four special-cause rules of an XmR chart (docs/architecture.md#improvement-charts), each over one segment
of a series (the points between two recorded changes), each returning every pattern it finds with all of
its points. Values are exact (`Fraction`), a missing month is None and breaks every pattern through it, and
"beyond" a line is strictly beyond it: a point exactly on a limit, a two-sigma line or the mean is not."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from fractions import Fraction


class Rule(IntEnum):
    """The special-cause rules, numbered as the NHS's Making Data Count guidance numbers them."""

    OUTSIDE_LIMITS = 1  # a single point beyond a process limit
    SHIFT = 2  # a run of points on one side of the mean
    TREND = 3  # a run of points each higher (or each lower) than the one before
    TWO_OF_THREE = 4  # two of three consecutive points beyond one two-sigma line, all three on that side


class Side(StrEnum):
    """Which way a pattern points: above the mean (or rising) is high, below (or falling) low."""

    HIGH = "high"
    LOW = "low"


@dataclass(frozen=True)
class Pattern:
    """One pattern found: `first` and `last` are positions in the whole series, both flagged, as is every
    observed point between them. A shift or trend is the whole run, however long; a two-of-three is its
    window of three points."""

    rule: Rule
    side: Side
    first: int
    last: int


@dataclass(frozen=True)
class Lines:
    """What the rules compare points with: the mean, the process limits and the two-sigma lines. Limits are
    None when the baseline has no moving range to measure the spread by (then only rules 2 and 3 apply)."""

    mean: Fraction
    lower: Fraction | None = None
    upper: Fraction | None = None
    lower_two_sigma: Fraction | None = None
    upper_two_sigma: Fraction | None = None


Values = Sequence[Fraction | None]


def special_causes(values: Values, lines: Lines, run_length: int, offset: int = 0) -> list[Pattern]:
    """Every pattern of the four rules in one segment's `values`, whose first point is at `offset` in the
    series. Sorted by where each pattern ends, then by rule."""
    found = shifts(values, lines.mean, run_length, offset) + trends(values, run_length, offset)
    if lines.lower is not None and lines.upper is not None:
        found += outside_limits(values, lines.lower, lines.upper, offset)
    if lines.lower_two_sigma is not None and lines.upper_two_sigma is not None:
        found += two_of_three(values, lines.mean, lines.lower_two_sigma, lines.upper_two_sigma, offset)
    return sorted(found, key=lambda pattern: (pattern.last, pattern.rule, pattern.first))


def outside_limits(values: Values, lower: Fraction, upper: Fraction, offset: int = 0) -> list[Pattern]:
    """Rule 1: each point strictly above the upper limit or strictly below the lower, on its own."""
    found = []
    for i, value in enumerate(values):
        if value is not None and value > upper:
            found.append(Pattern(Rule.OUTSIDE_LIMITS, Side.HIGH, offset + i, offset + i))
        elif value is not None and value < lower:
            found.append(Pattern(Rule.OUTSIDE_LIMITS, Side.LOW, offset + i, offset + i))
    return found


def shifts(values: Values, mean: Fraction, run_length: int, offset: int = 0) -> list[Pattern]:
    """Rule 2: `run_length` or more consecutive points on one side of the mean; a point on the mean, or a
    missing month, ends the run."""

    def side(i: int) -> Side | None:
        value = values[i]
        if value is None or value == mean:
            return None
        return Side.HIGH if value > mean else Side.LOW

    return [
        Pattern(Rule.SHIFT, label, offset + first, offset + last)
        for label, first, last in _runs(len(values), side)
        if last - first + 1 >= run_length
    ]


def trends(values: Values, run_length: int, offset: int = 0) -> list[Pattern]:
    """Rule 3: `run_length` or more consecutive points each higher than the one before (or each lower); an
    equal value, or a missing month, ends the run. A run of k steps covers k + 1 points, so a peak ends one
    trend and starts the next."""

    def step(i: int) -> Side | None:
        before, value = values[i - 1] if i else None, values[i]
        if before is None or value is None or value == before:
            return None
        return Side.HIGH if value > before else Side.LOW

    return [
        Pattern(Rule.TREND, label, offset + first - 1, offset + last)
        for label, first, last in _runs(len(values), step)
        if last - first + 2 >= run_length
    ]


def two_of_three(
    values: Values, mean: Fraction, lower_two_sigma: Fraction, upper_two_sigma: Fraction, offset: int = 0
) -> list[Pattern]:
    """Rule 4: in three consecutive points, all on one side of the mean, at least two beyond that side's
    two-sigma line (a point beyond the process limit is beyond it too). Each such window is one pattern."""
    found = []
    for i in range(len(values) - 2):
        window = values[i : i + 3]
        if any(value is None for value in window):
            continue
        observed = [value for value in window if value is not None]
        if all(value > mean for value in observed) and sum(value > upper_two_sigma for value in observed) >= 2:
            found.append(Pattern(Rule.TWO_OF_THREE, Side.HIGH, offset + i, offset + i + 2))
        elif all(value < mean for value in observed) and sum(value < lower_two_sigma for value in observed) >= 2:
            found.append(Pattern(Rule.TWO_OF_THREE, Side.LOW, offset + i, offset + i + 2))
    return found


def _runs(length: int, label: Callable[[int], Side | None]) -> Iterator[tuple[Side, int, int]]:
    """The maximal runs of positions 0…length-1 sharing one label (None labels belong to no run), as
    (label, first, last)."""
    start, current = 0, None
    for i in range(length + 1):
        here = label(i) if i < length else None
        if here != current:
            if current is not None:
                yield current, start, i - 1
            start, current = i, here

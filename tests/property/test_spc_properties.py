"""The XmR chart as properties (docs/architecture.md#improvement-charts): what holds for every series, with
missing months, recorded changes and any run length. The arithmetic is exact, so each property is an
equality, not an approximation."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from tracker.services.reports.spc import Direction, Kind, Side, xmr_chart

figures = st.integers(min_value=-1000, max_value=1000) | st.fractions(
    min_value=-1000, max_value=1000, max_denominator=100
)
noise = st.lists(figures | st.none(), min_size=2, max_size=40).filter(
    lambda values: sum(value is not None for value in values) >= 1
)


@st.composite
def processes(draw):
    """A steady process that may step up or down part way, with a month or two missing: series like the
    dashboard's, long enough for limits, where every rule has something to find."""
    length = draw(st.integers(min_value=12, max_value=48))
    level = draw(figures)
    wobble = draw(st.lists(st.integers(min_value=-3, max_value=3), min_size=length, max_size=length))
    step_at, step = draw(st.integers(min_value=0, max_value=length)), draw(st.integers(min_value=-8, max_value=8))
    values = [level + e + (step if i >= step_at else 0) for i, e in enumerate(wobble)]
    for gap in draw(st.sets(st.integers(min_value=0, max_value=length - 1), max_size=2)):
        values[gap] = None
    return values


series = noise | processes()
run_lengths = st.integers(min_value=2, max_value=9)
directions = st.sampled_from(list(Direction))


@st.composite
def charts(draw):
    values = draw(series)
    changes = draw(st.lists(st.integers(min_value=1, max_value=len(values) - 1), max_size=2)) if len(values) > 2 else []
    return values, {"changes": changes, "run_length": draw(run_lengths)}


def shape(chart):
    """What a chart flags: its patterns and each point's rules, side and kind."""
    return chart.patterns, [(point.rules, point.side, point.kind) for point in chart.points]


def flipped(side):
    return None if side is None else Side.LOW if side is Side.HIGH else Side.HIGH


@given(charts())
def test_the_limits_and_two_sigma_lines_sit_symmetrically_about_the_mean(case):
    values, settings = case
    for segment in xmr_chart(values, **settings).segments:
        limits = segment.limits
        if limits is not None:
            assert (
                limits.upper - limits.mean == limits.mean - limits.lower == Fraction("2.66") * limits.mean_moving_range
            )
            assert limits.upper_two_sigma - limits.mean == limits.mean - limits.lower_two_sigma
            assert limits.lower <= limits.lower_two_sigma <= limits.mean <= limits.upper_two_sigma <= limits.upper


@given(charts(), figures)
def test_adding_a_constant_shifts_the_lines_and_flags_nothing_new(case, constant):
    values, settings = case
    chart = xmr_chart(values, **settings)
    moved = xmr_chart([None if value is None else value + constant for value in values], **settings)
    assert shape(moved) == shape(chart)
    for segment, shifted in zip(chart.segments, moved.segments, strict=True):
        if segment.limits is not None:
            assert shifted.limits.mean == segment.limits.mean + constant
            assert shifted.limits.upper == segment.limits.upper + constant
            assert shifted.limits.mean_moving_range == segment.limits.mean_moving_range


@given(charts(), st.fractions(min_value=Fraction(1, 100), max_value=1000, max_denominator=100))
def test_scaling_by_a_positive_factor_scales_the_lines_and_keeps_every_flag(case, factor):
    values, settings = case
    chart = xmr_chart(values, **settings)
    scaled = xmr_chart([None if value is None else value * factor for value in values], **settings)
    assert shape(scaled) == shape(chart)
    for segment, bigger in zip(chart.segments, scaled.segments, strict=True):
        if segment.limits is not None:
            assert bigger.limits.upper == segment.limits.upper * factor


@given(charts())
def test_negating_a_series_mirrors_every_flag(case):
    values, settings = case
    chart = xmr_chart(values, **settings)
    mirrored = xmr_chart([None if value is None else -value for value in values], **settings)
    assert {(p.rule, flipped(p.side), p.first, p.last) for p in chart.patterns} == {
        (p.rule, p.side, p.first, p.last) for p in mirrored.patterns
    }
    assert [(point.rules, flipped(point.side)) for point in chart.points] == [
        (point.rules, point.side) for point in mirrored.points
    ]


@given(figures, st.integers(min_value=2, max_value=200), run_lengths, directions)
def test_a_constant_series_never_flags(value, length, run_length, direction):
    chart = xmr_chart([value] * length, run_length=run_length, direction=direction)
    assert chart.patterns == ()
    assert all(point.kind is Kind.COMMON_CAUSE for point in chart.points)


@given(charts())
def test_every_point_of_every_pattern_is_flagged_and_no_other(case):
    values, settings = case
    chart = xmr_chart(values, **settings)
    covered = {i for pattern in chart.patterns for i in range(pattern.first, pattern.last + 1) if values[i] is not None}
    assert covered == {point.index for point in chart.points if point.rules}
    for pattern in chart.patterns:
        segment = next(s for s in chart.segments if s.start <= pattern.first < s.end)
        assert pattern.last < segment.end  # no pattern crosses a recorded change
        assert pattern.rule in chart.points[pattern.last].rules


@given(charts(), st.one_of(st.none(), figures))
def test_an_undirected_measure_never_shows_improvement_concern_or_an_assurance_icon(case, target):
    values, settings = case
    chart = xmr_chart(values, target=target, **settings)
    assert {point.kind for point in chart.points} <= {Kind.COMMON_CAUSE, Kind.NEITHER}
    assert chart.assurance is None and chart.assurance_reason
    assert chart.variation is None or chart.variation.colour in {"grey", "purple"}


@given(charts(), directions, st.one_of(st.none(), figures))
def test_icons_appear_only_with_drawable_limits_and_assurance_only_with_a_direction_and_target(case, direction, target):
    values, settings = case
    chart = xmr_chart(values, direction=direction, target=target, **settings)
    latest = chart.segments[-1]
    assert latest.drawable == (latest.baseline_points >= 12 and latest.limits is not None)
    assert (chart.variation is not None) == latest.drawable
    assert (chart.variation is None) == bool(chart.variation_reason)
    assert (chart.assurance is not None) == (latest.drawable and direction is not Direction.NONE and target is not None)
    assert (chart.assurance is None) == bool(chart.assurance_reason)
    for segment in chart.segments:
        assert all(point.judged == segment.drawable for point in chart.points[segment.start : segment.end])

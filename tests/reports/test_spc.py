"""The XmR chart's arithmetic (docs/architecture.md#improvement-charts): four worked examples, each figure
checked to the two places a chart shows and each pattern checked point by point, then the edge cases: short
series, equal values, missing months, impossible values, targets on a limit, recorded changes, fixed
baselines and a very long series. The properties that hold for every series are in
tests/property/test_spc_properties.py."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from tracker.problems import Problem
from tracker.services.reports.spc import (
    Direction,
    Kind,
    Pattern,
    Period,
    Rule,
    Side,
    rounded,
    xmr_chart,
)

A = [12, 14, 11, 13, 12, 15, 13, 12, 14, 13, 11, 12]
B = [20, 22, 19, 21, 20, 18, 21, 20, 19, 22, 20, 19]
C = [40, 38, 41, 39, 40, 42, 38, 39, 41, 40, 39, 40]
D = [10, 11, 9, 10, 12, 10, 11, 9, 10, 11, 10, 9]
STEADY = [10, 11] * 6  # mean 10.5, every moving range 1: limits 7.84–13.16, two-sigma 8.7267–12.2733


def two_places(limits, *names):
    return [str(rounded(getattr(limits, name))) for name in names]


def flagged(chart):
    return [point.index for point in chart.points if point.rules]


# The worked examples: limits from the first 12 points, run length 7.


def test_example_a_one_point_beyond_the_upper_limit_is_rule_1_and_flags_that_point_only():
    chart = xmr_chart([*A, 30])
    limits = chart.segments[0].limits
    assert two_places(limits, "mean", "mean_moving_range", "lower", "upper") == ["12.67", "1.82", "7.83", "17.50"]
    assert chart.patterns == (Pattern(Rule.OUTSIDE_LIMITS, Side.HIGH, 12, 12),)
    assert flagged(chart) == [12]
    assert chart.points[12].rules == (Rule.OUTSIDE_LIMITS,)
    assert (chart.variation.code, chart.variation.colour) == ("neither_high", "purple")
    assert chart.variation.words == "Special cause neither, high"


def test_example_b_seven_points_above_the_mean_are_a_shift_flagging_all_seven_and_nothing_else():
    after = [22, 23, 22, 23, 22, 23, 22]
    chart = xmr_chart(B + after)
    limits = chart.segments[0].limits
    assert two_places(limits, "mean", "mean_moving_range", "lower", "upper") == ["20.08", "1.91", "15.01", "25.16"]
    assert two_places(limits, "lower_two_sigma", "upper_two_sigma") == ["16.70", "23.47"]
    assert chart.patterns == (Pattern(Rule.SHIFT, Side.HIGH, 12, 18),)
    assert flagged(chart) == list(range(12, 19))
    assert all(chart.points[i].rules == (Rule.SHIFT,) for i in range(12, 19))
    # It fires at the seventh point, or at the sixth with a run length of 6.
    assert xmr_chart(B + after[:6]).patterns == ()
    assert xmr_chart(B + after[:6], run_length=6).patterns == (Pattern(Rule.SHIFT, Side.HIGH, 12, 17),)
    assert xmr_chart(B + after, run_length=6).patterns == (Pattern(Rule.SHIFT, Side.HIGH, 12, 18),)
    assert chart.variation.words == "Special cause neither, high"


def test_example_c_seven_rising_points_across_the_mean_are_a_trend_flagging_all_seven():
    after = [37, 38, 39, 40, 41, 42, 43]
    chart = xmr_chart(C + after)
    limits = chart.segments[0].limits
    assert two_places(limits, "mean", "mean_moving_range", "lower", "upper") == ["39.75", "1.82", "34.91", "44.59"]
    assert two_places(limits, "lower_two_sigma", "upper_two_sigma") == ["36.53", "42.97"]
    assert chart.patterns == (Pattern(Rule.TREND, Side.HIGH, 12, 18),)
    assert flagged(chart) == list(range(12, 19))
    assert {chart.points[i].value < limits.mean for i in range(12, 19)} == {True, False}  # both sides of the mean
    assert chart.points[18].value > limits.upper_two_sigma  # 43 alone beyond two sigma: not rule 4
    assert chart.points[18].rules == (Rule.TREND,)
    assert xmr_chart(C + after[:6]).patterns == ()


def test_example_d_two_of_three_beyond_the_upper_two_sigma_line_flags_all_three():
    chart = xmr_chart([*D, 13, 12, 13], direction=Direction.LOWER_IS_BETTER, target=12)
    limits = chart.segments[0].limits
    assert two_places(limits, "mean", "mean_moving_range", "lower", "upper") == ["10.17", "1.36", "6.54", "13.79"]
    assert two_places(limits, "upper_two_sigma") == ["12.58"]
    assert chart.patterns == (Pattern(Rule.TWO_OF_THREE, Side.HIGH, 12, 14),)
    assert flagged(chart) == [12, 13, 14]  # 12, below the two-sigma line, is in the pattern too
    assert xmr_chart([*D, 13, 12]).patterns == ()
    # Lower is better, so a special cause high is concern; the target of at most 12 lies between the limits.
    assert [chart.points[i].kind for i in (12, 13, 14)] == [Kind.CONCERN] * 3
    assert (chart.variation.words, chart.variation.colour) == ("Special cause concern, high", "orange")
    assert (chart.assurance.words, chart.assurance.colour) == ("Hit and miss", "grey")


# Direction: special cause is read through it, and never as improvement without one.


def test_special_cause_reads_by_direction_and_never_as_improvement_without_one():
    series = [*A, 30]
    higher = xmr_chart(series, direction=Direction.HIGHER_IS_BETTER).variation
    lower = xmr_chart(series, direction=Direction.LOWER_IS_BETTER).variation
    none = xmr_chart(series).variation
    assert (higher.words, higher.colour) == ("Special cause improvement, high", "blue")
    assert (lower.words, lower.colour) == ("Special cause concern, high", "orange")
    assert (none.words, none.colour) == ("Special cause neither, high", "purple")
    assert "neither improvement nor concern" in none.meaning
    fall = xmr_chart([*A, 1], direction=Direction.HIGHER_IS_BETTER).variation
    assert fall.words == "Special cause concern, low"
    common = xmr_chart([*A, 13], direction=Direction.HIGHER_IS_BETTER).variation
    assert (common.words, common.colour) == ("Common cause variation", "grey")


def test_patterns_pointing_both_ways_read_as_concern_or_as_neither_with_no_side():
    # Seven points above the mean (a shift high) that each fall (a trend low).
    series = [*STEADY, 13, 12.9, 12.8, 12.7, 12.6, 12.5, 12.4]
    directed = xmr_chart(series, direction=Direction.HIGHER_IS_BETTER)
    assert {pattern.rule for pattern in directed.patterns} == {Rule.SHIFT, Rule.TREND, Rule.TWO_OF_THREE}
    assert (directed.points[-1].kind, directed.points[-1].side) == (Kind.CONCERN, Side.LOW)
    assert directed.variation.words == "Special cause concern, low"
    lower = xmr_chart(series, direction=Direction.LOWER_IS_BETTER)
    assert (lower.points[-1].kind, lower.points[-1].side) == (Kind.CONCERN, Side.HIGH)
    undirected = xmr_chart(series)
    assert (undirected.points[-1].kind, undirected.points[-1].side) == (Kind.NEITHER, None)
    assert (undirected.variation.words, undirected.variation.code) == ("Special cause neither", "neither")


def test_no_assurance_icon_without_a_direction_or_a_target():
    plain = xmr_chart([*D, 11], target=12)
    assert plain.assurance is None and "no better or worse direction" in plain.assurance_reason
    untargeted = xmr_chart([*D, 11], direction=Direction.LOWER_IS_BETTER)
    assert untargeted.assurance is None and untargeted.assurance_reason == (
        "No assurance icon: no target is set for this measure."
    )


def test_assurance_passing_and_failing_by_where_both_limits_fall():
    # Limits 7.84–13.16.
    passing = xmr_chart(STEADY, direction=Direction.LOWER_IS_BETTER, target=14).assurance
    failing = xmr_chart(STEADY, direction=Direction.LOWER_IS_BETTER, target=7).assurance
    above = xmr_chart(STEADY, direction=Direction.HIGHER_IS_BETTER, target=7).assurance
    assert (passing.words, passing.colour) == ("Consistently passing", "blue")
    assert (failing.words, failing.colour) == ("Consistently failing", "orange")
    assert above.words == "Consistently passing"


def test_a_target_exactly_on_a_limit_counts_as_met_there():
    limits = xmr_chart(STEADY).segments[0].limits
    assert (limits.lower, limits.upper) == (Fraction("7.84"), Fraction("13.16"))
    # "At most 13.16" is met by the upper limit itself; a float target is read as the decimal it prints as.
    assert xmr_chart(STEADY, direction=Direction.LOWER_IS_BETTER, target=13.16).assurance.words == (
        "Consistently passing"
    )
    assert xmr_chart(STEADY, direction=Direction.LOWER_IS_BETTER, target=Decimal("13.159")).assurance.words == (
        "Hit and miss"
    )
    assert xmr_chart(STEADY, direction=Direction.HIGHER_IS_BETTER, target=7.84).assurance.words == (
        "Consistently passing"
    )
    assert xmr_chart(STEADY, direction=Direction.HIGHER_IS_BETTER, target=13.16).assurance.words == "Hit and miss"


def test_a_point_exactly_on_a_limit_is_not_beyond_it_whatever_float_rounding_would_say():
    baseline = [1.2, 6.7, 8.1, 1.9, 2.2, 0.5, 9.7, 1.7, 4.0, 2.8, 3.7, 5.5]
    in_floats = sum(baseline) / 12 + 2.66 * sum(abs(b - a) for a, b in zip(baseline, baseline[1:], strict=False)) / 11
    assert in_floats < 13.31  # binary floating point puts the upper limit just below 13.31, so 13.31 would flag
    chart = xmr_chart([*baseline, 13.31])
    assert chart.segments[0].limits.upper == Fraction("13.31")
    assert chart.patterns == ()
    assert xmr_chart([*baseline, 13.32]).patterns == (Pattern(Rule.OUTSIDE_LIMITS, Side.HIGH, 12, 12),)
    assert xmr_chart([*STEADY, 7.84]).patterns == ()


# Short series: the arithmetic from 2 points, limits drawn only from 12.


def test_no_limits_before_12_points_and_the_chart_says_why():
    chart = xmr_chart(A[:11], direction=Direction.HIGHER_IS_BETTER, target=10)
    segment = chart.segments[0]
    assert segment.limits is not None  # the arithmetic works…
    assert not segment.drawable  # …but the limits are too unstable to draw
    assert segment.reason == "Limits need at least 12 months of figures; there are 11 so far."
    assert chart.variation is None and chart.variation_reason == segment.reason
    assert chart.assurance is None and chart.assurance_reason == segment.reason
    assert xmr_chart(A).segments[0].drawable


def test_points_are_judged_only_where_the_limits_are_drawable():
    chart = xmr_chart([*A, 30, 31, 32, 33, 34, 35, 36], changes=[12])
    assert [point.judged for point in chart.points] == [True] * 12 + [False] * 7
    assert Rule.TREND in chart.points[-1].rules  # worked out, but not to be coloured
    assert all(point.judged for point in xmr_chart([*A, 30]).points)
    assert not any(point.judged for point in xmr_chart(A[:11]).points)


def test_the_variation_icon_reads_the_latest_month_with_a_figure():
    chart = xmr_chart([*A, 30, None], direction=Direction.LOWER_IS_BETTER)
    assert chart.variation.words == "Special cause concern, high"


def test_two_points_are_enough_for_the_arithmetic_and_fewer_are_refused():
    chart = xmr_chart([3, 5])
    assert (chart.segments[0].mean, chart.segments[0].limits.mean_moving_range) == (4, 2)
    assert chart.segments[0].reason == "Limits need at least 12 months of figures; there are 2 so far."
    with pytest.raises(Problem, match="at least 2 points; this series has 1"):
        xmr_chart([3])
    with pytest.raises(Problem):
        xmr_chart([])


def test_all_equal_values_put_the_limits_on_the_mean_and_flag_nothing_until_one_differs():
    chart = xmr_chart([5] * 20, direction=Direction.HIGHER_IS_BETTER)
    limits = chart.segments[0].limits
    assert limits.mean_moving_range == 0 and limits.lower == limits.upper == limits.mean == 5
    assert chart.patterns == () and chart.variation.words == "Common cause variation"
    assert xmr_chart([5] * 12 + [6]).patterns == (Pattern(Rule.OUTSIDE_LIMITS, Side.HIGH, 12, 12),)


def test_a_missing_month_has_no_flag_no_moving_range_either_side_and_breaks_runs():
    chart = xmr_chart([*STEADY, 12, 12, 12, None, 12, 12, 12, 12])
    missing = chart.points[15]
    assert (missing.value, missing.rules, missing.kind, missing.moving_range) == (None, (), Kind.COMMON_CAUSE, None)
    assert chart.points[16].moving_range is None
    assert [pattern.rule for pattern in chart.patterns] == []  # 3 then 4 above the mean: no run of 7
    assert xmr_chart([*STEADY, 12, 12, 12, 12, 12, 12, 12]).patterns[0].rule is Rule.SHIFT


def test_the_baseline_counts_months_with_figures_and_needs_two_consecutive():
    gapped = xmr_chart([*A[:6], None, *A[6:], 13])
    assert gapped.segments[0].baseline_points == 12 and gapped.segments[0].drawable
    assert gapped.segments[0].baseline_end == 13
    alternate = [value for pair in zip(A, [None] * 12, strict=True) for value in pair]
    chart = xmr_chart(alternate)
    assert chart.segments[0].limits is None and not chart.segments[0].drawable
    assert chart.segments[0].reason.startswith("No two consecutive months of the baseline have figures")


def test_impossible_values_are_refused_and_limits_are_shown_within_what_is_possible():
    with pytest.raises(Problem, match="Point 3 is -2, but this measure cannot be below 0."):
        xmr_chart([1, 0, -2, 1], floor=0)
    with pytest.raises(Problem, match="Point 2 is 1.50, but this measure cannot be above 1."):
        xmr_chart([1, 1.5], floor=0, ceiling=1)
    counts = xmr_chart([0, 3, 0, 2, 0, 4, 1, 0, 3, 0, 1, 0], floor=0)
    limits = counts.segments[0].limits
    assert limits.lower < 0 and limits.shown_lower == 0 and limits.shown_upper == limits.upper
    shares = xmr_chart([1, 0.5] * 6, floor=0, ceiling=1).segments[0].limits
    assert shares.upper > 1 and shares.shown_upper == 1


def test_figures_that_are_not_numbers_are_refused():
    with pytest.raises(Problem, match="not a number"):
        xmr_chart([1.0, float("nan")])
    with pytest.raises(TypeError):
        xmr_chart([1, "2"])  # type: ignore[list-item]
    with pytest.raises(Problem, match="not a number"):
        xmr_chart([Decimal(1), Decimal("sNaN")])
    with pytest.raises(TypeError):
        xmr_chart([True, False])


def test_settings_out_of_range_are_refused_plainly():
    with pytest.raises(Problem, match="run length must be at least 2"):
        xmr_chart(A, run_length=1)
    with pytest.raises(Problem, match="A baseline needs at least 2 points"):
        xmr_chart(A, baseline_points=1)
    with pytest.raises(Problem, match="outside the series of 12 points"):
        xmr_chart(A, changes=[13])


def test_equal_values_break_a_trend_and_a_point_on_the_mean_breaks_a_shift():
    assert xmr_chart([*STEADY, 9, 9.5, 10, 10, 10.5, 11, 11.5]).patterns == ()
    assert [p.rule for p in xmr_chart([*STEADY, 9, 9.5, 10, 10.5, 11, 11.5, 12]).patterns] == [Rule.TREND]
    assert xmr_chart([*STEADY, 11, 11, 11, 10.5, 11, 11, 11]).patterns == ()


# Baselines and recorded changes.


def test_a_recorded_change_starts_a_new_baseline_with_its_own_limits_and_runs_stop_at_the_break():
    before, after = [10, 11] * 12, [20, 21] * 12
    unchanged = xmr_chart(before + after)
    assert Rule.SHIFT in {pattern.rule for pattern in unchanged.patterns}
    chart = xmr_chart(before + after, changes=[24])
    assert [(s.start, s.end, s.baseline_start, s.baseline_end) for s in chart.segments] == [
        (0, 24, 0, 12),
        (24, 48, 24, 36),
    ]
    assert [s.mean for s in chart.segments] == [Fraction(21, 2), Fraction(41, 2)]
    assert chart.patterns == () and chart.variation.words == "Common cause variation"
    assert chart.points[24].moving_range is None  # no moving range across the break
    # Four points above each segment's mean either side of the break are not a run of seven.
    assert xmr_chart([*STEADY, 11, 11, 11, 11, *STEADY, 11, 11, 11], changes=[16]).patterns == ()


def test_after_a_change_with_too_few_points_there_are_no_icons_and_the_reason_is_given():
    chart = xmr_chart([*A, 30, 31, 29, 30, 31], changes=[12], direction=Direction.HIGHER_IS_BETTER, target=20)
    assert chart.segments[0].drawable and not chart.segments[1].drawable
    reason = "Limits need at least 12 months of figures since the last recorded change; there are 5 so far."
    assert chart.variation is None and chart.variation_reason == reason
    assert chart.assurance is None and chart.assurance_reason == reason
    empty = xmr_chart(A, changes=[12])
    assert empty.segments[1].reason == "There are no figures since the last recorded change yet."


def test_a_fixed_baseline_sets_the_limits_for_the_whole_segment():
    series = [30, 29, 31, 30] + A + [13, 12]
    chart = xmr_chart(series, fixed_baselines=[Period(4, 16)])
    segment = chart.segments[0]
    assert (segment.baseline_start, segment.baseline_end, segment.baseline_points) == (4, 16, 12)
    assert rounded(segment.limits.mean) == Decimal("12.67")
    assert [p.first for p in chart.patterns if p.rule is Rule.OUTSIDE_LIMITS] == [0, 1, 2, 3]  # judged too
    short = xmr_chart(series, fixed_baselines=[Period(4, 10)])
    assert short.segments[0].reason == "The fixed baseline has 6 months with figures; limits need at least 12."
    assert xmr_chart(A, baseline_points=6).segments[0].reason == (
        "The baseline is set to 6 months; limits need at least 12."
    )
    with pytest.raises(Problem, match="within the series of 18 points"):
        xmr_chart(series, fixed_baselines=[Period(10, 19)])
    with pytest.raises(Problem, match="within the series of 18 points"):
        xmr_chart(series, fixed_baselines=[Period(10, 4)])
    with pytest.raises(Problem, match="Only one fixed baseline"):
        xmr_chart(series, fixed_baselines=[Period(0, 4), Period(4, 16)])
    with pytest.raises(Problem, match="cannot span a recorded change"):
        xmr_chart(series, fixed_baselines=[Period(4, 16)], changes=[10])


def test_a_very_long_series_is_judged_whole():
    series = [10, 11, 9, 10, 12, 10, 11, 9, 10, 11] * 10_000 + [30]
    chart = xmr_chart(series, direction=Direction.LOWER_IS_BETTER)
    assert len(chart.points) == 100_001
    assert chart.patterns[-1] == Pattern(Rule.OUTSIDE_LIMITS, Side.HIGH, 100_000, 100_000)
    assert chart.variation.words == "Special cause concern, high"


def test_rounding_is_exact_and_halves_go_away_from_zero():
    assert rounded(Fraction(1, 8)) == Decimal("0.13")
    assert rounded(Fraction(-1, 8)) == Decimal("-0.13")
    assert rounded(Fraction(2, 3), 0) == Decimal("1")
    assert str(rounded(Fraction(35, 2))) == "17.50"

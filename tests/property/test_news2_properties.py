"""NEWS2 as properties (docs/architecture.md#testing): every score agrees with the Royal College of Physicians'
bands written out again here from the chart (docs/facts.md#news2), the total is the sum of its parameters, a 3 in
any one parameter is never less than a low–medium response, worse observations never lower a score, and typed
observations are read or refused, never anything else."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from tracker.services.concerns.news2 import (
    RANGES,
    Consciousness,
    News2InputProblem,
    Observations,
    Response,
    consciousness_score,
    parse_observations,
    pulse_score,
    respiration_score,
    score,
    spo2_scale_1_score,
    spo2_scale_2_score,
    systolic_score,
    temperature_score,
)

# RCP NEWS2 Chart 1, one row per parameter: (lowest, highest, score), None where a band is open.
RESPIRATION = [(None, 8, 3), (9, 11, 1), (12, 20, 0), (21, 24, 2), (25, None, 3)]
SPO2_SCALE_1 = [(None, 91, 3), (92, 93, 2), (94, 95, 1), (96, None, 0)]
SPO2_SCALE_2_ON_AIR = [(None, 83, 3), (84, 85, 2), (86, 87, 1), (88, None, 0)]
SPO2_SCALE_2_ON_OXYGEN = [(None, 83, 3), (84, 85, 2), (86, 87, 1), (88, 92, 0), (93, 94, 1), (95, 96, 2), (97, None, 3)]
SYSTOLIC = [(None, 90, 3), (91, 100, 2), (101, 110, 1), (111, 219, 0), (220, None, 3)]
PULSE = [(None, 40, 3), (41, 50, 1), (51, 90, 0), (91, 110, 1), (111, 130, 2), (131, None, 3)]
TEMPERATURE = [
    (None, Decimal("35.0"), 3),
    (Decimal("35.1"), Decimal("36.0"), 1),
    (Decimal("36.1"), Decimal("38.0"), 0),
    (Decimal("38.1"), Decimal("39.0"), 1),
    (Decimal("39.1"), None, 2),
]
SEVERITY = [Response.ROUTINE, Response.LOW, Response.LOW_MEDIUM, Response.MEDIUM, Response.HIGH]


def chart(bands, value):
    for low, high, points in bands:
        if (low is None or value >= low) and (high is None or value <= high):
            return points
    raise AssertionError(f"{value} is in no band")


def whole(name: str):
    low, high = RANGES[name]
    return st.integers(int(low), int(high))


temperatures = st.integers(250, 450).map(lambda tenths: Decimal(tenths) / 10)
observations = st.builds(
    Observations,
    respiration_rate=whole("respiration_rate"),
    spo2=whole("spo2"),
    on_oxygen=st.booleans(),
    systolic_bp=whole("systolic_bp"),
    pulse=whole("pulse"),
    consciousness=st.sampled_from(Consciousness),
    temperature=temperatures,
    scale_2=st.booleans(),
)


@given(observations)
def test_each_parameter_scores_as_the_rcp_chart_says(obs):
    if obs.scale_2:
        spo2_bands = SPO2_SCALE_2_ON_OXYGEN if obs.on_oxygen else SPO2_SCALE_2_ON_AIR
    else:
        spo2_bands = SPO2_SCALE_1
    assert score(obs).parameters == {
        "respiration_rate": chart(RESPIRATION, obs.respiration_rate),
        "spo2": chart(spo2_bands, obs.spo2),
        "air_or_oxygen": 2 if obs.on_oxygen else 0,
        "systolic_bp": chart(SYSTOLIC, obs.systolic_bp),
        "pulse": chart(PULSE, obs.pulse),
        "consciousness": 0 if obs.consciousness is Consciousness.ALERT else 3,
        "temperature": chart(TEMPERATURE, obs.temperature),
    }


@given(observations)
def test_the_total_is_the_sum_of_the_parameters_and_within_the_charts_bounds(obs):
    result = score(obs)
    assert result.total == sum(result.parameters.values())
    assert all(0 <= points <= 3 for points in result.parameters.values())
    assert result.parameters["air_or_oxygen"] in (0, 2) and result.parameters["temperature"] <= 3
    assert 0 <= result.total <= 20
    assert result.scale == (2 if obs.scale_2 else 1)


@given(observations)
def test_the_response_follows_chart_4_and_a_single_three_is_never_less_than_low_medium(obs):
    result = score(obs)
    single_three = any(points == 3 for points in result.parameters.values())
    assert result.any_single_three == single_three
    if result.total >= 7:
        expected = Response.HIGH
    elif result.total >= 5:
        expected = Response.MEDIUM
    elif single_three:
        expected = Response.LOW_MEDIUM
    elif result.total == 0:
        expected = Response.ROUTINE
    else:
        expected = Response.LOW
    assert result.response is expected
    if single_three:
        assert SEVERITY.index(result.response) >= SEVERITY.index(Response.LOW_MEDIUM)


def _away_from(normal_low, normal_high, first, second):
    """Whether `second` is at least as far from the normal band as `first`, on the same side."""
    if first <= normal_low:
        return second <= first
    if first >= normal_high:
        return second >= first
    return False


@given(
    st.sampled_from(
        [
            (respiration_score, 12, 20, whole("respiration_rate")),
            (systolic_score, 111, 219, whole("systolic_bp")),
            (pulse_score, 51, 90, whole("pulse")),
            (temperature_score, Decimal("36.1"), Decimal("38.0"), temperatures),
        ]
    ).flatmap(lambda row: st.tuples(st.just(row), row[3], row[3]))
)
def test_a_value_further_from_normal_never_scores_less(case):
    (points, normal_low, normal_high, _values), first, second = case
    if _away_from(normal_low, normal_high, first, second):
        assert points(second) >= points(first)


@given(whole("spo2"), whole("spo2"), st.booleans())
def test_lower_saturation_never_scores_less_on_scale_1_or_on_air(first, second, on_oxygen):
    low, high = sorted((first, second))
    assert spo2_scale_1_score(low) >= spo2_scale_1_score(high)
    if not on_oxygen:
        assert spo2_scale_2_score(low, False) >= spo2_scale_2_score(high, False)
    elif high <= 88:
        assert spo2_scale_2_score(low, True) >= spo2_scale_2_score(high, True)
    elif low >= 92:  # on oxygen on scale 2, too high a saturation scores too
        assert spo2_scale_2_score(high, True) >= spo2_scale_2_score(low, True)


WORSE = {
    "respiration_rate": lambda obs, step: (
        obs.respiration_rate + step if obs.respiration_rate > 16 else max(1, obs.respiration_rate - step)
    ),
    "systolic_bp": lambda obs, step: (
        obs.systolic_bp + step if obs.systolic_bp > 165 else max(40, obs.systolic_bp - step)
    ),
    "pulse": lambda obs, step: min(300, obs.pulse + step) if obs.pulse > 70 else max(20, obs.pulse - step),
}


@given(observations, st.sampled_from(sorted(WORSE)), st.integers(0, 60))
def test_a_worse_observation_never_lowers_the_total_or_the_response(obs, name, step):
    worse = Observations(**{**obs.__dict__, name: min(RANGES[name][1], WORSE[name](obs, step))})
    before, after = score(obs), score(worse)
    assert after.total >= before.total
    assert SEVERITY.index(after.response) >= SEVERITY.index(before.response)


@given(observations)
def test_oxygen_on_scale_1_adds_exactly_two(obs):
    on_air = Observations(**{**obs.__dict__, "on_oxygen": False, "scale_2": False})
    on_oxygen = Observations(**{**obs.__dict__, "on_oxygen": True, "scale_2": False})
    assert score(on_oxygen).total == score(on_air).total + 2


@given(st.sampled_from(Consciousness))
def test_anything_but_alert_scores_three(level):
    assert consciousness_score(level) == (0 if level is Consciousness.ALERT else 3)


# --- reading what was typed ---------------------------------------------------------------------

FIELDS = ("respiration_rate", "spo2", "systolic_bp", "pulse", "temperature")
odd_text = st.one_of(
    st.text(max_size=12),
    st.from_regex(r"\A\s*-?[0-9]{1,4}([.,][0-9]{0,3})?\s*\Z"),
    st.sampled_from(["1e999", "-1e999", "inf", "nan", "sNaN", "²", "١٢٣", "１２３", "37,5", "3,7,5", "37.5.1", ""]),
    st.integers(4290, 5100).map(lambda digits: "9" * digits),
)


@given(st.fixed_dictionaries({name: odd_text for name in FIELDS}), st.sampled_from(["yes", "no", "", "maybe"]))
def test_typed_observations_are_read_in_range_or_refused_by_name(typed, oxygen):
    raw = {**typed, "on_oxygen": oxygen, "consciousness": "A"}
    try:
        obs = parse_observations(raw, scale_2=False)
    except News2InputProblem as problem:
        assert problem.problems and set(problem.problems) <= {*FIELDS, "on_oxygen", "consciousness"}
        assert problem.field == next(iter(problem.problems))
        return
    for name in FIELDS:
        low, high = RANGES[name]
        assert low <= getattr(obs, name) <= high
    assert obs.temperature == obs.temperature.quantize(Decimal("0.1"))


@given(observations)
def test_observations_written_out_are_read_back_the_same(obs):
    raw = {name: str(getattr(obs, name)) for name in FIELDS}
    raw |= {"on_oxygen": "yes" if obs.on_oxygen else "no", "consciousness": obs.consciousness.value}
    assert parse_observations(raw, scale_2=obs.scale_2) == obs
    raw["temperature"] = raw["temperature"].replace(".", ",")
    assert parse_observations(raw, scale_2=obs.scale_2) == obs

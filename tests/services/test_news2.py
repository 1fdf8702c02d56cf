"""NEWS2 at every band edge of docs/facts.md#news2, and worked examples computed by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tracker.services.concerns.news2 import (
    Consciousness,
    News2InputProblem,
    News2NotApplicable,
    Observations,
    Response,
    check_applicable,
    parse_observations,
    pulse_score,
    respiration_score,
    score,
    spo2_scale_1_score,
    spo2_scale_2_score,
    systolic_score,
    temperature_score,
)


@pytest.mark.parametrize("rate, points", [(8, 3), (9, 1), (11, 1), (12, 0), (20, 0), (21, 2), (24, 2), (25, 3)])
def test_respiration_rate_band_edges(rate, points):
    assert respiration_score(rate) == points


@pytest.mark.parametrize("spo2, points", [(91, 3), (92, 2), (93, 2), (94, 1), (95, 1), (96, 0), (100, 0)])
def test_spo2_scale_1_band_edges(spo2, points):
    assert spo2_scale_1_score(spo2) == points


@pytest.mark.parametrize(
    "spo2, on_oxygen, points",
    [
        (83, False, 3),
        (84, False, 2),
        (85, False, 2),
        (86, False, 1),
        (87, False, 1),
        (88, False, 0),
        (92, False, 0),
        (83, True, 3),
        (84, True, 2),
        (86, True, 1),
        (88, True, 0),
        (92, True, 0),
        # The on-air / on-oxygen split above 92%:
        (93, False, 0),
        (97, False, 0),
        (100, False, 0),
        (93, True, 1),
        (94, True, 1),
        (95, True, 2),
        (96, True, 2),
        (97, True, 3),
        (100, True, 3),
    ],
)
def test_spo2_scale_2_band_edges_and_the_air_oxygen_split(spo2, on_oxygen, points):
    assert spo2_scale_2_score(spo2, on_oxygen) == points


@pytest.mark.parametrize("bp, points", [(90, 3), (91, 2), (100, 2), (101, 1), (110, 1), (111, 0), (219, 0), (220, 3)])
def test_systolic_blood_pressure_band_edges(bp, points):
    assert systolic_score(bp) == points


@pytest.mark.parametrize(
    "pulse, points", [(40, 3), (41, 1), (50, 1), (51, 0), (90, 0), (91, 1), (110, 1), (111, 2), (130, 2), (131, 3)]
)
def test_pulse_band_edges(pulse, points):
    assert pulse_score(pulse) == points


@pytest.mark.parametrize(
    "temperature, points",
    [("35.0", 3), ("35.1", 1), ("36.0", 1), ("36.1", 0), ("38.0", 0), ("38.1", 1), ("39.0", 1), ("39.1", 2)],
)
def test_temperature_band_edges(temperature, points):
    assert temperature_score(Decimal(temperature)) == points


def obs(rr=16, spo2=97, o2=False, bp=125, pulse=75, acvpu="A", temp="37.0", scale_2=False) -> Observations:
    return Observations(rr, spo2, o2, bp, pulse, Consciousness(acvpu), Decimal(temp), scale_2)


# Each total worked out by hand, parameter by parameter (RR, SpO2, air/O2, SBP, pulse, ACVPU, temp).
WORKED_EXAMPLES = [
    (obs(), 0, Response.ROUTINE),  # 0+0+0+0+0+0+0: continue routine monitoring, not a ward-based response
    (obs(rr=22), 2, Response.LOW),  # 2
    (obs(rr=22, pulse=95, temp="38.4"), 4, Response.LOW),  # 2 + 1 + 1
    (obs(acvpu="C"), 3, Response.LOW_MEDIUM),  # new confusion alone: 3 in one parameter
    (obs(bp=88), 3, Response.LOW_MEDIUM),  # SBP 88: 3
    (obs(rr=22, spo2=94, bp=105), 4, Response.LOW),  # 2 + 1 + 1
    (obs(rr=22, spo2=95, o2=True), 5, Response.MEDIUM),  # 2 + 1 + 2
    (obs(rr=24, spo2=93, pulse=112), 6, Response.MEDIUM),  # 2 + 2 + 2
    (obs(rr=26, spo2=91, o2=True, bp=95, pulse=120, acvpu="V", temp="39.5"), 17, Response.HIGH),  # 3+3+2+2+2+3+2
    (obs(rr=8, spo2=85, o2=True, bp=85, pulse=35, acvpu="U", temp="34.5"), 20, Response.HIGH),  # all at maximum
    (obs(rr=10, spo2=96, bp=108, pulse=48, temp="35.8"), 4, Response.LOW),  # 1 + 0 + 0 + 1 + 1 + 0 + 1
    # Scale 2: 90% on air scores 0 (target 88–92); 95% on oxygen scores 2, plus 2 for oxygen.
    (obs(spo2=90, scale_2=True), 0, Response.ROUTINE),
    (obs(spo2=95, o2=True, scale_2=True), 4, Response.LOW),  # 2 + 2
    (obs(spo2=97, o2=True, rr=21, scale_2=True), 7, Response.HIGH),  # 3 + 2 + 2
    # The same 95% on oxygen on Scale 1 scores 1 + 2.
    (obs(spo2=95, o2=True), 3, Response.LOW),
]


@pytest.mark.parametrize("observations, total, response", WORKED_EXAMPLES)
def test_worked_examples(observations, total, response):
    result = score(observations)
    assert result.total == total
    assert result.response is response
    assert result.total == sum(result.parameters.values())


def test_oxygen_is_shown_as_its_own_two_points():
    assert score(obs(o2=True)).parameters["air_or_oxygen"] == 2


def test_a_single_three_is_reported_even_when_the_total_is_high():
    result = score(obs(rr=26, spo2=93, pulse=112))  # 3 + 2 + 2
    assert result.any_single_three and result.response is Response.HIGH


@pytest.mark.parametrize("age, pregnant", [(15, False), (0, False), (30, True)])
def test_news2_is_blocked_for_under_16s_and_in_pregnancy(age, pregnant):
    with pytest.raises(News2NotApplicable):
        check_applicable(age_years=age, pregnant=pregnant)


def test_news2_applies_to_adults_of_16_and_over():
    check_applicable(age_years=16, pregnant=False)
    check_applicable(age_years=None, pregnant=False)


GOOD = {
    "respiration_rate": "18",
    "spo2": "96",
    "on_oxygen": "no",
    "systolic_bp": "120",
    "pulse": "80",
    "consciousness": "A",
    "temperature": "37.2",
}


def test_form_text_becomes_observations():
    observations = parse_observations(GOOD, scale_2=False)
    assert observations.temperature == Decimal("37.2") and observations.respiration_rate == 18


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("respiration_rate", "0", "between 1 and 80"),
        ("respiration_rate", "120", "between 1 and 80"),
        ("spo2", "101", "between 50 and 100"),
        ("spo2", "45", "between 50 and 100"),
        ("systolic_bp", "400", "between 40 and 300"),
        ("pulse", "5", "between 20 and 300"),
        ("temperature", "47", "between 25.0 and 45.0"),
        ("temperature", "98.6", "between 25.0 and 45.0"),
        ("temperature", "37.25", "at most one decimal place"),
        ("temperature", "warm", "must be a number"),
        ("temperature", "NaN", "at most one decimal place"),
        ("pulse", "-5", "whole number"),
        ("pulse", "80.5", "whole number"),
        ("spo2", "", "whole number"),
        ("consciousness", "Z", "ACVPU"),
        ("on_oxygen", "", "air or oxygen"),
    ],
)
def test_observations_out_of_physiological_range_get_a_clear_message(field, value, message):
    with pytest.raises(News2InputProblem, match=message) as problem:
        parse_observations({**GOOD, field: value}, scale_2=False)
    assert problem.value.field == field


def test_a_total_of_0_means_continue_routine_monitoring_not_a_ward_based_response():
    result = score(obs())
    assert result.total == 0 and result.response is Response.ROUTINE
    assert "continue routine monitoring" in result.response_text and "ward-based" not in result.response_text
    assert score(obs(rr=22)).response is Response.LOW  # 1 to 4: the ward-based response


@pytest.mark.parametrize("digits", [4301, 5000])
def test_a_number_of_thousands_of_digits_is_out_of_range_not_an_error(digits):
    """Python's int() refuses more than 4,300 digits (found by tests/property/test_news2_properties.py)."""
    with pytest.raises(News2InputProblem, match="between 20 and 300") as problem:
        parse_observations({**GOOD, "pulse": "9" * digits}, scale_2=False)
    assert problem.value.field == "pulse"

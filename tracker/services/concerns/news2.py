"""NEWS2 (Royal College of Physicians, 2017): the exact bands of docs/facts.md#news2.

For clinicians only, as an aid at review. Scale 2 (for hypercapnic respiratory failure, target
saturation 88–92%) only when a clinician chooses it; never for under-16s or in pregnancy, where
NEWS2 is not valid."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, cast

from tracker.numbers import digits


class Consciousness(str, enum.Enum):
    ALERT = "A"
    NEW_CONFUSION = "C"
    VOICE = "V"
    PAIN = "P"
    UNRESPONSIVE = "U"


class Response(str, enum.Enum):
    """The clinical response bands of RCP Chart 4."""

    ROUTINE = "routine"  # 0: continue routine monitoring
    LOW = "low"  # 1–4: ward-based response
    LOW_MEDIUM = "low_medium"  # a 3 in any single parameter: urgent ward-based response
    MEDIUM = "medium"  # 5–6: urgent response
    HIGH = "high"  # 7 or more: emergency response


RESPONSE_TEXT = {
    Response.ROUTINE: "Low (0): continue routine monitoring (observations at least 12-hourly)",
    Response.LOW: "Low: ward-based response (a registered nurse decides on monitoring or escalation)",
    Response.LOW_MEDIUM: "Low–medium (a 3 in one parameter): urgent ward-based response by the medical team",
    Response.MEDIUM: "Medium: urgent response, assessment by a clinician skilled in acute illness (about 1 hour)",
    Response.HIGH: "High: emergency response by a team with critical-care skills (about 30 minutes)",
}

# Physiologically possible ranges: values outside are typing errors, refused with a message.
RANGES: dict[str, tuple[int, int] | tuple[Decimal, Decimal]] = {
    "respiration_rate": (1, 80),
    "spo2": (50, 100),
    "systolic_bp": (40, 300),
    "pulse": (20, 300),
    "temperature": (Decimal("25.0"), Decimal("45.0")),
}

LABELS = {
    "respiration_rate": "Respiration rate",
    "spo2": "Oxygen saturation (SpO2)",
    "systolic_bp": "Systolic blood pressure",
    "pulse": "Pulse",
    "temperature": "Temperature",
}
# Each parameter of a score, in the order NEWS2's chart lists them.
PARAMETER_LABELS = {
    "respiration_rate": "Respiration rate",
    "spo2": "SpO2",
    "air_or_oxygen": "Air or oxygen",
    "systolic_bp": "Systolic blood pressure",
    "pulse": "Pulse",
    "consciousness": "Consciousness",
    "temperature": "Temperature",
}


class News2NotApplicable(ValueError):
    """NEWS2 must not be used for this patient (under 16, or pregnant)."""


class News2InputProblem(ValueError):
    """Observations that cannot be right: `problems` names each (in the form's order) and says why; `field` and
    the message are the first."""

    def __init__(self, field: str, message: str, problems: dict[str, str] | None = None):
        super().__init__(message)
        self.field = field
        self.problems = problems or {field: message}


@dataclass(frozen=True)
class Observations:
    respiration_rate: int
    spo2: int
    on_oxygen: bool
    systolic_bp: int
    pulse: int
    consciousness: Consciousness
    temperature: Decimal
    scale_2: bool = False


@dataclass(frozen=True)
class Score:
    parameters: dict[str, int]
    total: int
    any_single_three: bool
    response: Response
    scale: int

    @property
    def response_text(self) -> str:
        return RESPONSE_TEXT[self.response]


def respiration_score(rate: int) -> int:
    if rate <= 8:
        return 3
    if rate <= 11:
        return 1
    if rate <= 20:
        return 0
    if rate <= 24:
        return 2
    return 3


def spo2_scale_1_score(spo2: int) -> int:
    if spo2 <= 91:
        return 3
    if spo2 <= 93:
        return 2
    if spo2 <= 95:
        return 1
    return 0


def spo2_scale_2_score(spo2: int, on_oxygen: bool) -> int:
    if spo2 <= 83:
        return 3
    if spo2 <= 85:
        return 2
    if spo2 <= 87:
        return 1
    if spo2 <= 92 or not on_oxygen:  # 88–92, or 93 and above on air
        return 0
    if spo2 <= 94:
        return 1
    if spo2 <= 96:
        return 2
    return 3


def systolic_score(bp: int) -> int:
    if bp <= 90:
        return 3
    if bp <= 100:
        return 2
    if bp <= 110:
        return 1
    if bp <= 219:
        return 0
    return 3


def pulse_score(pulse: int) -> int:
    if pulse <= 40:
        return 3
    if pulse <= 50:
        return 1
    if pulse <= 90:
        return 0
    if pulse <= 110:
        return 1
    if pulse <= 130:
        return 2
    return 3


def temperature_score(temperature: Decimal) -> int:
    if temperature <= Decimal("35.0"):
        return 3
    if temperature <= Decimal("36.0"):
        return 1
    if temperature <= Decimal("38.0"):
        return 0
    if temperature <= Decimal("39.0"):
        return 1
    return 2


def consciousness_score(level: Consciousness) -> int:
    return 0 if level is Consciousness.ALERT else 3  # new confusion scores 3, like V, P or U


def check_applicable(*, age_years: int | None, pregnant: bool) -> None:
    if pregnant:
        raise News2NotApplicable("NEWS2 is not valid in pregnancy: use the maternity early warning score.")
    if age_years is not None and age_years < 16:
        raise News2NotApplicable("NEWS2 is not valid for under-16s: use the paediatric early warning score.")


def score(obs: Observations) -> Score:
    parameters = {
        "respiration_rate": respiration_score(obs.respiration_rate),
        "spo2": spo2_scale_2_score(obs.spo2, obs.on_oxygen) if obs.scale_2 else spo2_scale_1_score(obs.spo2),
        "air_or_oxygen": 2 if obs.on_oxygen else 0,
        "systolic_bp": systolic_score(obs.systolic_bp),
        "pulse": pulse_score(obs.pulse),
        "consciousness": consciousness_score(obs.consciousness),
        "temperature": temperature_score(obs.temperature),
    }
    total = sum(parameters.values())
    single_three = any(value == 3 for value in parameters.values())
    if total >= 7:
        response = Response.HIGH
    elif total >= 5:
        response = Response.MEDIUM
    elif single_three:
        response = Response.LOW_MEDIUM
    elif total == 0:
        response = Response.ROUTINE
    else:
        response = Response.LOW
    return Score(parameters, total, single_three, response, 2 if obs.scale_2 else 1)


def parse_observations(raw: dict[str, str], *, scale_2: bool) -> Observations:
    """Turn form text into Observations, naming every missing or impossible value at once (a clinician at the
    bedside fixes them in one go). A decimal comma is read as a point ("37,5")."""
    values: dict[str, Any] = {}  # whole numbers, and the temperature as a Decimal
    problems: dict[str, str] = {}
    for name in ("respiration_rate", "spo2", "systolic_bp", "pulse"):
        number = digits((raw.get(name) or "").strip())
        if number is None:
            problems[name] = f"{LABELS[name]} must be a whole number"
        else:
            values[name] = number
    temperature = _temperature((raw.get("temperature") or "").strip(), problems)
    if temperature is not None:
        values["temperature"] = temperature
    for name, (low, high) in RANGES.items():
        if name in values and not low <= values[name] <= high:
            problems[name] = f"{LABELS[name]} must be between {low} and {high}"
    try:
        consciousness = Consciousness(raw.get("consciousness") or "")
    except ValueError:
        problems["consciousness"] = "Choose the level of consciousness (ACVPU)"
    oxygen = raw.get("on_oxygen")
    if oxygen not in {"yes", "no"}:
        problems["on_oxygen"] = "Say whether the patient is on air or oxygen"
    if problems:
        ordered = {name: problems[name] for name in FORM_ORDER if name in problems}
        field, message = next(iter(ordered.items()))
        raise News2InputProblem(field, message, ordered)
    return Observations(consciousness=consciousness, on_oxygen=oxygen == "yes", scale_2=scale_2, **values)


FORM_ORDER = ("respiration_rate", "spo2", "systolic_bp", "pulse", "temperature", "on_oxygen", "consciousness")


def _temperature(text: str, problems: dict[str, str]) -> Decimal | None:
    try:
        temperature = Decimal(text.replace(",", ".", 1) if text.count(",") == 1 and "." not in text else text)
    except InvalidOperation:
        problems["temperature"] = "Temperature must be a number, like 37.2"
        return None
    # A finite Decimal's exponent is an int (only NaN and infinity have a letter there).
    if not temperature.is_finite() or cast(int, temperature.as_tuple().exponent) < -1:
        problems["temperature"] = "Temperature must have at most one decimal place, like 37.2"
        return None
    low, high = RANGES["temperature"]
    if not low <= temperature <= high:  # before rounding: 1e999 cannot be rounded to a tenth
        problems["temperature"] = f"{LABELS['temperature']} must be between {low} and {high}"
        return None
    return temperature.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

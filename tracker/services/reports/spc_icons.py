"""The two icons of an XmR chart and their words (docs/architecture.md#improvement-charts): variation (what the
latest month shows) and assurance (whether the process will meet its target). The words are those boards
know from the NHS's Making Data Count icons; `meaning` says the same in a sentence for the chart's text."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tracker.services.reports.spc_rules import Side


class Kind(StrEnum):
    """What a point shows: common cause, or special cause read through the measure's direction."""

    COMMON_CAUSE = "common_cause"
    IMPROVEMENT = "improvement"
    CONCERN = "concern"
    NEITHER = "neither"


@dataclass(frozen=True)
class Icon:
    """`code` names the icon (e.g. "concern_high"), `colour` its colour, `words` its label."""

    code: str
    colour: str
    words: str
    meaning: str


COMMON_CAUSE = Icon(
    "common_cause",
    "grey",
    "Common cause variation",
    "No sign of change: the latest month is within what this process usually does.",
)

# Each special cause's colour, words, and its sentence, which starts with "Unusually high", "Unusually low", or
# "Unusual" where the patterns through the point run both ways.
_SPECIAL = {
    Kind.IMPROVEMENT: ("blue", "Special cause improvement", "{unusual}, in the better direction."),
    Kind.CONCERN: ("orange", "Special cause concern", "{unusual}, in the worse direction."),
    Kind.NEITHER: (
        "purple",
        "Special cause neither",
        "{unusual}: this measure has no better or worse direction, so it is neither improvement nor concern.",
    ),
}

HIT_AND_MISS = Icon(
    "hit_and_miss",
    "grey",
    "Hit and miss",
    "The target lies between the process limits: it will be met in some months and missed in others.",
)
CONSISTENTLY_PASSING = Icon(
    "consistently_passing",
    "blue",
    "Consistently passing",
    "Both process limits are on the passing side of the target: it will be met every month unless the process changes.",
)
CONSISTENTLY_FAILING = Icon(
    "consistently_failing",
    "orange",
    "Consistently failing",
    "Both process limits are on the failing side of the target: it will be missed every month unless the process changes.",
)


def variation_icon(kind: Kind, side: Side | None) -> Icon:
    """The variation icon for a point of this kind and side. Special cause is "high" or "low" by the side its
    patterns point to; a point whose patterns point both ways (only possible without a direction) has none."""
    if kind is Kind.COMMON_CAUSE:
        return COMMON_CAUSE
    colour, words, meaning = _SPECIAL[kind]
    if side is None:
        return Icon(kind.value, colour, words, meaning.format(unusual="Unusual"))
    unusual = f"Unusually {side.value}"
    return Icon(f"{kind.value}_{side.value}", colour, f"{words}, {side.value}", meaning.format(unusual=unusual))


def assurance_icon(both_passing: bool, both_failing: bool) -> Icon:
    """The assurance icon, from which side of the target each process limit is on."""
    if both_passing:
        return CONSISTENTLY_PASSING
    if both_failing:
        return CONSISTENTLY_FAILING
    return HIT_AND_MISS

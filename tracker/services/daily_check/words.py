"""What the staff pages call the daily check's answers (docs/architecture.md#beds): one place, in scale order."""

from __future__ import annotations

from tracker.models import AnsweredBy, Compared, Feeling


def N_(text: str) -> str:
    """Marks a string for the families' catalogues without translating it here: the family's page
    translates it when it renders (docs/architecture.md#languages); the staff pages and exports keep
    the English."""
    return text


QUESTION_FEELING = N_("How are you feeling today?")
QUESTION_COMPARED = N_("Compared with yesterday?")

FEELING_WORDS = {
    Feeling.VERY_GOOD.value: N_("Very good"),
    Feeling.GOOD.value: N_("Good"),
    Feeling.OKAY.value: N_("Okay"),
    Feeling.BAD.value: N_("Bad"),
    Feeling.VERY_BAD.value: N_("Very bad"),
}

COMPARED_WORDS = {
    Compared.BETTER.value: N_("Better"),
    Compared.SAME.value: N_("The same"),
    Compared.WORSE.value: N_("Worse"),
}

ANSWERED_BY_WORDS = {
    AnsweredBy.STAFF.value: "asked by staff",
    AnsweredBy.PATIENT.value: "answered by the patient",
    AnsweredBy.FAMILY.value: "answered by family",
}

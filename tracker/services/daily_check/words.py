"""What the staff pages call the daily check's answers (docs/architecture.md#beds): one place, in scale order."""

from __future__ import annotations

from tracker.models import AnsweredBy, Compared, Feeling

QUESTION_FEELING = "How are you feeling today?"
QUESTION_COMPARED = "Compared with yesterday?"

FEELING_WORDS = {
    Feeling.VERY_GOOD.value: "Very good",
    Feeling.GOOD.value: "Good",
    Feeling.OKAY.value: "Okay",
    Feeling.BAD.value: "Bad",
    Feeling.VERY_BAD.value: "Very bad",
}

COMPARED_WORDS = {
    Compared.BETTER.value: "Better",
    Compared.SAME.value: "The same",
    Compared.WORSE.value: "Worse",
}

ANSWERED_BY_WORDS = {
    AnsweredBy.STAFF.value: "asked by staff",
    AnsweredBy.PATIENT.value: "answered by the patient",
    AnsweredBy.FAMILY.value: "answered by family",
}

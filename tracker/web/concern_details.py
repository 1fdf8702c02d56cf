"""The questions the family's form and its optional second page share: whether they have spoken to the ward, their
language, interpreter and communication needs, and the patient's date of birth; and how every text answer is
tidied. Each problem's message is in plain English (reading age 9–11) and names what to do."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import ValidationError

from tracker import numbers
from tracker.clock import utcnow
from tracker.models import SpokeToWard
from tracker.services.concerns.more_details import MoreDetails
from tracker.services.text import TextProblem, clean_block, clean_line

# The languages of NHS England's Martha's Rule leaflets (docs/facts.md#languages-and-accessibility), in their own words first.
LANGUAGE_CHOICES = [
    ("", _l("English")),
    ("Arabic", "العربية (Arabic)"),
    ("Bengali", "বাংলা (Bengali)"),
    ("Chinese (Simplified)", "简体中文 (Chinese, Simplified)"),
    ("Gujarati", "ગુજરાતી (Gujarati)"),
    ("Polish", "Polski (Polish)"),
    ("Portuguese", "Português (Portuguese)"),
    ("Punjabi", "ਪੰਜਾਬੀ (Punjabi)"),
    ("Romanian", "Română (Romanian)"),
    ("Spanish", "Español (Spanish)"),
    ("Urdu", "اردو (Urdu)"),
    ("British Sign Language", _l("British Sign Language (BSL)")),
    ("other", _l("Another language")),
]

YES_NO = [("yes", _l("Yes")), ("no", _l("No"))]

LIMITS = {
    "caller_name": 120,
    "caller_relationship": 60,
    "patient_name": 120,
    "bed": 60,
    "worry_details": 2000,
    "ward_response": 1000,
    "communication_needs": 500,
    "other_language": 60,
    "callback_number": 40,
}


def _text_message(problem: TextProblem, label: str) -> str:
    if problem.kind == "too_long":
        return _l("%(label)s must be %(limit)s characters or fewer", label=label, limit=problem.limit)
    if problem.kind == "multiline":
        return _l("%(label)s must be on one line", label=label)
    return _l("%(label)s has a character we cannot save. Remove it and try again", label=label)


class Clean:
    """Validator that tidies a text field in place (NFC, control characters refused, limits in
    characters) and reports problems with the field's own label."""

    def __init__(self, label, multiline: bool = False):
        self.label = label
        self.multiline = multiline

    def __call__(self, form, field):
        limit = LIMITS[field.name]
        try:
            cleaned = clean_block(field.data, limit) if self.multiline else clean_line(field.data, limit)
        except TextProblem as problem:
            raise ValidationError(_text_message(problem, self.label)) from None
        field.data = cleaned


class DetailsFields:
    """The shared questions, mixed into a FlaskForm. All are optional: a concern is never held up by them."""

    spoke_to_ward = RadioField(_l("Have you talked to the ward staff about this? (optional)"), validate_choice=False)
    ward_response = TextAreaField(
        _l("What happened when you talked to them? (optional)"), validators=[Clean(_l("What happened"), multiline=True)]
    )
    preferred_language = SelectField(_l("Which language do you prefer to speak? (optional)"), validate_choice=False)
    other_language = StringField(_l("Which language?"), validators=[Clean(_l("The language"))])
    interpreter_needed = RadioField(_l("Do you need an interpreter? (optional)"), validate_choice=False)
    communication_needs = TextAreaField(
        _l("Do you have any communication needs? (optional)"),
        validators=[Clean(_l("Communication needs"), multiline=True)],
    )
    dob_day = StringField(_l("Day"))
    dob_month = StringField(_l("Month"))
    dob_year = StringField(_l("Year"))

    # Set by validate(): the parsed date of birth.
    dob: date | None = None

    def validate_spoke_to_ward(self, field):
        # Optional: a concern is never blocked on this question (docs/facts.md#marthas-rule).
        if field.data not in (None, "", "None") and field.data not in {v for v, _ in YES_NO}:
            raise ValidationError(_l("Select yes or no"))

    def validate_interpreter_needed(self, field):
        if field.data not in (None, "", "None") and field.data not in {v for v, _ in YES_NO}:
            raise ValidationError(_l("Select yes or no"))

    def validate_preferred_language(self, field):
        field.data = field.data or ""
        if field.data not in {value for value, _label in LANGUAGE_CHOICES}:
            raise ValidationError(_l("Select a language from the list"))

    def validate_other_language(self, field):
        if self.preferred_language.data == "other" and not field.data:
            raise ValidationError(_l("Tell us which language you prefer"))

    def validate_dob_day(self, _field):
        parts = [
            (self.dob_day.data or "").strip(),
            (self.dob_month.data or "").strip(),
            (self.dob_year.data or "").strip(),
        ]
        self.dob = None
        if not any(parts):
            return
        if not all(parts):
            raise ValidationError(_l("Date of birth must include a day, month and year, or leave it empty"))
        day, month, year = (numbers.digits(p) for p in parts)
        if day is None or month is None or year is None:
            raise ValidationError(_l("Date of birth must be numbers, like 15 3 1947"))
        if len(parts[2]) != 4:
            raise ValidationError(_l("Year must include 4 numbers"))
        try:
            dob = date(year, month, day)
        except (ValueError, OverflowError):  # not a date, a day past 2**31, or more digits than Python reads (4,300)
            raise ValidationError(_l("Date of birth must be a real date")) from None
        if dob > utcnow().date():
            raise ValidationError(_l("Date of birth must be in the past"))
        if dob.year < 1900:
            raise ValidationError(_l("Date of birth must be after 1900"))
        self.dob = dob

    @property
    def spoke(self) -> SpokeToWard | None:
        return SpokeToWard(self.spoke_to_ward.data) if self.spoke_to_ward.data in {"yes", "no"} else None

    @property
    def language(self) -> str:
        if self.preferred_language.data == "other":
            return self.other_language.data or ""
        return self.preferred_language.data or ""

    def to_details(self) -> MoreDetails:
        return MoreDetails(
            spoke_to_ward=self.spoke,
            ward_response=(self.ward_response.data or "") if self.spoke_to_ward.data == "yes" else "",
            preferred_language=self.language,
            interpreter_needed=self.interpreter_needed.data == "yes",
            communication_needs=self.communication_needs.data or "",
            patient_dob=self.dob,
        )

    # Field ids the error summary links to, for fields that render as a group.
    FIRST_INPUT = {
        "caller_route": "caller_route",
        "worry_categories": "worry_categories",
        "spoke_to_ward": "spoke_to_ward",
        "interpreter_needed": "interpreter_needed",
        "dob_day": "dob-day",
    }

    # The order of the questions on the page, for the error summary (fields are otherwise in the order they were
    # declared, and these shared ones are declared first).
    PAGE_ORDER: tuple[str, ...] = ()

    def error_list(self) -> list[dict]:
        """Errors in page order, for the NHS error summary."""
        fields = list(self)  # type: ignore[call-overload]  # a FlaskForm's fields
        order = {name: place for place, name in enumerate(self.PAGE_ORDER)}
        fields.sort(key=lambda field: order.get(field.name, len(order)))
        return [
            {"text": str(message), "href": f"#{self.FIRST_INPUT.get(field.name, field.id)}"}
            for field in fields
            for message in field.errors
        ]


class MoreDetailsForm(DetailsFields, FlaskForm):
    """The family form's optional second page, after the call has been raised and paged."""

    PAGE_ORDER = (
        "spoke_to_ward",
        "ward_response",
        "preferred_language",
        "other_language",
        "interpreter_needed",
        "communication_needs",
        "dob_day",
    )

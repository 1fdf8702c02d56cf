"""The family's form. Every field is limited and cleaned; a message for each problem is in plain
English (reading age 9–11) and names what to do."""

from __future__ import annotations

import re
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import ValidationError

from tracker.clock import utcnow
from tracker.models import CallerRoute, Channel, SpokeToWard, WorryCategory
from tracker.services.concerns.intake import Intake
from tracker.services.phone import Phone, PhoneProblem, parse_phone
from tracker.services.text import TextProblem, clean_block, clean_line

WORRY_CHOICES = [
    (WorryCategory.NOT_USUAL_SELF.value, _l("They are not their usual self")),
    (WorryCategory.BREATHING.value, _l("Their breathing has changed")),
    (WorryCategory.SKIN_OR_SWEATING.value, _l("They are sweating, or their skin looks a strange colour")),
    (WorryCategory.LITTLE_URINE.value, _l("They are weeing (passing urine) less than usual, or not at all")),
    (WorryCategory.SLEEPY_OR_CONFUSED.value, _l("They are sleepier than usual, or confused")),
    (WorryCategory.HANDS_HOT_OR_COLD.value, _l("Their hands or feet are very cold or very hot")),
    (WorryCategory.PAIN.value, _l("They are in pain or discomfort")),
    (WorryCategory.GENERAL_WORRY.value, _l("Something else, or I am just worried")),
]

CALLER_CHOICES = [
    (CallerRoute.PATIENT.value, _l("I am the patient")),
    (CallerRoute.FAMILY.value, _l("I am a family member, carer, friend or advocate")),
    (CallerRoute.STAFF.value, _l("I work at the hospital")),
]

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

_SUBMISSION_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


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


class ConcernForm(FlaskForm):
    """Choice fields carry no WTForms choices: the templates render the NHS.UK components from the
    lists above, and the validate_* methods below check values against them."""

    class Meta:
        # The view checks the CSRF token itself, so an expired token can re-show the form with
        # everything the person typed instead of an error page (docs/architecture.md#security).
        csrf = False

    caller_route = RadioField(_l("Who are you?"), validate_choice=False)
    caller_name = StringField(_l("Your name (optional)"), validators=[Clean(_l("Your name"))])
    caller_relationship = StringField(
        _l("How do you know the patient? (optional)"), validators=[Clean(_l("How you know the patient"))]
    )
    patient_name = StringField(_l("Patient's full name"), validators=[Clean(_l("The patient's name"))])
    bed = StringField(_l("Bed or bay (optional)"), validators=[Clean(_l("Bed or bay"))])
    dob_day = StringField(_l("Day"))
    dob_month = StringField(_l("Month"))
    dob_year = StringField(_l("Year"))
    worry_categories = SelectMultipleField(_l("What worries you?"), validate_choice=False)
    worry_details = TextAreaField(
        _l("Tell us what worries you most right now"), validators=[Clean(_l("What worries you"), multiline=True)]
    )
    spoke_to_ward = RadioField(_l("Have you talked to the ward staff about this?"), validate_choice=False)
    ward_response = TextAreaField(
        _l("What happened when you talked to them? (optional)"), validators=[Clean(_l("What happened"), multiline=True)]
    )
    callback_number = StringField(_l("Phone number (optional)"))
    sms_consent = BooleanField(_l("Yes, send me text messages about this request"))
    preferred_language = SelectField(_l("Which language do you prefer to speak?"), validate_choice=False)
    other_language = StringField(_l("Which language?"), validators=[Clean(_l("The language"))])
    interpreter_needed = RadioField(_l("Do you need an interpreter?"), validate_choice=False)
    communication_needs = TextAreaField(
        _l("Do you have any communication needs? (optional)"),
        validators=[Clean(_l("Communication needs"), multiline=True)],
    )
    submission_id = HiddenField()
    # The honeypot: hidden from people and assistive technology, filled in by naive bots.
    website = StringField(_l("Leave this box empty"))

    # Set by validate(): the parsed call-back number and date of birth.
    phone: Phone | None = None
    dob: date | None = None

    def __init__(self, *args, bed_labels: list[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.bed_labels = bed_labels or []

    def validate_caller_route(self, field):
        if field.data not in {value for value, _label in CALLER_CHOICES}:
            raise ValidationError(_l("Select who you are"))

    def validate_patient_name(self, field):
        if not field.data and not (self.bed.data or "").strip():
            raise ValidationError(_l("Enter the patient's name, or their bed or bay if you do not know their name"))

    def validate_bed(self, field):
        if self.bed_labels and field.data and field.data not in self.bed_labels:
            raise ValidationError(_l("Select a bed or bay from the list"))

    def validate_worry_categories(self, field):
        known = {value for value, _label in WORRY_CHOICES}
        if any(value not in known for value in field.data or []):
            raise ValidationError(_l("Select what worries you from the list"))
        field.data = [value for value, _label in WORRY_CHOICES if value in (field.data or [])]

    def validate_worry_details(self, field):
        if not field.data and not self.worry_categories.data:
            raise ValidationError(_l("Tell us what worries you: tick a box or write it in your own words"))

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

    def validate_callback_number(self, field):
        raw = field.data or ""
        if len(raw) > LIMITS["callback_number"]:
            raise ValidationError(
                _l("Phone number must be %(limit)s characters or fewer", limit=LIMITS["callback_number"])
            )
        if not raw.strip():
            self.phone = None
            return
        try:
            self.phone = parse_phone(raw)
        except PhoneProblem:
            raise ValidationError(
                _l(
                    "Enter a phone number in the right format, like 07123 456 789 or 020 7946 0000. "
                    "You can leave it empty"
                )
            ) from None

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
        if not all(p.isascii() and p.isdigit() for p in parts):
            raise ValidationError(_l("Date of birth must be numbers, like 15 3 1947"))
        day, month, year = (int(p) for p in parts)
        try:
            dob = date(year, month, day)
        except ValueError:
            raise ValidationError(_l("Date of birth must be a real date")) from None
        if dob > utcnow().date():
            raise ValidationError(_l("Date of birth must be in the past"))
        if dob.year < 1900:
            raise ValidationError(_l("Date of birth must be after 1900"))
        self.dob = dob

    @property
    def valid_submission_id(self) -> str | None:
        value = self.submission_id.data or ""
        return value if _SUBMISSION_ID.match(value) else None

    @property
    def looks_automated(self) -> bool:
        return bool((self.website.data or "").strip())

    @property
    def spoke(self) -> SpokeToWard | None:
        return SpokeToWard(self.spoke_to_ward.data) if self.spoke_to_ward.data in {"yes", "no"} else None

    @property
    def language(self) -> str:
        if self.preferred_language.data == "other":
            return self.other_language.data or ""
        return self.preferred_language.data or ""

    def to_intake(self, *, ward_id: int, channel: Channel, locale: str) -> Intake:
        """The validated form as the service takes it (the family's page and the staff route alike)."""
        family = self.caller_route.data == CallerRoute.FAMILY.value
        return Intake(
            ward_id=ward_id,
            submission_id=self.submission_id.data,
            caller_route=CallerRoute(self.caller_route.data),
            channel=channel,
            worry_categories=tuple(self.worry_categories.data or ()),
            worry_details=self.worry_details.data or "",
            patient_name=self.patient_name.data or "",
            bed=self.bed.data or "",
            patient_dob=self.dob,
            caller_name=self.caller_name.data or "",
            caller_relationship=(self.caller_relationship.data or "") if family else "",
            callback=self.phone,
            sms_consent=bool(self.sms_consent.data and self.phone),
            locale=locale,
            preferred_language=self.language,
            interpreter_needed=self.interpreter_needed.data == "yes",
            communication_needs=self.communication_needs.data or "",
            spoke_to_ward=self.spoke,
            ward_response=(self.ward_response.data or "") if self.spoke_to_ward.data == "yes" else "",
            looks_automated=self.looks_automated,
        )

    # Field ids the error summary links to, for fields that render as a group.
    FIRST_INPUT = {
        "caller_route": "caller_route",
        "worry_categories": "worry_categories",
        "spoke_to_ward": "spoke_to_ward",
        "interpreter_needed": "interpreter_needed",
        "dob_day": "dob-day",
    }

    def error_list(self) -> list[dict]:
        """Errors in page order, for the NHS error summary."""
        items = []
        for field in self:
            for message in field.errors:
                items.append({"text": str(message), "href": f"#{self.FIRST_INPUT.get(field.name, field.id)}"})
        return items

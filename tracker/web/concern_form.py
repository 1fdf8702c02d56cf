"""The family's form (its first page: who they are, the patient, the worry, a number) and the staff route's. Every
field is limited and cleaned; a message for each problem is in plain English (reading age 9–11) and names what to
do. The questions the optional second page asks again are in web/concern_details.py."""

from __future__ import annotations

import re
import secrets

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import ValidationError

from tracker.models import CallerRoute, Channel, WorryCategory
from tracker.services.concerns.intake import Intake
from tracker.services.phone import Phone, PhoneProblem, parse_phone
from tracker.web.concern_details import LANGUAGE_CHOICES, LIMITS, YES_NO, Clean, DetailsFields

__all__ = ["CALLER_CHOICES", "LANGUAGE_CHOICES", "WORRY_CHOICES", "YES_NO", "ConcernForm", "new_submission_id"]

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

_SUBMISSION_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def new_submission_id() -> str:
    return secrets.token_urlsafe(24)


class ConcernForm(DetailsFields, FlaskForm):
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
    worry_categories = SelectMultipleField(_l("What worries you?"), validate_choice=False)
    worry_details = TextAreaField(
        _l("Tell us what worries you most right now"), validators=[Clean(_l("What worries you"), multiline=True)]
    )
    callback_number = StringField(_l("Phone number (optional)"))
    sms_consent = BooleanField(_l("Yes, send me text messages about this request"))
    submission_id = HiddenField()
    # The honeypot: hidden from people and assistive technology, filled in by naive bots.
    website = StringField(_l("Leave this box empty"))

    # Set by validate(): the parsed call-back number.
    phone: Phone | None = None

    PAGE_ORDER = (
        "ward_id",
        "caller_route",
        "caller_relationship",
        "caller_name",
        "patient_name",
        "bed",
        "hospital_number",
        "dob_day",
        "worry_categories",
        "worry_details",
        "spoke_to_ward",
        "ward_response",
        "callback_number",
        "callback_extension",
        "sms_consent",
        "preferred_language",
        "other_language",
        "interpreter_needed",
        "communication_needs",
    )

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

    def validate_sms_consent(self, field):
        if field.data and not (self.callback_number.data or "").strip():
            raise ValidationError(
                _l("Enter a mobile phone number for the text messages, or untick the box about text messages")
            )

    @property
    def valid_submission_id(self) -> str | None:
        value = self.submission_id.data or ""
        return value if _SUBMISSION_ID.match(value) else None

    def keep_or_renew_submission_id(self) -> None:
        """A good one-time id is kept, so a second press of Send finds the call the first one raised. A missing or
        malformed one is replaced: the call is a new call, never an older one that happened to share it (an empty
        id would otherwise find the first call ever sent without one)."""
        self.submission_id.data = self.valid_submission_id or new_submission_id()

    @property
    def looks_automated(self) -> bool:
        return bool((self.website.data or "").strip())

    def to_intake(self, *, ward_id: int, channel: Channel, locale: str) -> Intake:
        """The validated form as the service takes it (the family's page and the staff route alike)."""
        family = self.caller_route.data == CallerRoute.FAMILY.value
        return Intake(
            ward_id=ward_id,
            submission_id=self.valid_submission_id or new_submission_id(),
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

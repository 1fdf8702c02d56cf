"""The staff version of the concern form: a ward from the person's own list, the hospital number, a bleep or
extension to call the member of staff back on, and the staff route or a call taken by phone for a family."""

from __future__ import annotations

from dataclasses import replace

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.validators import ValidationError

from tracker import numbers
from tracker.models import CALLBACK_EXTENSION_MAX, CALLBACK_EXTENSION_MIN, CallerRoute, Channel
from tracker.services.concerns.intake import Intake
from tracker.web.concern_form import CALLER_CHOICES, ConcernForm

LIMIT_HOSPITAL_NUMBER = 32


def _digits(value: str) -> bool:
    """ASCII digits only: "٤٤٧١" is digits to Python, but nobody can dial it from a hospital phone."""
    return value.isascii() and value.isdigit()


class StaffConcernForm(ConcernForm):
    ward_id = SelectField(_l("Ward"), validate_choice=False)
    hospital_number = StringField(_l("Hospital number (optional)"))
    callback_extension = StringField(_l("Bleep or extension (optional)"))

    def __init__(self, *args, wards=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.wards = wards or []

    def validate_ward_id(self, field):
        if numbers.database_id(field.data) not in {ward.id for ward in self.wards}:
            raise ValidationError(_l("Choose the patient's ward"))

    def validate_caller_route(self, field):
        if field.data not in {value for value, _label in CALLER_CHOICES}:
            raise ValidationError(_l("Say who is raising the call: you (staff), or the patient or family by phone"))

    def to_intake(self, *, ward_id: int, channel: Channel, locale: str) -> Intake:
        return replace(
            super().to_intake(ward_id=ward_id, channel=channel, locale=locale),
            hospital_number=self.hospital_number.data or "",
            callback_extension=self.callback_extension.data or "",
        )

    def validate_hospital_number(self, field):
        value = (field.data or "").strip()
        if len(value) > LIMIT_HOSPITAL_NUMBER or not all(ch.isalnum() or ch in " -/" for ch in value):
            raise ValidationError(_l("Hospital number must be letters and digits, 32 characters or fewer"))
        field.data = value

    def validate_callback_number(self, field):
        """As the family's form (a phone number, kept in E.164), but a bleep typed here is pointed to its own box."""
        try:
            super().validate_callback_number(field)
        except ValidationError:
            raw = (field.data or "").strip()
            if _digits(raw) and len(raw) <= CALLBACK_EXTENSION_MAX:
                raise ValidationError(
                    _l("That looks like a bleep or extension: put it in the box for a bleep or extension below")
                ) from None
            raise

    def validate_callback_extension(self, field):
        """Digits only (never texted, so never more than a number to dial), and only for a call the member of staff
        raises for themselves: on a family's call by phone it would read as the family's extension."""
        value = (field.data or "").strip()
        field.data = value
        if not value:
            return
        if not _digits(value):
            raise ValidationError(_l("Enter a bleep or extension using numbers only, like 4471"))
        if not CALLBACK_EXTENSION_MIN <= len(value) <= CALLBACK_EXTENSION_MAX:
            raise ValidationError(
                _l(
                    "A bleep or extension must be %(least)s to %(most)s numbers long, like 4471",
                    least=CALLBACK_EXTENSION_MIN,
                    most=CALLBACK_EXTENSION_MAX,
                )
            )
        if self.caller_route.data != CallerRoute.STAFF.value:
            raise ValidationError(
                _l(
                    "A bleep or extension is only for a call you raise yourself. "
                    "For a call from a patient or family, leave it empty and give their phone number"
                )
            )

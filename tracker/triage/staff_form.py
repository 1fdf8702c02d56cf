"""The staff version of the concern form: a ward from the person's own list, the hospital number,
and the staff route or a call taken by phone for a family."""

from __future__ import annotations

from dataclasses import replace

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.validators import ValidationError

from tracker.models import Channel
from tracker.services.concerns.intake import Intake
from tracker.web.concern_form import CALLER_CHOICES, ConcernForm

LIMIT_HOSPITAL_NUMBER = 32


class StaffConcernForm(ConcernForm):
    ward_id = SelectField(_l("Ward"), validate_choice=False)
    hospital_number = StringField(_l("Hospital number (optional)"))

    def __init__(self, *args, wards=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.wards = wards or []

    def validate_ward_id(self, field):
        if not (field.data or "").isdigit() or int(field.data) not in {ward.id for ward in self.wards}:
            raise ValidationError(_l("Choose the patient's ward"))

    def validate_caller_route(self, field):
        if field.data not in {value for value, _label in CALLER_CHOICES}:
            raise ValidationError(_l("Say who is raising the call: you (staff), or the patient or family by phone"))

    def to_intake(self, *, ward_id: int, channel: Channel, locale: str) -> Intake:
        return replace(
            super().to_intake(ward_id=ward_id, channel=channel, locale=locale),
            hospital_number=self.hospital_number.data or "",
        )

    def validate_hospital_number(self, field):
        value = (field.data or "").strip()
        if len(value) > LIMIT_HOSPITAL_NUMBER or not all(ch.isalnum() or ch in " -/" for ch in value):
            raise ValidationError(_l("Hospital number must be letters and digits, 32 characters or fewer"))
        field.data = value

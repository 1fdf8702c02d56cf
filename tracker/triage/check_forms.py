"""The daily check page's forms (triage/daily_check.py): admitting a patient to a bed and a nurse's answer. The
services check the same rules again (services/daily_check); these say which field is wrong."""

from __future__ import annotations

from wtforms import StringField, TextAreaField

from tracker.services.daily_check.answers import MAX_TEXT
from tracker.services.daily_check.occupancy import MAX_NAME
from tracker.services.daily_check.words import COMPARED_WORDS, FEELING_WORDS
from tracker.web.posted import PostedForm, one_of, typed


class AdmitForm(PostedForm):
    patient_name = StringField(validators=[typed("The patient's name", MAX_NAME, multiline=False)])


class AnswerForm(PostedForm):
    feeling = StringField(validators=[one_of(FEELING_WORDS, "Choose how the patient is feeling today")])
    compared = StringField(validators=[one_of(COMPARED_WORDS, "Choose how the patient feels compared with yesterday")])
    text = TextAreaField(validators=[typed("What the patient said", MAX_TEXT)])

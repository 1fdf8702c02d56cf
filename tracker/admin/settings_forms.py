"""The trust settings page's forms, one per group (tracker/admin/settings_groups.py): each field's HTML name is the
setting's, each validator says what is wrong in plain English, and `values()` gives the service plain values or
raises every problem of the group at once (nothing of a group is saved while any field is wrong)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from wtforms import Field, SelectMultipleField, StringField
from wtforms.validators import StopValidation

from tracker.problems import FieldProblem, FieldProblems
from tracker.services.languages import CODES, DEFAULT
from tracker.services.phone import PhoneProblem, parse_phone
from tracker.services.records.retention import MAXIMUMS, MINIMUMS
from tracker.services.reports.improvement_changes import MAX_RUN_LENGTH, MIN_RUN_LENGTH
from tracker.services.reports.working_hours import REGION_NAMES
from tracker.services.setup import devices, trust_words
from tracker.web.posted import PostedForm, clock_time, one_of, raw, typed, whole_number

RUN_LENGTHS = tuple(str(n) for n in range(MIN_RUN_LENGTH, MAX_RUN_LENGTH + 1))


class GroupForm(PostedForm):
    def values(self) -> dict[str, Any]:
        problems = self.problems()
        if problems:
            raise FieldProblems(problems)
        return {field.name: field.data for field in self}


def phone(label: str, *, required: str | None = None) -> Callable:
    """A phone number, kept as +44…; empty is None unless `required` (the message then)."""

    def check(form: PostedForm, field: Field) -> None:
        value = raw(field)
        if not value:
            if required:
                raise StopValidation(required)
            field.data = None
            raise StopValidation()
        try:
            field.data = parse_phone(value).e164
        except PhoneProblem:
            raise StopValidation(
                f"{label} is not a phone number: write it like 020 7946 0100 or 07700 900123"
            ) from None

    return check


def yes_no(message: str) -> Callable:
    def check(form: PostedForm, field: Field) -> None:
        if raw(field) not in ("yes", "no"):
            raise StopValidation(message)
        field.data = raw(field) == "yes"

    return check


def optional_line(label: str, limit: int) -> Callable:
    """One line of text; empty is None."""
    clean = typed(label, limit, multiline=False)

    def check(form: PostedForm, field: Field) -> None:
        clean(form, field)
        field.data = field.data or None

    return check


def regions(form: PostedForm, field: Field) -> None:
    codes = sorted({part.strip().upper() for part in raw(field).replace(" ", ",").split(",") if part.strip()})
    if not codes or not all(re.fullmatch(r"[A-Z]{2}", code) for code in codes):
        raise StopValidation("Write two-letter country codes, separated by commas, like GB or GB, IE")
    field.data = ",".join(codes)


def time_zone(form: PostedForm, field: Field) -> None:
    try:
        ZoneInfo(raw(field))
    except (ZoneInfoNotFoundError, ValueError):
        raise StopValidation("Write a time zone the tz database knows, like Europe/London") from None
    field.data = raw(field)


def address_ranges(form: PostedForm, field: Field) -> None:
    try:
        devices.parse_ranges(raw(field))
    except FieldProblem as problem:
        raise StopValidation(str(problem)) from None
    field.data = raw(field)


def period(name: str, label: str) -> Callable:
    check = whole_number(label, MINIMUMS[name], MAXIMUMS[name])

    def with_reason(form: PostedForm, field: Field) -> None:
        try:
            check(form, field)
        except StopValidation as problem:
            raise StopValidation(
                f"{problem.args[0]}: the Records Management Code's {MINIMUMS[name]} is the least allowed"
            ) from None

    return with_reason


class ContactForm(GroupForm):
    trust_name = StringField(
        validators=[typed("The trust's name", 120, multiline=False, required="Enter the trust's name")]
    )
    emergency_instruction = StringField(
        validators=[
            typed(
                "The emergency instruction",
                trust_words.LIMITS[trust_words.EMERGENCY_INSTRUCTION],
                multiline=False,
                required="Enter the emergency instruction families are shown",
            )
        ]
    )
    outreach_phone = StringField(
        validators=[phone("The outreach team's number", required="Enter the outreach team's number")]
    )
    pals_phone = StringField(validators=[phone("The PALS number")])
    privacy_contact = StringField(
        validators=[optional_line("The privacy contact", trust_words.LIMITS[trust_words.PRIVACY_CONTACT])]
    )


class TextingForm(GroupForm):
    text_relatives_allowed = StringField(validators=[yes_no("Say whether relatives and carers may be texted")])
    sms_allowed_regions = StringField(validators=[regions])


class SignInForm(GroupForm):
    idle_timeout_minutes = StringField(validators=[whole_number("The idle timeout", 5, 30)])
    mfa_for_all_staff = StringField(validators=[yes_no("Say whether every staff role needs an authenticator code")])


class ReportsForm(GroupForm):
    timezone = StringField(validators=[time_zone])
    in_hours_start = StringField(validators=[clock_time("time in hours begins")])
    in_hours_end = StringField(validators=[clock_time("time in hours ends")])
    bank_holiday_region = StringField(validators=[one_of(REGION_NAMES, "Choose whose bank holidays are out of hours")])
    linked_calls_counted = StringField(validators=[one_of(("own", "once"), "Choose how a linked call counts")])
    spc_run_length = StringField(
        validators=[one_of(RUN_LENGTHS, "Choose how many months in a row make a shift or a trend: 6 or 7")]
    )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        start, end = self.in_hours_start.data, self.in_hours_end.data
        if not self.in_hours_start.errors and not self.in_hours_end.errors and not start < end:
            self.refuse("in_hours_end", "In hours must end after it begins, on the same day (such as 08:00 to 18:00)")
            return False
        return valid


class RetentionForm(GroupForm):
    retention_adult_years = StringField(validators=[period("retention_adult_years", "An adult's call's period")])
    retention_child_until_age = StringField(validators=[period("retention_child_until_age", "The child's birthday")])
    retention_complaint_years = StringField(validators=[period("retention_complaint_years", "A complaint's period")])
    retention_serious_incident_years = StringField(
        validators=[period("retention_serious_incident_years", "A serious incident's period")]
    )


class SafeguardingForm(GroupForm):
    safeguarding_lead_name = StringField(validators=[typed("The safeguarding lead's name", 120, multiline=False)])
    safeguarding_lead_phone = StringField(validators=[phone("The safeguarding lead's number")])

    def values(self) -> dict[str, Any]:
        values = super().values()
        # Empty clears them (the service takes "" as "none").
        return {name: value or "" for name, value in values.items()}


class TextInForm(GroupForm):
    """Read with `teams`: the codes of the active teams."""

    text_in_team = StringField(
        validators=[one_of(lambda form: form.context["teams"], "Choose one of the teams", optional=True)]
    )
    text_in_paging = StringField(validators=[yes_no("Say whether text-in calls page the on-call clinicians")])


class DevicesForm(GroupForm):
    device_address_ranges = StringField(validators=[address_ranges])


FORMS: dict[str, type[GroupForm]] = {
    "contact": ContactForm,
    "texting": TextingForm,
    "sign-in": SignInForm,
    "reports": ReportsForm,
    "retention": RetentionForm,
    "safeguarding": SafeguardingForm,
    "text-in": TextInForm,
    "devices": DevicesForm,
}


# --- the families' languages ---------------------------------------------------------------------------------------


def _languages(form: PostedForm, field: Field) -> None:
    chosen = [value for value in field.raw_data or () if value]
    if any(value not in CODES or value == DEFAULT for value in chosen):
        raise StopValidation("Choose from the languages listed")
    field.data = [code for code in CODES if code in chosen]


class LanguagesForm(GroupForm):
    languages = SelectMultipleField(validate_choice=False, validators=[_languages])


def words_form(team_ids: list[int]) -> type[GroupForm]:
    """The form for one language's own words: the emergency instruction, the privacy contact and each team's name
    (`team-<id>`). `values()` gives them by the key trust_words keeps them under."""
    limits = trust_words.LIMITS
    fields: dict[str, Any] = {
        "emergency_instruction": StringField(
            validators=[typed("The emergency instruction", limits[trust_words.EMERGENCY_INSTRUCTION], multiline=False)]
        ),
        "privacy_contact": StringField(
            validators=[typed("The privacy contact", limits[trust_words.PRIVACY_CONTACT], multiline=False)]
        ),
    }
    for team_id in team_ids:
        fields[f"team-{team_id}"] = StringField(
            validators=[typed("The team's name", limits[trust_words.TEAM_NAME], multiline=False)]
        )

    def values(self: GroupForm) -> dict[str, Any]:
        return {_key(name): value or "" for name, value in GroupForm.values(self).items()}

    return type("WordsForm", (GroupForm,), {**fields, "values": values})


def _key(name: str) -> str:
    if name.startswith("team-"):
        return trust_words.team_key(int(name.removeprefix("team-")))
    return name

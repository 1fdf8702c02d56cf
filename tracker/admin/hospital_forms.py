"""The forms of the Sites, teams and Wards pages (docs/architecture.md#set-up). Each checks what was typed and says
what is wrong beside its field; the services (services/setup/hospital.py, sites_and_teams.py, ward_codes.py) hold
the rules and refuse the rest. A ward's code is asked for once, when it is added: the edit form has no code, and a
posted one that differs is refused."""

from __future__ import annotations

from collections.abc import Callable

from wtforms import Field, StringField
from wtforms.validators import StopValidation

from tracker.models import Population
from tracker.services.phone import PhoneProblem, parse_phone
from tracker.services.setup import beds as beds_service
from tracker.web.posted import PostedForm, one_of, raw, typed, whole_number

POPULATIONS = {Population.ADULT.value: "Adults", Population.PAEDIATRIC.value: "Children (paediatric)"}
DAY_MINUTES = 24 * 60
NO_SUCCESSOR = "none"


def phone_number(label: str, example: str, *, mobile: bool = False, required: str | None = None) -> Callable:
    """A phone number the services can read; the field's data is what was typed, or None when left empty."""

    def check(form: PostedForm, field: Field) -> None:
        value = raw(field)
        if not value:
            if required:
                raise StopValidation(required)
            field.data = None
            return
        try:
            phone = parse_phone(value)
        except PhoneProblem:
            raise StopValidation(f"Enter {label} as a phone number, like {example}") from None
        if mobile and not phone.is_mobile:
            raise StopValidation(
                f"Enter a mobile number for {label}: new calls alert it by text, and a landline cannot get texts"
            )
        field.data = value

    return check


def lower_case_code(form: PostedForm, field: Field) -> None:
    """A ward's code is printed as typed: upper-case letters are refused here, not quietly changed."""
    value = raw(field)
    if value != value.lower():
        raise StopValidation(f"Write the code in lower-case letters, as it will be printed: {value.lower()}")
    field.data = value


def bed_labels(form: PostedForm, field: Field) -> None:
    """One bed or bay per line, in the order the family's form lists them."""
    try:
        field.data = beds_service.clean_labels((field.data or "").splitlines())
    except beds_service.BedProblem as problem:
        raise StopValidation(str(problem)) from None


def unchanged_code(form: PostedForm, field: Field) -> None:
    """An edit never carries a code; one posted anyway (a crafted form) that differs from the ward's is refused."""
    value = raw(field)
    if value and value != form.context["code"]:
        raise StopValidation(
            "A ward's code never changes: it is its link, printed on posters. To use another code, add a new ward "
            "and close this one."
        )


def _name(what: str) -> Callable:
    return typed(f"The {what} name", 120, multiline=False, required=f"Enter the {what} name")


class SiteForm(PostedForm):
    code = StringField(validators=[typed("The site's code", 32, multiline=False, required="Enter the site's code")])
    name = StringField(validators=[_name("site's")])


class SiteNameForm(PostedForm):
    name = StringField(validators=[_name("site's")])


class TeamForm(PostedForm):
    """Read with `new`: whether the team is being added (its code is asked for only then)."""

    code = StringField(validators=[typed("The team's code", 32, multiline=False)])
    name = StringField(validators=[_name("team's")])
    population = StringField(validators=[one_of(POPULATIONS, "Choose whether the team sees adults or children")])
    ack_target_minutes = StringField(validators=[whole_number("The target to acknowledge", 1, DAY_MINUTES)])
    review_target_minutes = StringField(validators=[whole_number("The target to review", 1, DAY_MINUTES)])
    public_phone = StringField(
        validators=[
            phone_number("the team's public number", "020 7946 0101", required="Enter the number families may phone")
        ]
    )
    duty_phone = StringField(validators=[phone_number("the duty phone", "07700 900123", mobile=True)])

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.context.get("new") and not self.code.data:
            self.refuse("code", "Enter the team's code")
        ack, review = self.ack_target_minutes.data, self.review_target_minutes.data
        if isinstance(ack, int) and isinstance(review, int) and review < ack:
            self.refuse("review_target_minutes", "The target to review cannot be sooner than the target to acknowledge")
        return valid and not self.later_problems


class WardForm(PostedForm):
    """Read with `teams`: the codes of the site's teams a ward may be given."""

    code = StringField(validators=[lower_case_code])
    name = StringField(validators=[_name("ward's")])
    team = StringField(validators=[one_of(lambda form: form.context["teams"], "Choose the ward's outreach team")])
    beds = StringField(validators=[typed("The beds", 4000), bed_labels])
    nurse_in_charge_phone = StringField(
        validators=[phone_number("the nurse in charge's number", "020 7946 0300 or 07700 900300")]
    )


class WardEditForm(WardForm):
    """Read with `teams` and `code`, the ward's own code."""

    code = StringField(validators=[unchanged_code])


class RetireForm(PostedForm):
    """Read with `wards`: the codes of the open wards its patients may have moved to."""

    successor = StringField(
        validators=[
            one_of(
                lambda form: [*form.context["wards"], NO_SUCCESSOR],
                "Choose the ward its patients moved to, or that there is none",
            )
        ]
    )

"""The improvement charts page's forms (docs/architecture.md#improvement-charts): a change recorded, a baseline
fixed, and the site a removal is for. Each names what is wrong in plain English, by the field's HTML name; a
month is a month number and a four-digit year, and one that is not a real month is a problem on the form, never
an error page. Whether the month may be chosen (not in the future) is the service's to say."""

from __future__ import annotations

from datetime import date

from wtforms import Field, HiddenField, StringField
from wtforms.validators import StopValidation

from tracker.models.improvement import DESCRIPTION_LIMIT
from tracker.numbers import database_id
from tracker.web.posted import PostedForm, raw, typed, whole_number


def _year(label: str):
    check = whole_number(label, 1000, 9999)

    def four_digits(form: PostedForm, field: Field) -> None:
        if len(raw(field)) != 4:
            raise StopValidation(f"{label} must be 4 digits, like 2025")
        check(form, field)

    return four_digits


def _ward(form: PostedForm, field: Field) -> None:
    """A ward of the site (`context["wards"]`, ids), or none."""
    value = raw(field)
    if not value:
        field.data = None
        raise StopValidation()
    ward_id = database_id(value)
    if ward_id is None or ward_id not in form.context.get("wards", ()):
        raise StopValidation("Choose a ward of this site, or no ward")
    field.data = ward_id


def _month(form: PostedForm, month: Field, year: Field) -> date | None:
    if month.errors or year.errors or month.data is None or year.data is None:
        return None
    return date(year.data, month.data, 1)


class SiteForm(PostedForm):
    site = HiddenField()  # the view finds it among the manager's sites, or answers 404


class ChangeForm(SiteForm):
    change_month = StringField(validators=[whole_number("The month", 1, 12)])
    change_year = StringField(validators=[_year("The year")])
    ward = StringField(validators=[_ward])
    description = StringField(
        validators=[typed("The description", DESCRIPTION_LIMIT, multiline=False, required="Describe the change")]
    )

    @property
    def month(self) -> date | None:
        return _month(self, self.change_month, self.change_year)


class BaselineForm(SiteForm):
    from_month = StringField(validators=[whole_number("The first month", 1, 12)])
    from_year = StringField(validators=[_year("The first month's year")])
    to_month = StringField(validators=[whole_number("The last month", 1, 12)])
    to_year = StringField(validators=[_year("The last month's year")])

    @property
    def start(self) -> date | None:
        return _month(self, self.from_month, self.from_year)

    @property
    def end(self) -> date | None:
        return _month(self, self.to_month, self.to_year)

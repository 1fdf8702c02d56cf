"""The Staff accounts pages' forms (docs/architecture.md#set-up): a new account, a move to another role or team,
a mobile, closing an account at once, covering a place on the rota, and the list's filters. Each is a `PostedForm`
(web/posted.py) read with the choices the person may make (`roles`, `teams`, `wards`, `sites`, `colleagues`: the
values the page offered), and gives the service plain values."""

from __future__ import annotations

from wtforms import Field, SelectMultipleField, StringField
from wtforms.validators import StopValidation

from tracker.models import Role
from tracker.services.people.accounts import Details
from tracker.services.people.leavers import AT_ONCE_REASONS
from tracker.services.people.staff import Filters
from tracker.web.posted import PostedForm, one_of, typed

FIRST_SIGN_IN = {
    "invitation": "An invitation link: they choose their own password",
    "password": "A one-time password: they must change it when they first sign in",
}
ACTIVE_CHOICES = {"yes": "Active", "no": "Deactivated", "all": "Active and deactivated"}


def _ids(message: str):
    """Ticked ids from the offered list (`teams` in the form's context); none ticked is an empty list."""

    def check(form: PostedForm, field: Field) -> None:
        chosen: list[int] = []
        for value in field.raw_data or ():
            if not value:
                continue
            if not value.isascii() or not value.isdigit() or value not in form.context["teams"]:
                raise StopValidation(message)
            if int(value) not in chosen:
                chosen.append(int(value))
        field.data = chosen

    return check


class DetailsForm(PostedForm):
    """A role and where it works: teams (outreach), a ward (ward staff) or a site (managers). Read with `roles`,
    `teams`, `wards` and `sites`: the values the page offered."""

    role = StringField(validators=[one_of(lambda form: form.context["roles"], "Choose their role")])
    teams = SelectMultipleField(validate_choice=False, validators=[_ids("Choose teams from the list")])
    ward = StringField(
        validators=[one_of(lambda form: form.context["wards"], "Choose a ward from the list", optional=True)]
    )
    site = StringField(
        validators=[one_of(lambda form: form.context["sites"], "Choose a site from the list", optional=True)]
    )

    def details(self) -> Details:
        self.checked()
        return Details(
            role=Role(self.role.data),
            team_ids=list(self.teams.data or []),
            ward_id=int(self.ward.data) if self.ward.data else None,
            site_id=int(self.site.data) if self.site.data else None,
        )


class NewAccountForm(DetailsForm):
    name = StringField(validators=[typed("Their name", 120, multiline=False, required="Enter their name")])
    email = StringField(
        validators=[typed("The email address", 254, multiline=False, required="Enter their email address")]
    )
    mobile = StringField(validators=[typed("The mobile number", 32, multiline=False)])
    first_sign_in = StringField(validators=[one_of(FIRST_SIGN_IN, "Choose how they will sign in the first time")])


class MobileForm(PostedForm):
    mobile = StringField(validators=[typed("The mobile number", 32, multiline=False)])


class AtOnceForm(PostedForm):
    reason = StringField(validators=[one_of(AT_ONCE_REASONS, "Choose why the account must be deactivated at once")])


class CoverForm(PostedForm):
    """Read with `colleagues`: the ids (as text) of who may cover. `action` is "cover" or "remove"."""

    action = StringField(validators=[one_of({"cover", "remove"}, "Choose whether to cover or remove this")])
    cover = StringField(
        validators=[one_of(lambda form: form.context["colleagues"], "Choose someone from the list", optional=True)]
    )

    def chosen(self) -> int | None:
        """Who covers; None to remove the person without cover."""
        self.checked()
        if self.action.data == "remove":
            return None
        if not self.cover.data:
            self.refuse("cover", "Choose who covers, or remove them without cover")
            self.checked()
        return int(self.cover.data)


class FiltersForm(PostedForm):
    """The list's filters, from the query string; anything not offered is ignored (no filter)."""

    role = StringField(validators=[one_of({r.value for r in Role}, "Not a role", optional=True)])
    site = StringField(validators=[one_of(lambda form: form.context["sites"], "Not a site", optional=True)])
    active = StringField(validators=[one_of(ACTIVE_CHOICES, "Not a choice", optional=True)])

    def filters(self) -> Filters:
        role = Role(self.role.data) if self.role.data and not self.role.errors else None
        site = int(self.site.data) if self.site.data and not self.site.errors else None
        active = self.active.data if self.active.data and not self.active.errors else "yes"
        return Filters(role=role, site_id=site, active={"yes": True, "no": False, "all": None}[active])


class TrustAccountForm(PostedForm):
    """The person's subject at the trust's sign-on provider (for Entra, their object id)."""

    subject = StringField(validators=[typed("Their subject (object id)", 255, multiline=False)])


class BreakGlassForm(PostedForm):
    on = StringField(validators=[one_of({"yes", "no"}, "Choose whether they are break-glass")])

"""The Displays page's form: which team a new display is for, and what it is called."""

from __future__ import annotations

from wtforms import StringField

from tracker.web.posted import PostedForm, one_of, typed


class NewDisplayForm(PostedForm):
    """Read with `teams`: the codes of the teams the manager may set up a display for."""

    team = StringField(validators=[one_of(lambda form: form.context["teams"], "Choose the team this display is for")])
    label = StringField(
        validators=[typed("The display's name", 80, multiline=False, required="Enter a name for this display")]
    )


class NewTabletForm(PostedForm):
    """Read with `wards`: the codes of the wards the manager may set up a tablet for."""

    ward = StringField(validators=[one_of(lambda form: form.context["wards"], "Choose the ward this tablet is for")])
    label = StringField(
        validators=[typed("The tablet's name", 80, multiline=False, required="Enter a name for this tablet")]
    )

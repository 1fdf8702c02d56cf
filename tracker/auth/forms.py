"""Sign-in and account forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from tracker.web.posted import PostedForm, whole_number


class SignInForm(FlaskForm):
    email = EmailField("Email address", validators=[DataRequired("Enter your email address"), Length(max=254)])
    # Pasting is allowed and nothing is truncated (ASVS 6.2.5, WCAG 3.3.8 accessible authentication).
    password = PasswordField("Password", validators=[DataRequired("Enter your password"), Length(max=1000)])


class CodeForm(FlaskForm):
    code = StringField(
        "Security code", validators=[DataRequired("Enter the 6-digit code from your authenticator app"), Length(max=20)]
    )


class PasswordForm(FlaskForm):
    current = PasswordField(
        "Current password", validators=[DataRequired("Enter your current password"), Length(max=1000)]
    )
    new = PasswordField("New password", validators=[DataRequired("Enter a new password"), Length(max=1000)])
    confirm = PasswordField(
        "New password again",
        validators=[
            DataRequired("Enter your new password again"),
            EqualTo("new", "The two new passwords do not match"),
        ],
    )


class InvitationForm(FlaskForm):
    """The first password of someone invited (the link is their proof; there is no current password)."""

    new = PasswordField("New password", validators=[DataRequired("Enter a password"), Length(max=1000)])
    confirm = PasswordField(
        "Password again",
        validators=[DataRequired("Enter your password again"), EqualTo("new", "The two passwords do not match")],
    )


class ConfirmForm(FlaskForm):
    """Signing in again within a session: the password, and the code where the person has one
    (checked by the view, which knows whether they do)."""

    password = PasswordField("Password", validators=[DataRequired("Enter your password"), Length(max=1000)])
    code = StringField("Security code", validators=[Length(max=20)])


class MobileForm(PostedForm):
    """The person's own mobile for alerts; empty removes it. The service checks it can get texts."""

    mobile = StringField()

    def number(self) -> str:
        return (self.mobile.data or "")[:40]


class OutageForm(PostedForm):
    """How long the sign-on outage switch keeps local sign-in on (docs/architecture.md#sign-on)."""

    hours = StringField(validators=[whole_number("The number of hours", 1, 12)])

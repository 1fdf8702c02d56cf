"""The invitation to a new staff account (docs/architecture.md#set-up): the link an administrator or manager was
shown once, opened by the person invited, who chooses their first password and then signs in as anyone does
(setting up an authenticator next where their role needs one). A link used twice, late or after it was cancelled
is refused with a plain page saying which; opening it uses nothing up (a link preview must not)."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for

from tracker.auth import bp
from tracker.auth.forms import InvitationForm
from tracker.db import begin_write, deferred_write
from tracker.extensions import db
from tracker.services.people import auth, invitations


def _refused(refused: invitations.InvitationRefused):
    db.session.rollback()
    return render_template("auth/invitation.html", refused=str(refused)), 404 if refused.why == "unknown" else 410


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@deferred_write
def invitation(token: str):
    """Choose a password with the invitation's link. The password is checked and hashed before the write
    begins; the link is used in the same transaction as the password is saved, once."""
    try:
        _row, user = invitations.usable(token)
    except invitations.InvitationRefused as refused:
        return _refused(refused)
    form = InvitationForm()
    status = 200
    if form.validate_on_submit():
        try:
            password_hash = invitations.new_password_hash(user, form.new.data)
        except auth.PasswordProblem as problem:
            form.new.errors.append(str(problem))
        else:
            begin_write()
            try:
                invitations.accept(token, password_hash)
            except invitations.InvitationRefused as refused:
                return _refused(refused)
            db.session.commit()
            flash("Your password is saved. Sign in with your email address and your new password.", "success")
            return redirect(url_for(".sign_in"))
        status = 400
    elif form.is_submitted():
        status = 400
    errors = [{"text": message, "href": f"#{field.id}"} for field in form for message in field.errors]
    return render_template("auth/invitation.html", form=form, errors=errors, user=user), status

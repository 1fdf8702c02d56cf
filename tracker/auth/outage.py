"""The sign-on outage switch's page (docs/architecture.md#sign-on): a break-glass administrator turns local
sign-in back on for everyone for up to 12 hours while the trust's sign-in is down; services/people/sign_on_outage.py
holds the rules."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from tracker.auth import bp
from tracker.auth.forms import OutageForm
from tracker.extensions import db
from tracker.models import User
from tracker.problems import FieldProblem, Problem
from tracker.services.paging import warnings as staff_warnings
from tracker.services.people import sign_on, sign_on_outage
from tracker.services.scope import Permission
from tracker.web.authorisation import requires
from tracker.web.refusals import shown


def _configured() -> None:
    if not sign_on.configured():
        abort(404)


def _outage_page(user: User, problem: FieldProblem | None = None, status: int = 200):
    return render_template(
        "auth/sign_on_outage.html",
        outage=sign_on_outage.current(),
        may_switch=sign_on_outage.may_switch(user),
        max_hours=sign_on_outage.MAX_HOURS,
        problem=problem,
    ), status


@bp.get("/sign-on-outage")
@requires(Permission.SWITCH_SIGN_ON)
def sign_on_outage_page():
    _configured()
    return _outage_page(current_user.user)


@bp.post("/sign-on-outage")
@requires(Permission.SWITCH_SIGN_ON)
def start_sign_on_outage():
    """Turn local sign-in on for everyone for up to 12 hours: a break-glass administrator, signed in recently."""
    _configured()
    user = current_user.user
    if not sign_on_outage.may_switch(user):
        abort(403)
    if not current_user.live.fresh:
        return redirect(url_for(".confirm", next=url_for(".sign_on_outage_page")))
    try:
        sign_on_outage.start(user, OutageForm.read().checked().hours.data)
    except Problem as problem:
        return shown(problem, lambda refused: _outage_page(user, refused, 400))
    db.session.commit()
    staff_warnings.forget()
    flash(
        "Local sign-in is on for everyone until the time shown. Turn it off once the trust's sign-in works.", "success"
    )
    return redirect(url_for(".sign_on_outage_page"))


@bp.post("/sign-on-outage/end")
@requires(Permission.SWITCH_SIGN_ON)
def end_sign_on_outage():
    _configured()
    user = current_user.user
    if not sign_on_outage.may_switch(user):
        abort(403)
    ended = sign_on_outage.end(user)
    db.session.commit()
    staff_warnings.forget()
    flash("Local sign-in is off again." if ended else "Local sign-in was not on.", "success")
    return redirect(url_for(".sign_on_outage_page"))

"""Signing in with the trust's own account (OpenID Connect, docs/architecture.md#sign-on): there to the
provider and back, linking one's own account, the page after signing out, and the sign-on outage switch. The
protocol and the rules are in services/people/sign_on*.py; these views only carry the browser."""

from __future__ import annotations

import time

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user

from tracker.auth import bp
from tracker.auth.finishing import finish_sign_in, home
from tracker.auth.forms import OutageForm
from tracker.db import begin_write, deferred_write
from tracker.extensions import db
from tracker.models import User
from tracker.problems import FieldProblem, Problem
from tracker.services.paging import warnings as staff_warnings
from tracker.services.people import sign_on, sign_on_accounts, sign_on_outage
from tracker.services.records import audit
from tracker.services.scope import Permission
from tracker.web.authorisation import requires, safe_next, setup_pending, signed_in_required
from tracker.web.refusals import shown

STATE_KEY = "sign_on_state"


def _callback_url() -> str:
    """The address registered with the provider: PUBLIC_BASE_URL's, whatever Host this request named."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + url_for(".sign_on_callback")


def _configured() -> None:
    if not sign_on.configured():
        abort(404)


def _refused(problem: sign_on.SignOnFailed | sign_on_accounts.Refused, user_id: int | None = None):
    """The plain page saying why, and whom to ask; the reason is audited as a code."""
    begin_write()
    audit.record(
        "sign_on_refused",
        audit.Actor.public() if user_id is None else audit.Actor.user(user_id),
        object_type="user" if user_id is not None else None,
        object_id=user_id,
        changes={"reason": problem.reason[:60]},
    )
    db.session.commit()
    status = 503 if isinstance(problem, sign_on.ProviderUnreachable) else 403
    return render_template(
        "auth/sign_on_refused.html", message=str(problem), contact=sign_on_accounts.help_contact()
    ), status


@bp.get("/sign-on")
@deferred_write
def sign_on_start():
    """Off to the provider to sign in ("Sign in with your trust account")."""
    _configured()
    next_url = request.args.get("next")
    if current_user.is_authenticated and not setup_pending():
        return redirect(safe_next(next_url, home(current_user.user)))
    try:
        url, state = sign_on.begin("sign_in", _callback_url(), next_path=safe_next(next_url, "") or None)
    except sign_on.SignOnFailed as failed:
        return _refused(failed)
    db.session.commit()
    session[STATE_KEY] = state
    return redirect(url)


@bp.get("/sign-on/callback")
@deferred_write
def sign_on_callback():
    """The provider's answer: used once, verified, then the person signed in (or their account linked)."""
    _configured()
    signed_in = current_user.user.id if current_user.is_authenticated else None
    expected = session.pop(STATE_KEY, None)
    try:
        trip = sign_on.claim(request.args.get("state"), expected)
        db.session.commit()  # used up before the provider is asked anything: a replay finds it used
        identity = sign_on.verify_answer(trip, request.args.get("code"), request.args.get("error"), _callback_url())
    except sign_on.SignOnFailed as failed:
        return _refused(failed, signed_in)
    begin_write()
    if trip.purpose == "link":
        return _linked(trip, identity, signed_in)
    try:
        user = sign_on_accounts.account_for(identity)
    except sign_on_accounts.Refused as refused:
        return _refused(refused)
    if sign_on_accounts.needs_code_after_sign_on(user) and user.totp_secret:
        db.session.commit()
        session["pending_sign_in"] = {"user_id": user.id, "at": time.time(), "next": trip.next_path, "sign_on": True}
        return redirect(url_for(".sign_in_code"))
    return finish_sign_in(user, trip.next_path, sign_on=True)


def _linked(trip: sign_on.Trip, identity: sign_on.Identity, signed_in: int | None):
    """The end of "Link your trust account": only for the person who started it, still signed in locally."""
    if signed_in is None or signed_in != trip.user_id or current_user.live.record.sign_on:
        return _refused(sign_on.SignOnFailed("link_session", "Sign in again, then link your trust account."))
    user = current_user.user
    try:
        sign_on_accounts.link(user, identity, audit.Actor.user(user.id))
    except sign_on_accounts.LinkProblem as problem:
        db.session.rollback()
        flash(str(problem), "warning")
        return redirect(url_for(".account"))
    db.session.commit()
    flash(
        "Your trust account is linked. From now on, sign in with “Sign in with your trust account”: "
        "your password here no longer signs you in.",
        "success",
    )
    return redirect(url_for(".account"))


@bp.post("/sign-on/link")
@signed_in_required
@deferred_write
def link_trust_account():
    """Link one's own trust account: only while signed in here with password and a code from the
    authenticator in the last few minutes (no self-enrolment, and no session alone can do it)."""
    _configured()
    user, live = current_user.user, current_user.live
    if live.record.sign_on or not user.totp_secret:
        flash(
            "To link your trust account, sign in with your password and a code from your authenticator app.", "warning"
        )
        return redirect(url_for(".account"))
    if not live.fresh_code:
        flash("To link your trust account, first confirm it is you with your password and a code.", "information")
        return redirect(url_for(".confirm", next=url_for(".account")))
    try:
        url, state = sign_on.begin("link", _callback_url(), user_id=user.id, next_path=url_for(".account"))
    except sign_on.SignOnFailed as failed:
        flash(str(failed), "warning")
        return redirect(url_for(".account"))
    db.session.commit()
    session[STATE_KEY] = state
    return redirect(url)


@bp.get("/signed-out")
def signed_out():
    """After signing out of a session that the trust's account signed in: the tracker's session has ended, and
    the provider's own sign-out is offered (a shared ward computer stays signed in to the trust's account)."""
    return render_template(
        "auth/signed_out.html", end_session_url=sign_on.end_session_url(url_for(".sign_in", _external=True))
    )


# --- the sign-on outage switch --------------------------------------------------------------------


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

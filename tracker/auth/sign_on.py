"""Signing in with the trust's own account (OpenID Connect, docs/architecture.md#sign-on): there to the
provider and back, linking one's own account, the page after signing out, and the sign-on outage switch. The
protocol and the rules are in services/people/sign_on*.py; these views only carry the browser."""

from __future__ import annotations

import time

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user

from tracker.auth import bp, devices
from tracker.auth.finishing import (
    CODE_ERROR,
    confirm_needs_code,
    error_list,
    finish_sign_in,
    home,
    slowed,
    wait_message,
)
from tracker.auth.forms import CodeForm
from tracker.clock import utcnow
from tracker.db import begin_write, deferred_write
from tracker.extensions import db
from tracker.services.people import auth, sign_on, sign_on_accounts
from tracker.services.records import audit
from tracker.web.authorisation import safe_next, setup_pending, signed_in_required

STATE_KEY = "sign_on_state"
# "Confirm it is you" in a session the trust's account started: the provider asks again, after a code here or not.
CONFIRMING = {"confirm": False, "confirm_code": True}


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
    if trip.purpose in CONFIRMING:
        return _confirmed(trip, identity, signed_in)
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


def _own_session(trip: sign_on.Trip, signed_in: int | None) -> bool:
    return signed_in is not None and signed_in == trip.user_id and current_user.live.record.sign_on


@bp.post("/sign-on/confirm")
@signed_in_required
@deferred_write
def confirm_with_sign_on():
    """Confirm it is you (exports, changing the authenticator) in a session the trust's account started: a code
    from the authenticator where the person has one (unless the provider enforces MFA), then the provider asks
    for the trust account again (`prompt=login`)."""
    _configured()
    user, live = current_user.user, current_user.live
    next_url = safe_next(request.values.get("next"), home(user))
    if not live.record.sign_on:
        return redirect(url_for(".confirm", next=next_url))
    with_code = confirm_needs_code(user)
    if with_code:
        form = CodeForm()
        try:
            right = form.validate_on_submit() and auth.check_code(
                user, form.code.data, devices.known_devices().get(user.id)
            )
        except auth.Throttled as throttled:
            form.code.errors.append(wait_message(throttled))
            return slowed("auth/confirm.html", throttled, form=form, errors=error_list(form), **_context(next_url))
        if not right:
            db.session.commit()  # the failure's audit row
            form.code.errors.append(CODE_ERROR)
            return render_template("auth/confirm.html", form=form, errors=error_list(form), **_context(next_url)), 400
    try:
        url, state = sign_on.begin(
            "confirm_code" if with_code else "confirm",
            _callback_url(),
            user_id=user.id,
            next_path=next_url,
            prompt="login",
        )
    except sign_on.SignOnFailed as failed:
        return _refused(failed, user.id)
    db.session.commit()
    session[STATE_KEY] = state
    return redirect(url)


def _context(next_url: str) -> dict:
    return {"with_code": True, "next": next_url, "via_sign_on": True}


def _confirmed(trip: sign_on.Trip, identity: sign_on.Identity, signed_in: int | None):
    """The end of "Confirm it is you": the same person, in the same session, signed in again at the provider."""
    link = sign_on_accounts.link_of(current_user.user) if signed_in is not None else None
    if (
        not _own_session(trip, signed_in)
        or link is None
        or (link.issuer, link.subject) != (identity.issuer, identity.subject)
    ):
        return _refused(
            sign_on.SignOnFailed("confirm_other", "That was not your trust account. Start again."), signed_in
        )
    record = current_user.live.record
    record.authenticated_at = utcnow()
    with_code = CONFIRMING[trip.purpose]
    record.mfa_at = record.authenticated_at if with_code else record.mfa_at
    audit.record(
        "sign_in_confirmed",
        audit.Actor.user(record.user_id),
        object_type="session",
        object_id=record.id,
        changes={"mfa": with_code, "sign_on": True},
    )
    db.session.commit()
    return redirect(trip.next_path or home(current_user.user))

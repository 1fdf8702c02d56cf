"""Sign in (password, then a code where a second factor is required), sign out, change password,
set up the authenticator, and the session clock the staff pages use."""

from __future__ import annotations

import time

import segno
from flask import flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user, logout_user

from tracker.auth import bp, devices
from tracker.auth.finishing import (
    CODE_ERROR,
    account_sign_on,
    confirm_needs_code,
    error_list,
    finish_sign_in,
    home,
    sign_on_choices,
    slowed,
    wait_message,
)
from tracker.auth.forms import CodeForm, ConfirmForm, MobileForm, PasswordForm, SignInForm
from tracker.clock import utcnow
from tracker.db import deferred_write
from tracker.extensions import db
from tracker.models import User
from tracker.problems import Problem
from tracker.services import scope
from tracker.services.paging import warnings as staff_warnings
from tracker.services.people import auth, sessions, users
from tracker.web import enrolment
from tracker.web.authorisation import safe_next, setup_pending, signed_in_required
from tracker.web.refusals import shown

PENDING_SIGN_IN_SECONDS = 300
SIGN_ON_ONLY = "Your account signs in with your trust account: use “Sign in with your trust account”"


@bp.route("/sign-in", methods=["GET", "POST"])
@deferred_write
def sign_in():
    next_url = request.values.get("next")
    if current_user.is_authenticated and not setup_pending():
        return redirect(safe_next(next_url, home(current_user.user)))
    form = SignInForm()
    status = 200
    if form.validate_on_submit():
        try:
            check = auth.check_password(
                form.email.data, form.password.data, request.remote_addr, devices.known_devices()
            )
        except auth.Throttled as throttled:
            form.email.errors.append(wait_message(throttled))
            return slowed("auth/sign_in.html", throttled, form=form, errors=error_list(form), next=next_url)
        db.session.commit()
        if check.ok:
            user = check.user
            assert user is not None  # that is what ok means
            if sessions.needs_mfa(user) and user.totp_secret:
                session["pending_sign_in"] = {"user_id": user.id, "at": time.time(), "next": next_url}
                return redirect(url_for(".sign_in_code"))
            return finish_sign_in(user, next_url)
        form.email.errors.append(SIGN_ON_ONLY if check.sign_on_only else "Enter a correct email address and password")
        status = 400
    elif request.method == "POST":
        status = 400
    return (
        render_template(
            "auth/sign_in.html",
            form=form,
            errors=error_list(form),
            next=next_url,
            on_display=enrolment.waiting_on_display(),
            **sign_on_choices(),
        ),
        status,
    )


@bp.route("/sign-in/code", methods=["GET", "POST"])
@deferred_write
def sign_in_code():
    pending = session.get("pending_sign_in")
    if not pending or time.time() - pending.get("at", 0) > PENDING_SIGN_IN_SECONDS:
        session.pop("pending_sign_in", None)
        flash("Sign in again: the security code step timed out.", "information")
        return redirect(url_for(".sign_in"))
    user = db.session.get_one(User, pending["user_id"])  # accounts are never deleted, only made inactive
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        try:
            right = user.active and auth.check_code(user, form.code.data, devices.known_devices().get(user.id))
        except auth.Throttled as throttled:
            form.code.errors.append(wait_message(throttled))
            return slowed("auth/code.html", throttled, form=form, errors=error_list(form))
        if right:
            session.pop("pending_sign_in", None)
            return finish_sign_in(user, pending.get("next"), with_code=True, sign_on=bool(pending.get("sign_on")))
        db.session.commit()
        form.code.errors.append(CODE_ERROR)
        status = 400
    elif request.method == "POST":
        status = 400
    return render_template("auth/code.html", form=form, errors=error_list(form)), status


@bp.get("/sign-out")
@signed_in_required
def sign_out_confirm():
    return render_template("auth/sign_out.html")


def _signed_out(message: str):
    via_sign_on = current_user.live.record.sign_on
    logout_user()
    session.clear()
    flash(message, "success")
    # Signed in by the trust's account: offer the provider's own sign-out too (docs/architecture.md#sign-on).
    response = redirect(url_for(".signed_out" if via_sign_on else ".sign_in"))
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


@bp.post("/sign-out")
@signed_in_required
def sign_out():
    sessions.end_session(current_user.live)
    db.session.commit()
    return _signed_out("You have signed out.")


@bp.post("/sign-out-everywhere")
@signed_in_required
def sign_out_everywhere():
    sessions.end_all_sessions(
        current_user.user, "signed_out_everywhere", actor=auth.audit.Actor.user(current_user.user.id)
    )
    db.session.commit()
    return _signed_out("You have signed out on every device.")


@bp.route("/password", methods=["GET", "POST"])
@signed_in_required
@deferred_write
def change_password():
    form = PasswordForm()
    user = current_user.user
    status = 200
    if form.validate_on_submit():
        try:
            wrong = auth.reauthenticate(
                user, form.current.data, None, request.remote_addr, devices.known_devices().get(user.id)
            )
        except auth.Throttled as throttled:
            form.current.errors.append(wait_message(throttled))
            return slowed(
                "auth/password.html",
                throttled,
                form=form,
                errors=error_list(form),
                first_time=user.must_change_password,
            )
        if wrong:
            db.session.commit()  # the failure's audit row
            form.current.errors.append("Your current password is not right")
        else:
            try:
                auth.change_password(user, form.new.data, keep=current_user.live.record)
                db.session.commit()
                flash("Your password has been changed. You have been signed out on your other devices.", "success")
                return redirect(
                    url_for(setup_pending() or scope.home_endpoint(user))
                    if setup_pending()
                    else safe_next(session.pop("after_setup", None), home(user))
                )
            except auth.PasswordProblem as problem:
                form.new.errors.append(str(problem))
        status = 400
    elif request.method == "POST":
        status = 400
    return render_template(
        "auth/password.html", form=form, errors=error_list(form), first_time=user.must_change_password
    ), status


def _fresh_code_needed(next_path: str):
    flash(
        "To change your authenticator app, sign in again with your password and a code from the app you "
        "use now. If you have lost it, ask an administrator to reset it.",
        "information",
    )
    return redirect(url_for(".confirm", next=next_path))


@bp.route("/mfa", methods=["GET", "POST"])
@signed_in_required
def enrol_mfa():
    """Set up an authenticator, or replace one: replacing needs a code from the current one in the
    last few minutes (a signed-in session alone must not be able to swap it)."""
    user = current_user.user
    replacing = user.totp_secret is not None
    if replacing and not current_user.live.fresh_code:
        return _fresh_code_needed(url_for(".enrol_mfa"))
    secret = session.get("mfa_secret") or auth.new_totp_secret()
    session["mfa_secret"] = secret
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        if auth.enrol_totp(user, secret, form.code.data, session=current_user.live.record):
            session.pop("mfa_secret", None)
            db.session.commit()
            flash(
                "Your new authenticator app is set up. You have been signed out on your other devices."
                if replacing
                else "Your authenticator app is set up. You will need a code from it each time you sign in.",
                "success",
            )
            return redirect(safe_next(session.pop("after_setup", None), home(user)))
        form.code.errors.append("That code is not right. Check the app shows this account, then try the current code")
        status = 400
    elif request.method == "POST":
        status = 400
    uri = auth.totp_uri(user, secret)
    qr = segno.make(uri, error="m").svg_inline(scale=5, title="QR code for your authenticator app")
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    return render_template(
        "auth/mfa.html", form=form, errors=error_list(form), qr=qr, secret=grouped, replacing=replacing
    ), status


@bp.post("/mfa/remove")
@signed_in_required
def remove_mfa():
    """Remove one's own authenticator (roles that need one cannot): a fresh code first."""
    user = current_user.user
    if not current_user.live.fresh_code:
        return _fresh_code_needed(url_for(".account"))
    try:
        auth.remove_totp(user, session=current_user.live.record)
    except auth.AuthenticatorProblem as problem:
        return _render_account(user, mfa_problem=str(problem)), 400
    db.session.commit()
    flash("Your authenticator app has been removed. You have been signed out on your other devices.", "success")
    return redirect(url_for(".account"))


@bp.post("/keepalive")
@signed_in_required
def keepalive():
    """ "Stay signed in": the person pressed the button (or is typing)."""
    sessions.extend(current_user.live)
    db.session.commit()
    return jsonify(signed_in=True, idle_expires_at=current_user.live.idle_expires_at.isoformat())


@bp.get("/session")
@signed_in_required
def session_status():
    """The session clock, for the staff pages' warning; asking does not count as activity."""
    return jsonify(
        signed_in=True,
        idle_expires_at=current_user.live.idle_expires_at.isoformat(),
        warning_seconds=int(sessions.IDLE_WARNING.total_seconds()),
    )


def _render_account(user: User, **problems):
    return render_template(
        "auth/account.html",
        sessions=sessions.active_sessions(user),
        current_id=current_user.live.record.id,
        needs_mfa=sessions.needs_mfa(user),
        **account_sign_on(user),
        **problems,
    )


@bp.get("/account")
@signed_in_required
def account():
    return _render_account(current_user.user)


@bp.post("/sign-out-others")
@signed_in_required
def sign_out_others():
    count = sessions.end_all_sessions(
        current_user.user,
        "signed_out_elsewhere",
        actor=auth.audit.Actor.user(current_user.user.id),
        keep=current_user.live.record,
    )
    db.session.commit()
    flash(f"Signed out on {count} other device{'s' if count != 1 else ''}.", "success")
    return redirect(url_for(".account"))


@bp.route("/confirm", methods=["GET", "POST"])
@signed_in_required
@deferred_write
def confirm():
    """Sign in again within the session, for what needs a recent sign-in (exports, changing the
    authenticator): the password, and a code whenever the person has an authenticator. Slowed as
    sign-in is; failures and the confirmation are audited."""
    user = current_user.user
    next_url = safe_next(request.values.get("next"), home(user))
    with_code = bool(user.totp_secret)
    form = ConfirmForm()
    status = 200
    via_sign_on = current_user.live.record.sign_on  # the trust's account is asked again (auth/sign_on.py)
    context = {
        "with_code": confirm_needs_code(user) if via_sign_on else with_code,
        "next": next_url,
        "via_sign_on": via_sign_on,
    }
    if form.validate_on_submit() and not via_sign_on:
        try:
            wrong = auth.reauthenticate(
                user,
                form.password.data,
                (form.code.data or "") if with_code else None,
                request.remote_addr,
                devices.known_devices().get(user.id),
            )
        except auth.Throttled as throttled:
            form.password.errors.append(wait_message(throttled))
            return slowed("auth/confirm.html", throttled, form=form, errors=error_list(form), **context)
        if wrong == "password":
            form.password.errors.append("Enter your correct password")
            status = 400
        elif wrong == "code":
            form.code.errors.append(CODE_ERROR)
            status = 400
        else:
            record = current_user.live.record
            record.authenticated_at = utcnow()
            record.mfa_at = record.authenticated_at if with_code else record.mfa_at
            auth.audit.record(
                "sign_in_confirmed",
                auth.audit.Actor.user(user.id),
                object_type="session",
                object_id=record.id,
                changes={"mfa": with_code},
            )
            db.session.commit()
            return redirect(next_url)
        db.session.commit()  # the failure's audit row
    elif request.method == "POST":
        status = 400
    return render_template("auth/confirm.html", form=form, errors=error_list(form), **context), status


@bp.post("/mobile")
@signed_in_required
def change_mobile():
    """The person's own mobile, where on-call alerts go. Empty removes it."""
    user = current_user.user
    typed = MobileForm.read().number()
    try:
        users.set_mobile(user, typed, auth.audit.Actor.user(user.id))
    except Problem as refused:
        return shown(
            refused, lambda problem: (_render_account(user, mobile_problem=str(problem), typed_mobile=typed), 400)
        )
    db.session.commit()
    staff_warnings.forget()
    flash("Mobile number saved." if user.mobile else "Mobile number removed: you will get no text alerts.", "success")
    return redirect(url_for(".account"))

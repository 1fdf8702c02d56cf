"""Sign in (password, then a code where a second factor is required), sign out, change password,
set up the authenticator, and the session clock the staff pages use."""

from __future__ import annotations

import time

import segno
from flask import flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from tracker.auth import bp
from tracker.auth.decorators import HOME, SignedIn, safe_next, setup_pending, signed_in_required
from tracker.auth.forms import CodeForm, ConfirmForm, PasswordForm, SignInForm
from tracker.clock import utcnow
from tracker.extensions import db
from tracker.models import User
from tracker.services import abuse, auth, staff_warnings, users
from tracker.services.passwords import verify_password

PENDING_SIGN_IN_SECONDS = 300


def _home(user: User) -> str:
    return url_for(HOME[user.role])


def _finish_sign_in(user: User, next_url: str | None):
    """Start a new session (a new cookie: the old one is discarded, so no fixation)."""
    kept = session.get("saved_form")
    session.clear()
    if kept:
        session["saved_form"] = kept
    token, record = auth.start_session(user, user_agent=request.user_agent.string, address=request.remote_addr)
    db.session.commit()
    login_user(SignedIn(auth.LiveSession(record, user), token))
    pending = setup_pending()
    if pending:
        if next_url:
            session["after_setup"] = next_url
        return redirect(url_for(pending))
    return redirect(safe_next(next_url, _home(user)))


def _error_list(form) -> list[dict]:
    return [{"text": message, "href": f"#{field.id}"} for field in form for message in field.errors]


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    next_url = request.values.get("next")
    if current_user.is_authenticated and not setup_pending():
        return redirect(safe_next(next_url, _home(current_user.user)))
    form = SignInForm()
    status = 200
    if form.validate_on_submit():
        try:
            check = auth.check_password(form.email.data, form.password.data, request.remote_addr)
        except auth.Throttled:
            db.session.commit()
            form.email.errors.append("Too many attempts to sign in. Wait 10 minutes and try again, or ask an "
                                     "administrator to reset your password.")
            return render_template("auth/sign_in.html", form=form, errors=_error_list(form), next=next_url), 429
        db.session.commit()
        if check.ok:
            user = check.user
            if auth.needs_mfa(user) and user.totp_secret:
                session["pending_sign_in"] = {"user_id": user.id, "at": time.time(), "next": next_url}
                return redirect(url_for(".sign_in_code"))
            return _finish_sign_in(user, next_url)
        form.email.errors.append("Enter a correct email address and password")
        status = 400
    elif request.method == "POST":
        status = 400
    return render_template("auth/sign_in.html", form=form, errors=_error_list(form), next=next_url), status


@bp.route("/sign-in/code", methods=["GET", "POST"])
def sign_in_code():
    pending = session.get("pending_sign_in")
    if not pending or time.time() - pending.get("at", 0) > PENDING_SIGN_IN_SECONDS:
        session.pop("pending_sign_in", None)
        flash("Sign in again: the security code step timed out.", "information")
        return redirect(url_for(".sign_in"))
    user = db.session.get(User, pending["user_id"])
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        within = abuse.hit(auth.ACCOUNT_LIMIT, "sign-in-code", str(user.id)).within_limit
        if within and user.active and auth.check_totp(user, form.code.data):
            session.pop("pending_sign_in", None)
            return _finish_sign_in(user, pending.get("next"))
        db.session.commit()
        form.code.errors.append("Enter the current 6-digit code from your authenticator app" if within else
                                "Too many wrong codes. Wait 10 minutes and try again.")
        status = 400 if within else 429
    elif request.method == "POST":
        status = 400
    return render_template("auth/code.html", form=form, errors=_error_list(form)), status


@bp.get("/sign-out")
@signed_in_required
def sign_out_confirm():
    return render_template("auth/sign_out.html")


def _signed_out(message: str):
    logout_user()
    session.clear()
    flash(message, "success")
    response = redirect(url_for(".sign_in"))
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


@bp.post("/sign-out")
@signed_in_required
def sign_out():
    auth.end_session(current_user.live)
    db.session.commit()
    return _signed_out("You have signed out.")


@bp.post("/sign-out-everywhere")
@signed_in_required
def sign_out_everywhere():
    auth.end_all_sessions(current_user.user, "signed_out_everywhere", actor=auth.audit.Actor.user(current_user.user.id))
    db.session.commit()
    return _signed_out("You have signed out on every device.")


@bp.route("/password", methods=["GET", "POST"])
@signed_in_required
def change_password():
    form = PasswordForm()
    user = current_user.user
    status = 200
    if form.validate_on_submit():
        if not verify_password(user.password_hash, form.current.data):
            form.current.errors.append("Your current password is not right")
        else:
            try:
                auth.change_password(user, form.new.data, keep=current_user.live.record)
                db.session.commit()
                flash("Your password has been changed. You have been signed out on your other devices.", "success")
                return redirect(url_for(setup_pending() or HOME[user.role]) if setup_pending()
                                else safe_next(session.pop("after_setup", None), _home(user)))
            except auth.PasswordProblem as problem:
                form.new.errors.append(str(problem))
        status = 400
    elif request.method == "POST":
        status = 400
    return render_template("auth/password.html", form=form, errors=_error_list(form),
                           first_time=user.must_change_password), status


@bp.route("/mfa", methods=["GET", "POST"])
@signed_in_required
def enrol_mfa():
    user = current_user.user
    if user.must_change_password:
        return redirect(url_for(".change_password"))
    secret = session.get("mfa_secret") or auth.new_totp_secret()
    session["mfa_secret"] = secret
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        if auth.enrol_totp(user, secret, form.code.data):
            session.pop("mfa_secret", None)
            db.session.commit()
            flash("Your authenticator app is set up. You will need a code from it each time you sign in.", "success")
            return redirect(safe_next(session.pop("after_setup", None), _home(user)))
        form.code.errors.append("That code is not right. Check the app shows this account, then try the current code")
        status = 400
    elif request.method == "POST":
        status = 400
    uri = auth.totp_uri(user, secret)
    qr = segno.make(uri, error="m").svg_inline(scale=5, title="QR code for your authenticator app")
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    return render_template("auth/mfa.html", form=form, errors=_error_list(form), qr=qr, secret=grouped), status


@bp.post("/keepalive")
@signed_in_required
def keepalive():
    """"Stay signed in": the person pressed the button (or is typing)."""
    auth.extend(current_user.live)
    db.session.commit()
    return jsonify(signed_in=True, idle_expires_at=current_user.live.idle_expires_at.isoformat())


@bp.get("/session")
@signed_in_required
def session_status():
    """The session clock, for the staff pages' warning; asking does not count as activity."""
    return jsonify(signed_in=True, idle_expires_at=current_user.live.idle_expires_at.isoformat(),
                   warning_seconds=int(auth.IDLE_WARNING.total_seconds()))


@bp.get("/account")
@signed_in_required
def account():
    return render_template("auth/account.html", sessions=auth.active_sessions(current_user.user),
                           current_id=current_user.live.record.id)


@bp.post("/sign-out-others")
@signed_in_required
def sign_out_others():
    count = auth.end_all_sessions(current_user.user, "signed_out_elsewhere",
                                  actor=auth.audit.Actor.user(current_user.user.id), keep=current_user.live.record)
    db.session.commit()
    flash(f"Signed out on {count} other device{'s' if count != 1 else ''}.", "success")
    return redirect(url_for(".account"))


@bp.route("/confirm", methods=["GET", "POST"])
@signed_in_required
def confirm():
    """Sign in again within the session, for pages that need a recent sign-in (exports, design
    §7): the password, and the code when the person has an authenticator. Throttled as sign-in
    is (the same per-account and per-address counts); failures and the confirmation are audited."""
    user = current_user.user
    next_url = safe_next(request.values.get("next"), _home(user))
    with_code = bool(user.totp_secret) and auth.needs_mfa(user)
    form = ConfirmForm()
    status = 200
    if form.validate_on_submit():
        try:
            check = auth.check_password(user.email, form.password.data, request.remote_addr)
        except auth.Throttled:
            db.session.commit()
            form.password.errors.append("Too many attempts. Wait 10 minutes and try again.")
            return render_template("auth/confirm.html", form=form, errors=_error_list(form), with_code=with_code,
                                   next=next_url), 429
        if not check.ok or check.user.id != user.id:
            form.password.errors.append("Enter your correct password")
            status = 400
        elif with_code and not auth.check_totp(user, form.code.data or ""):
            form.code.errors.append("Enter the current 6-digit code from your authenticator app")
            status = 400
        else:
            current_user.live.record.authenticated_at = utcnow()
            auth.audit.record("sign_in_confirmed", auth.audit.Actor.user(user.id), object_type="session",
                              object_id=current_user.live.record.id, changes={"mfa": with_code})
            db.session.commit()
            return redirect(next_url)
        db.session.commit()  # the failure's audit row
    elif request.method == "POST":
        status = 400
    return render_template("auth/confirm.html", form=form, errors=_error_list(form), with_code=with_code,
                           next=next_url), status


@bp.post("/mobile")
@signed_in_required
def change_mobile():
    """The person's own mobile, where on-call alerts go. Empty removes it."""
    user = current_user.user
    try:
        users.set_mobile(user, request.form.get("mobile", "")[:40], auth.audit.Actor.user(user.id))
    except users.MobileProblem as problem:
        db.session.rollback()
        return render_template("auth/account.html", sessions=auth.active_sessions(user),
                               current_id=current_user.live.record.id, mobile_problem=str(problem),
                               typed_mobile=request.form.get("mobile", "")[:40]), 400
    db.session.commit()
    staff_warnings.forget()
    flash("Mobile number saved." if user.mobile else "Mobile number removed: you will get no text alerts.", "success")
    return redirect(url_for(".account"))

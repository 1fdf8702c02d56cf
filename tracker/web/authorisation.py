"""Authorisation, declared on each staff view with `requires(Permission)` (docs/architecture.md#access).

Roles are read from the database on every request (through the session registry), so a change
takes effect at once. Anonymous people are sent to sign in; a signed-in person whose role may not
use a page gets 403; objects outside their scope are the views' 404s."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import abort, current_app, flash, g, redirect, request, session, url_for
from flask_login import UserMixin, current_user

from tracker.extensions import db, login_manager
from tracker.services import scope
from tracker.services.people import saved_forms, sessions
from tracker.services.scope import Permission

# Requests the page makes by itself (the queue's and the ward list's refreshes, the rota test's results, the
# session clock): not the person's activity, so they never keep an idle session alive.
PASSIVE_ENDPOINTS = frozenset(
    {"triage.queue_rows", "triage.ward_rows", "oncall.test_result_rows", "auth.session_status"}
)
# Forms whose typed text is given back after a re-sign-in (on the call's page). Nothing typed
# anywhere else is kept: above all not the password and code forms.
RESTORES_TYPED_TEXT = frozenset(
    f"triage.{action}"
    for action in (
        "add_note",
        "update_caller",
        "release",
        "hand_over",
        "set_priority",
        "record_review",
        "close",
        "close_without_review",
        "cancel",
        "reopen",
    )
)
# Why a session was ended by someone else (the Staff accounts page), said to its owner at their next request.
ENDED_BY_SOMEONE_ELSE = {
    "account_disabled": "Your account has been deactivated, so you cannot sign in. If this is wrong, ask an "
    "administrator.",
    "account_changed": "Your role or team has been changed, so you were signed out. Sign in again.",
}
# What a session that has not finished setting up (a one-time password, a missing
# authenticator) may still do besides that set-up: sign out, and let the page's clock tick.
ALLOWED_DURING_SETUP = frozenset(
    {"auth.sign_out", "auth.sign_out_confirm", "auth.sign_out_everywhere", "auth.session_status", "auth.keepalive"}
)


class SignedIn(UserMixin):
    """The signed-in person for this request. `get_id()` is the session token, so Flask-Login's
    cookie names a revocable server-side session, never the user directly."""

    def __init__(self, live: sessions.LiveSession, token: str):
        self.live = live
        self.user = live.user
        self.token = token

    def get_id(self) -> str:
        return self.token


@login_manager.user_loader
def load_user(token: str):
    result = sessions.load_session(token, activity=request.endpoint not in PASSIVE_ENDPOINTS)
    if isinstance(result, sessions.Ended):
        g.ended_session = result  # whose it was: what they typed can be kept for them
        return None
    if result is None:
        return None
    return SignedIn(result, token)


@login_manager.unauthorized_handler
def unauthorized():
    db.session.commit()  # a session just ended by this request is recorded as ended
    ended = g.get("ended_session")
    if ended is not None and ended.reason in ENDED_BY_SOMEONE_ELSE:
        _say_once(ENDED_BY_SOMEONE_ELSE[ended.reason])
    elif request.method == "POST" and ended is not None:
        keep_typed_text(ended.user_id)
        _say_once(
            "You were signed out because you had not used the tracker for a while. Sign in again: "
            "what you typed has been kept."
        )
    elif ended is not None:
        _say_once("You were signed out because you had not used the tracker for a while. Sign in again.")
    if request.accept_mimetypes.best == "application/json" or request.path.endswith(".json"):
        return {"signed_in": False, "sign_in": url_for("auth.sign_in")}, 401
    return redirect(url_for("auth.sign_in", next=return_path()))


def _say_once(message: str) -> None:
    """The page's own refreshes (the queue, the session clock) meet an ended session before the person's next
    click does; each would add the same banner to the sign-in page, so it is said once."""
    if ("information", message) not in session.get("_flashes", []):
        flash(message, "information")


def return_path() -> str:
    """Where to come back to after signing in: the page for a GET, the form's page for a POST."""
    if request.method == "GET":
        return request.full_path.rstrip("?")
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.path.startswith("/"):
        return referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return "/"


def keep_typed_text(user_id: int) -> None:
    if request.endpoint not in RESTORES_TYPED_TEXT:
        return
    fields = saved_forms.keepable(dict(request.form.items()))
    if not any(str(v).strip() for v in fields.values()):
        return
    fields["_action"] = request.path.rsplit("/", 1)[-1]  # which of the call's forms: /triage/c/<ref>/<action>
    token = saved_forms.save(user_id, urlsplit(return_path()).path, fields)
    db.session.commit()
    session["saved_form"] = token


def safe_next(target: str | None, default: str) -> str:
    """`next=` only to our own paths (no scheme, no host, no //, no backslashes)."""
    if not target or len(target) > 500:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(ord(ch) < 32 for ch in target):
        return default
    return target


def requires(permission: Permission):
    """Only people with this permission (services/scope.py) may use the view; signed-in people must have
    finished setting up their account (a new password, and a second factor where required) first."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            pending = setup_pending()
            if pending:
                return redirect(url_for(pending))
            if not scope.can(current_user.user, permission):
                abort(403)
            return view(*args, **kwargs)

        # Through __dict__ (as functools.wraps does): mypy allows no new attribute on a function.
        wrapped.__dict__["allowed_roles"] = scope.ROLES[permission]
        return wrapped

    return decorator


def signed_in_required(view):
    """Any signed-in person (their own account pages). Until they have finished setting up their
    account (a new password, then an authenticator where one is needed) they may only do that,
    or sign out."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        pending = setup_pending()
        if pending and request.endpoint != pending and request.endpoint not in ALLOWED_DURING_SETUP:
            return redirect(url_for(pending))
        return view(*args, **kwargs)

    wrapped.__dict__["allowed_roles"] = scope.ROLES[Permission.ACCOUNT]  # as in requires
    return wrapped


def setup_pending() -> str | None:
    """The account page someone must visit before anything else, if any."""
    user = current_user.user
    via_sign_on = current_user.live.record.sign_on
    # Signed in with the trust's account (docs/architecture.md#sign-on): the local password is not in use, and
    # where the provider enforces its own second factor (OIDC_MFA_ASSURED) the tracker's is not needed.
    if user.must_change_password and not via_sign_on:
        return "auth.change_password"
    if via_sign_on and current_app.config.get("OIDC_MFA_ASSURED"):
        return None
    if (sessions.needs_mfa(user) or user.must_enrol_mfa) and not user.totp_secret:
        return "auth.enrol_mfa"
    return None

"""What every way of signing in shares (password, code, the trust's account): starting the session, where it
lands, and how a refusal or a wait is shown."""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user

from tracker.auth import devices
from tracker.extensions import db
from tracker.models import User
from tracker.services import scope
from tracker.services.people import auth, sessions, sign_on, sign_on_accounts, sign_on_outage
from tracker.web.authorisation import SignedIn, safe_next, setup_pending


def home(user: User) -> str:
    return url_for(scope.home_endpoint(user))


def finish_sign_in(user: User, next_url: str | None, *, with_code: bool = False, sign_on: bool = False):
    """Start a new session (a new cookie: the old one is discarded, so no fixation), and mark
    this browser as one its owner signs in from. `sign_on` says the trust's account signed them in."""
    kept = session.get("saved_form")
    session.clear()
    if kept:
        session["saved_form"] = kept
    token, record = sessions.start_session(
        user, user_agent=request.user_agent.string, address=request.remote_addr, mfa=with_code, sign_on=sign_on
    )
    db.session.commit()
    login_user(SignedIn(sessions.LiveSession(record, user), token))
    pending = setup_pending()
    if pending:
        if next_url:
            session["after_setup"] = next_url
        response = redirect(url_for(pending))
    else:
        response = redirect(safe_next(next_url, home(user)))
    devices.remember(response, user.id)
    return response


CODE_ERROR = "Enter the current 6-digit code from your authenticator app"


def confirm_needs_code(user: User) -> bool:
    """Confirming it is you asks a code from the authenticator whenever the person has one; in a session the trust's
    account started, not when the provider enforces its own MFA (OIDC_MFA_ASSURED), whose sign-in is asked again."""
    if current_user.live.record.sign_on and current_app.config.get("OIDC_MFA_ASSURED"):
        return False
    return bool(user.totp_secret)


def error_list(form) -> list[dict]:
    return [{"text": message, "href": f"#{field.id}"} for field in form for message in field.errors]


def wait_message(throttled: auth.Throttled) -> str:
    seconds = throttled.retry_after
    return (
        f"Too many attempts to sign in. Wait {seconds} second{'s' if seconds != 1 else ''} and try again. "
        "On a device you have signed in from before, you can sign in at once."
    )


def slowed(template: str, throttled: auth.Throttled, **context):
    """429 with Retry-After: nothing was checked. The form comes back with the wait in words."""
    db.session.commit()  # the refusal's audit row
    response = current_app.make_response((render_template(template, **context), 429))
    response.headers["Retry-After"] = str(throttled.retry_after)
    return response


def sign_on_choices() -> dict:
    """What the sign-in page offers besides the local form: the trust's account, and whether the sign-on
    outage switch has turned local sign-in back on (and until when)."""
    if not sign_on.configured():
        return {"sign_on": False, "outage": None}
    return {"sign_on": True, "outage": sign_on_outage.current()}


def account_sign_on(user: User) -> dict:
    """The account page's "Trust account" section: whether sign-on is set up, and the person's link."""
    if not sign_on.configured():
        return {"sign_on": False, "trust_link": None}
    return {"sign_on": True, "trust_link": sign_on_accounts.link_of(user)}

"""Who the battery sends each route's cases as: every principal the authorisation matrix lets reach the route
(its expectation is neither the sign-in page nor 403), each with a client of its own, signed in the way the
matrix's test signs in (tests/conftest.py), and its CSRF token so that the cases reach the view's own checks.
Twilio's webhooks are sent signed (as Twilio) and unsigned (as anyone)."""

from __future__ import annotations

import secrets

from itsdangerous import URLSafeTimedSerializer
from twilio.request_validator import RequestValidator

from tests.battery.requests import Principal
from tests.conftest import create_staff, enrol_display, enrol_tablet, sign_in_directly
from tests.triage.test_authorization_matrix import MATRIX, S

MFA = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def reaching(endpoint: str) -> list[str]:
    if endpoint.startswith("webhooks."):
        return ["twilio", "anonymous"]
    _method, _path, expected = MATRIX[endpoint]
    roles = [role for role, want in expected.items() if want not in (S, 403)]
    if "anonymous" in roles and len(set(expected.values())) == 1:
        # Open to everyone alike (the family pages, health checks, sign-in steps): served the same whoever asks,
        # so sent as someone signed out and as one person signed in, which keeps the run to minutes.
        return roles[:2]
    return roles


def sign_in(app, trust, role: str) -> Principal:
    client = app.test_client()
    if role == "twilio":
        return Principal(role, client, signer=RequestValidator(app.config["TWILIO_AUTH_TOKEN"]))
    if role == "display":
        enrol_display(app, client, trust)
    elif role == "tablet":
        enrol_tablet(app, client, trust)
    elif role != "anonymous":
        scope = {
            "outreach": {"team_ids": [trust["team"]]},
            "ward_staff": {"ward_id": trust["ward"]},
            "manager": {"site_id": trust["site"], "totp_secret": MFA},
            "admin": {"totp_secret": MFA},
        }[role]
        user_id, _password = create_staff(app, role, **scope)
        sign_in_directly(app, client, user_id)
    return Principal(role, client, token=csrf_token(app, client))


def csrf_token(app, client) -> str:
    """The token a page would carry, made as Flask-WTF makes it (a page rendered for it costs a request)."""
    raw = secrets.token_hex(20)
    with client.session_transaction() as session:
        session["csrf_token"] = raw
    secret = app.config.get("WTF_CSRF_SECRET_KEY") or app.secret_key
    return URLSafeTimedSerializer(secret, salt="wtf-csrf-token").dumps(raw)


def signed_out(response) -> bool:
    """A case that ended the principal's session (signing out is a route like any other)."""
    location = response.headers.get("Location", "")
    return response.status_code in (302, 303) and location.startswith(("/auth/sign-in", "/auth/signed-out"))

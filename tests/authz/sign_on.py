"""Authorisation matrix rows for signing in with the trust's own account (docs/architecture.md#sign-on). The
session's app has no provider configured, so every sign-on page answers 404 to whoever may reach it: the
provider's trip and answer to anyone; linking one's own trust account to the signed-in; the sign-on outage
switch to administrators only (a role check first, then the break-glass check, which
tests/sign_on/test_outage.py covers with a provider configured). The page after signing out is anyone's."""

S = "signin"
ROLES = ["anonymous", "ward_staff", "outreach", "manager", "admin"]
SIGNED_IN = {"anonymous": S, "ward_staff": 404, "outreach": 404, "manager": 404, "admin": 404}
ADMINS_ONLY = {"anonymous": S, "ward_staff": 403, "outreach": 403, "manager": 403, "admin": 404}

ROWS: dict = {
    "auth.sign_on_start": ("GET", "/auth/sign-on", dict.fromkeys(ROLES, 404)),
    "auth.sign_on_callback": ("GET", "/auth/sign-on/callback?state=made-up&code=made-up", dict.fromkeys(ROLES, 404)),
    "auth.link_trust_account": ("POST", "/auth/sign-on/link", SIGNED_IN),
    # "Confirm it is you" by the trust's account, in a session it started (tests/sign_on/test_confirm.py).
    "auth.confirm_with_sign_on": ("POST", "/auth/sign-on/confirm", SIGNED_IN),
    "auth.signed_out": ("GET", "/auth/signed-out", dict.fromkeys(ROLES, 200)),
    "auth.sign_on_outage_page": ("GET", "/auth/sign-on-outage", ADMINS_ONLY),
    "auth.start_sign_on_outage": ("POST", "/auth/sign-on-outage", ADMINS_ONLY),
    "auth.end_sign_on_outage": ("POST", "/auth/sign-on-outage/end", ADMINS_ONLY),
}

"""Authorisation matrix rows for the Staff accounts pages (see tests/authz/__init__.py), as issue 15's table says:
administrators change every account; managers read their own site's and create and deactivate its ward staff and
outreach, never another site's (404) and never what only an administrator does (403: reactivate, move, reset a
password or authenticator, clear sign-in counts, deactivate at once). `{nurse}` is an outreach clinician of the test
trust's team (the manager's own site), `{elsewhere}` one of a team at another site; both are made only for the
rows that name them (PEOPLE). Forms posted empty come back with their problem (400). The invitation page refuses
a made-up link to everyone."""

from __future__ import annotations

from tests.conftest import build_site_with_team, create_staff

S = "signin"
STAFF = {"anonymous": S, "ward_staff": 403, "outreach": 403, "display": S, "tablet": S}
EVERYONE = ["anonymous", "ward_staff", "outreach", "manager", "admin", "display", "tablet"]
NURSE = "/admin/staff/{nurse}"


def _nurse(app, trust) -> int:
    return create_staff(app, "outreach", team_ids=[trust["team"]])[0]


def _elsewhere(app, trust) -> int:
    from tracker.db import write_intent
    from tracker.extensions import db

    with app.app_context(), write_intent():
        team = build_site_with_team(
            "far", "Far Hospital", team_name="Far Team", public_phone="020 7946 0777", duty_phone="07400 900777"
        )
        db.session.commit()
        team_id = team.id
    return create_staff(app, "outreach", team_ids=[team_id])[0]


PEOPLE = {"nurse": _nurse, "elsewhere": _elsewhere}

ROWS: dict = {
    "admin.staff_page": ("GET", "/admin/staff", {**STAFF, "manager": 200, "admin": 200}),
    "admin.new_account": ("GET", "/admin/staff/new", {**STAFF, "manager": 200, "admin": 200}),
    # Another site's account is beyond a manager's reach.
    "admin.person_page": ("GET", "/admin/staff/{elsewhere}", {**STAFF, "manager": 404, "admin": 200}),
    "admin.change_account": ("GET", f"{NURSE}/change", {**STAFF, "manager": 403, "admin": 200}),
    # Their own site's clinician, on no rota and holding no call: deactivated, back to their page.
    "admin.deactivate": ("POST", f"{NURSE}/deactivate", {**STAFF, "manager": 302, "admin": 302}),
    # Posted without a reason: asked for one.
    "admin.deactivate_now": ("POST", f"{NURSE}/deactivate-now", {**STAFF, "manager": 403, "admin": 400}),
    # Already active: said so on their page.
    "admin.reactivate": ("POST", f"{NURSE}/reactivate", {**STAFF, "manager": 403, "admin": 302}),
    "admin.set_mobile": ("POST", f"{NURSE}/mobile", {**STAFF, "manager": 403, "admin": 302}),
    # The one-time password is shown once, on the page this answers.
    "admin.reset_password": ("POST", f"{NURSE}/reset-password", {**STAFF, "manager": 403, "admin": 200}),
    # They never chose a password: a new link, shown once.
    "admin.invite": ("POST", f"{NURSE}/invite", {**STAFF, "manager": 200, "admin": 200}),
    "admin.reset_authenticator": ("POST", f"{NURSE}/reset-authenticator", {**STAFF, "manager": 403, "admin": 302}),
    "admin.clear_sign_in_counts": ("POST", f"{NURSE}/clear-sign-in-counts", {**STAFF, "manager": 403, "admin": 302}),
    # A person's trust account (sign-on is not set up in the matrix's app: the refusal comes back to the page).
    "admin.link_trust_account": ("POST", f"{NURSE}/trust-account", {**STAFF, "manager": 403, "admin": 400}),
    "admin.unlink_trust_account": ("POST", f"{NURSE}/trust-account/remove", {**STAFF, "manager": 403, "admin": 302}),
    # Posted empty: whether they are break-glass is asked for.
    "admin.set_break_glass": ("POST", f"{NURSE}/break-glass", {**STAFF, "manager": 403, "admin": 400}),
    # Posted empty: cover or remove, which?
    "admin.cover_shift": ("POST", f"{NURSE}/shifts/99999", {**STAFF, "manager": 400, "admin": 400}),
    "admin.cover_pattern": ("POST", f"{NURSE}/patterns/99999", {**STAFF, "manager": 400, "admin": 400}),
    "auth.invitation": ("GET", "/auth/invitation/made-up-link", dict.fromkeys(EVERYONE, 404)),
}

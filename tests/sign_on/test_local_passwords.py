"""A linked account's local password (docs/architecture.md#sign-on): once an account is linked to a trust
account its password here stops signing it in, so leaving the trust (the trust closing the account) ends
access; except for break-glass administrators, and for everyone while the sign-on outage switch is on."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pyotp
import time_machine

from tests.sign_on.conftest import PASSWORD, SECRET, staff
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import AuditEvent, SessionRecord, User
from tracker.services.people import sign_on_outage


def csrf(client, path="/auth/sign-in") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'(?:name="csrf_token" value|data-csrf-token)="([^"]+)"', page).group(1)


def password_sign_in(client, email: str):
    return client.post("/auth/sign-in", data={"csrf_token": csrf(client), "email": email, "password": PASSWORD})


def code_step(client):
    return client.post(
        "/auth/sign-in/code", data={"csrf_token": csrf(client, "/auth/sign-in/code"), "code": pyotp.TOTP(SECRET).now()}
    )


def outage(app, admin_id: int, hours: int = 4) -> None:
    with app.app_context(), write_intent():
        sign_on_outage.start(db.session.get_one(User, admin_id), hours)
        db.session.commit()


def test_a_linked_accounts_local_password_no_longer_signs_it_in(sso_app, sso_client, trust, read):
    staff(sso_app, "outreach", email="linked@test.invalid", team_ids=[trust["team"]], link="nurse-1")
    refused = password_sign_in(sso_client, "linked@test.invalid")
    assert refused.status_code == 400
    assert "Your account signs in with your trust account" in refused.get_data(as_text=True)
    assert read.count(SessionRecord) == 0
    failed = read.all(AuditEvent, AuditEvent.action == "sign_in_failed")
    assert [event.changes for event in failed] == [{"reason": "sign_on_only"}]


def test_an_account_not_linked_still_signs_in_with_its_password(sso_app, sso_client, trust, read):
    staff(sso_app, "outreach", email="local@test.invalid", team_ids=[trust["team"]])
    assert password_sign_in(sso_client, "local@test.invalid").headers["Location"] == "/triage/"
    assert not read.one(SessionRecord).sign_on


def test_a_wrong_password_for_a_linked_account_gets_the_usual_answer(sso_app, sso_client, trust):
    """The sign-on message only follows the right password, so it tells a guesser nothing."""
    staff(sso_app, "outreach", email="linked@test.invalid", team_ids=[trust["team"]], link="nurse-1")
    page = sso_client.post(
        "/auth/sign-in", data={"csrf_token": csrf(sso_client), "email": "linked@test.invalid", "password": "wrong"}
    ).get_data(as_text=True)
    assert "Enter a correct email address and password" in page and "trust account:" not in page


def test_a_break_glass_administrators_password_still_works_once_linked(sso_app, sso_client, trust, read):
    glass = staff(sso_app, "admin", email="glass@test.invalid", link="admin-1")
    with sso_app.app_context(), write_intent():
        db.session.get_one(User, glass).break_glass = True
        db.session.commit()
    staff(sso_app, "admin", email="other-admin@test.invalid", link="admin-2")
    assert password_sign_in(sso_client, "glass@test.invalid").headers["Location"] == "/auth/sign-in/code"
    assert code_step(sso_client).status_code == 302
    assert read.one(SessionRecord).user_id == glass
    other = sso_app.test_client()
    assert password_sign_in(other, "other-admin@test.invalid").status_code == 400


def test_the_outage_switch_lets_linked_accounts_use_their_passwords_until_it_ends(sso_app, trust, read):
    staff(sso_app, "outreach", email="linked@test.invalid", team_ids=[trust["team"]], link="nurse-1")
    glass = read.one(User, User.break_glass.is_(True)).id  # made when the first account was linked
    outage(sso_app, glass, hours=2)
    assert password_sign_in(sso_app.test_client(), "linked@test.invalid").headers["Location"] == "/triage/"
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=2, minutes=1), tick=True):
        assert password_sign_in(sso_app.test_client(), "linked@test.invalid").status_code == 400

"""Replacing or removing an authenticator needs a fresh sign-in with a code from the current one; a
lost one is reset by an administrator's command, which forces a new one at the next sign-in."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
import time_machine

from tests.conftest import create_staff, sign_in_directly
from tests.security.helpers import PASSWORD, TOTP_SECRET, csrf, enter_code, sign_in
from tracker.clock import utcnow
from tracker.models import AuditEvent, SessionRecord, User


def new_secret_from(page: str) -> str:
    return re.search(r'class="tracker-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")


@pytest.fixture
def lead(app, trust):
    return create_staff(app, "manager", email="lead@test.invalid", site_id=trust["site"], totp_secret=TOTP_SECRET)[0]


def test_a_signed_in_manager_cannot_replace_the_authenticator_without_a_fresh_code(client, app, lead, read):
    sign_in_directly(app, client, lead)
    page = client.get("/auth/mfa")
    assert page.status_code == 302 and page.headers["Location"].startswith("/auth/confirm")
    attacker_secret = pyotp.random_base32()
    with client.session_transaction() as session:
        session["mfa_secret"] = attacker_secret
    response = client.post(
        "/auth/mfa", data={"csrf_token": csrf(client, "/auth/account"), "code": pyotp.TOTP(attacker_secret).now()}
    )
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/confirm")
    assert read.one(User).totp_secret == TOTP_SECRET


def test_after_signing_in_again_with_the_current_code_the_authenticator_can_be_replaced(client, app, lead, read):
    sign_in_directly(app, client, lead)
    other_device = app.test_client()
    sign_in_directly(app, other_device, lead)
    token = csrf(client, "/auth/confirm?next=/auth/mfa")
    with time_machine.travel(utcnow() + timedelta(seconds=31), tick=False):  # a new code, not one already used
        confirmed = client.post(
            "/auth/confirm?next=/auth/mfa",
            data={"csrf_token": token, "password": PASSWORD, "code": pyotp.TOTP(TOTP_SECRET).now()},
        )
        assert confirmed.headers["Location"] == "/auth/mfa"
        page = client.get("/auth/mfa").get_data(as_text=True)
        assert "Replace your authenticator app" in page
        secret = new_secret_from(page)
        done = client.post(
            "/auth/mfa", data={"csrf_token": csrf(client, "/auth/account"), "code": pyotp.TOTP(secret).now()}
        )
    assert done.status_code == 302
    assert read.one(User).totp_secret == secret
    assert "mfa_replaced" in [event.action for event in read.all(AuditEvent)]
    assert other_device.get("/triage/").status_code == 302  # the other sessions ended with the change


def test_a_password_alone_does_not_allow_a_change_of_authenticator(client, app, lead):
    sign_in_directly(app, client, lead)
    token = csrf(client, "/auth/confirm?next=/auth/mfa")
    response = client.post("/auth/confirm?next=/auth/mfa", data={"csrf_token": token, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/auth/mfa").headers["Location"].startswith("/auth/confirm")


def test_a_clinician_whose_role_does_not_need_one_may_remove_it_after_a_fresh_code(client, app, trust, read):
    nurse = create_staff(
        app, "outreach", email="nurse@test.invalid", team_ids=[trust["team"]], totp_secret=TOTP_SECRET
    )[0]
    sign_in_directly(app, client, nurse)
    refused = client.post("/auth/mfa/remove", data={"csrf_token": csrf(client, "/auth/account")})
    assert refused.headers["Location"].startswith("/auth/confirm")
    assert read.one(User).totp_secret == TOTP_SECRET
    token = csrf(client, "/auth/confirm")
    with time_machine.travel(utcnow() + timedelta(seconds=31), tick=False):
        client.post(
            "/auth/confirm", data={"csrf_token": token, "password": PASSWORD, "code": pyotp.TOTP(TOTP_SECRET).now()}
        )
        removed = client.post("/auth/mfa/remove", data={"csrf_token": csrf(client, "/auth/account")})
    assert removed.status_code == 302
    assert read.one(User).totp_secret is None
    assert "mfa_removed" in [event.action for event in read.all(AuditEvent)]


def test_a_manager_cannot_remove_the_authenticator_their_role_needs(client, app, lead, read):
    sign_in_directly(app, client, lead)
    token = csrf(client, "/auth/confirm")
    with time_machine.travel(utcnow() + timedelta(seconds=31), tick=False):
        client.post(
            "/auth/confirm", data={"csrf_token": token, "password": PASSWORD, "code": pyotp.TOTP(TOTP_SECRET).now()}
        )
        response = client.post("/auth/mfa/remove", data={"csrf_token": csrf(client, "/auth/account")})
    assert response.status_code == 400
    assert read.one(User).totp_secret == TOTP_SECRET


def test_an_administrator_resets_a_lost_authenticator_with_a_command_that_forces_a_new_one(app, trust, read):
    nurse = create_staff(
        app, "outreach", email="nurse@test.invalid", team_ids=[trust["team"]], totp_secret=TOTP_SECRET
    )[0]
    phone = app.test_client()
    sign_in_directly(app, phone, nurse)
    result = app.test_cli_runner().invoke(args=["tracker", "reset-mfa", "Nurse@Test.invalid"])
    assert result.exit_code == 0, result.output
    assert "nurse@test.invalid" in result.output
    user = read.one(User)
    assert user.totp_secret is None and user.must_enrol_mfa is True
    assert phone.get("/triage/").status_code == 302  # every session ended
    assert read.one(SessionRecord).revoked_reason == "mfa_reset"
    assert [e.actor_type for e in read.all(AuditEvent, AuditEvent.action == "mfa_reset")] == ["cli"]
    again = app.test_client()
    assert sign_in(again, "nurse@test.invalid").headers["Location"] == "/auth/mfa"
    assert again.get("/triage/").headers["Location"] == "/auth/mfa"


def test_reset_mfa_names_an_unknown_address_and_changes_nothing(app, trust):
    result = app.test_cli_runner().invoke(args=["tracker", "reset-mfa", "nobody@test.invalid"])
    assert result.exit_code != 0 and "No account" in result.output


def test_signing_in_with_a_code_counts_as_a_fresh_code_for_a_few_minutes(client, app, lead):
    assert sign_in(client, "lead@test.invalid").headers["Location"] == "/auth/sign-in/code"
    assert enter_code(client).status_code == 302
    assert client.get("/auth/mfa").status_code == 200
    with time_machine.travel(utcnow() + timedelta(minutes=6), tick=False):
        assert client.get("/auth/mfa").headers["Location"].startswith("/auth/confirm")

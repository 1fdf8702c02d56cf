"""Linking one's own trust account (docs/architecture.md#sign-on): only while signed in here with the password
and a code from the authenticator in the last few minutes; never by a session alone, never to a trust account
already someone else's, and not before an administrator is break-glass."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import time_machine

from tests.sign_on.conftest import PASSWORD, SECRET, path_of, sign_on_as, staff
from tests.sign_on.test_local_passwords import csrf, password_sign_in
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import AuditEvent, Role, SignOnLink, SignOnRequest, User


def break_glass_admin(app) -> int:
    with app.app_context(), write_intent():
        admin = User(
            email="glass@test.invalid",
            display_name="Glass",
            role=Role.ADMIN,
            password_hash="x",
            must_change_password=False,
            break_glass=True,
        )
        db.session.add(admin)
        db.session.commit()
        return admin.id


def confirm_with_code(client) -> None:
    """The confirm page: the password and a code (what "a fresh code" means)."""
    token = csrf(client, "/auth/confirm?next=/auth/account")
    answer = client.post(
        "/auth/confirm?next=/auth/account",
        data={"csrf_token": token, "password": PASSWORD, "code": pyotp.TOTP(SECRET).now()},
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)


def press_link(client):
    return client.post("/auth/sign-on/link", data={"csrf_token": csrf(client, "/auth/account")})


def test_a_nurse_links_their_trust_account_after_confirming_with_password_and_code(
    sso_app, sso_client, provider, trust, read
):
    user_id = staff(sso_app, "outreach", email="nurse@test.invalid", team_ids=[trust["team"]], totp_secret=SECRET)
    break_glass_admin(sso_app)
    assert password_sign_in(sso_client, "nurse@test.invalid").status_code == 302  # outreach: no code asked
    page = sso_client.get("/auth/account").get_data(as_text=True)
    assert "Link your trust account" in page
    first = press_link(sso_client)  # no code checked in this session yet
    assert first.headers["Location"] == "/auth/confirm?next=/auth/account"
    assert read.count(SignOnRequest) == 0
    confirm_with_code(sso_client)
    to_provider = press_link(sso_client)
    assert to_provider.headers["Location"].startswith(f"{provider.issuer}/oauth2/authorize")
    back = sso_client.get(path_of(provider.sign_in_at(to_provider.headers["Location"], "nurse-sub")))
    assert back.headers["Location"] == "/auth/account"
    assert "Your trust account is linked" in sso_client.get("/auth/account").get_data(as_text=True)
    link = read.one(SignOnLink)
    assert (link.user_id, link.issuer, link.subject) == (user_id, provider.issuer, "nurse-sub")
    linked = read.one(AuditEvent, AuditEvent.action == "sign_on_linked")
    assert linked.changes == {"by_self": True} and linked.actor_id == user_id
    # From now on: the trust account signs in; the password does not.
    assert sign_on_as(sso_app.test_client(), provider, "nurse-sub").headers["Location"] == "/triage/"
    assert password_sign_in(sso_app.test_client(), "nurse@test.invalid").status_code == 400


def test_a_code_from_more_than_five_minutes_ago_is_not_enough_to_link(sso_app, sso_client, trust, read):
    staff(sso_app, "outreach", email="nurse@test.invalid", team_ids=[trust["team"]], totp_secret=SECRET)
    break_glass_admin(sso_app)
    password_sign_in(sso_client, "nurse@test.invalid")
    confirm_with_code(sso_client)
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=6), tick=True):
        assert press_link(sso_client).headers["Location"] == "/auth/confirm?next=/auth/account"
    assert read.count(SignOnRequest) == 0


def test_without_an_authenticator_nobody_can_link(sso_app, sso_client, trust, read):
    staff(sso_app, "outreach", email="nurse@test.invalid", team_ids=[trust["team"]])
    break_glass_admin(sso_app)
    password_sign_in(sso_client, "nurse@test.invalid")
    page = sso_client.get("/auth/account").get_data(as_text=True)
    assert "first <a" in page and "set up an authenticator app</a>" in page
    assert press_link(sso_client).headers["Location"] == "/auth/account"
    assert read.count(SignOnRequest) == 0


def test_a_trust_account_already_linked_to_someone_else_is_not_linked_again(sso_app, sso_client, provider, trust, read):
    staff(sso_app, "outreach", team_ids=[trust["team"]], link="shared-sub")
    staff(sso_app, "outreach", email="nurse@test.invalid", team_ids=[trust["team"]], totp_secret=SECRET)
    password_sign_in(sso_client, "nurse@test.invalid")
    confirm_with_code(sso_client)
    to_provider = press_link(sso_client).headers["Location"]
    sso_client.get(path_of(provider.sign_in_at(to_provider, "shared-sub")))
    assert "already linked to another account" in sso_client.get("/auth/account").get_data(as_text=True)
    assert read.count(SignOnLink) == 1


def test_nothing_is_linked_until_an_administrator_is_break_glass(sso_app, sso_client, provider, trust, read):
    staff(sso_app, "outreach", email="nurse@test.invalid", team_ids=[trust["team"]], totp_secret=SECRET)
    password_sign_in(sso_client, "nurse@test.invalid")
    confirm_with_code(sso_client)
    to_provider = press_link(sso_client).headers["Location"]
    sso_client.get(path_of(provider.sign_in_at(to_provider, "nurse-sub")))
    page = sso_client.get("/auth/account").get_data(as_text=True)
    assert "first an administrator must be marked break-glass" in page
    assert read.count(SignOnLink) == 0


def test_a_link_answer_signs_nobody_in_and_links_nobody_in_another_session(sso_app, sso_client, provider, trust, read):
    """The link's trip belongs to the session that started it: its answer opened anywhere else is refused."""
    staff(sso_app, "outreach", email="nurse@test.invalid", team_ids=[trust["team"]], totp_secret=SECRET)
    break_glass_admin(sso_app)
    password_sign_in(sso_client, "nurse@test.invalid")
    confirm_with_code(sso_client)
    to_provider = press_link(sso_client).headers["Location"]
    back = path_of(provider.sign_in_at(to_provider, "attacker-sub"))
    other = sso_app.test_client()
    with sso_client.session_transaction() as session:
        state = session["sign_on_state"]
    with other.session_transaction() as session:
        session["sign_on_state"] = state  # even holding the state
    assert other.get(back).status_code == 403
    assert read.count(SignOnLink) == 0

"""Staff sign-in and sessions (docs/architecture.md#security): throttled before hashing, a second factor for managers
and admins, sessions that really end server-side, and typed text kept across a re-sign-in."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
import time_machine

from tests.conftest import create_staff, hidden_fields, sign_in_directly
from tracker.clock import utcnow
from tracker.models import AuditEvent, SessionRecord, User

PASSWORD = "correct horse battery staple"


def csrf(client, path="/auth/sign-in") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'(?:name="csrf_token" value|data-csrf-token)="([^"]+)"', page).group(1)


def sign_in(client, email, password=PASSWORD, next_url=None):
    path = "/auth/sign-in" + (f"?next={next_url}" if next_url else "")
    return client.post(path, data={"csrf_token": csrf(client), "email": email, "password": password})


@pytest.fixture
def nurse(app, trust):
    user_id, _ = create_staff(app, "outreach", email="nurse@test.invalid", team_ids=[trust["team"]])
    return user_id


def test_a_clinician_signs_in_and_lands_on_the_queue(client, nurse, read):
    response = sign_in(client, "Nurse@Test.invalid ")
    assert response.status_code == 302 and response.headers["Location"] == "/triage/"
    assert client.get("/triage/").status_code == 200
    record = read.one(SessionRecord)
    assert record.user_id == nurse and record.revoked_at is None
    assert "signed_in" in [e.action for e in read.all(AuditEvent)]


@pytest.mark.parametrize(
    "email, password", [("nurse@test.invalid", "wrong password here"), ("nobody@test.invalid", PASSWORD), ("", "")]
)
def test_a_wrong_email_or_password_gets_one_message(client, nurse, email, password):
    response = sign_in(client, email, password)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Enter a correct email address and password" in html or "Enter your email address" in html
    assert client.get("/triage/").status_code == 302


def test_sign_in_is_slowed_per_account_before_any_password_is_hashed(client, nurse, monkeypatch):
    from tracker.services.people import auth

    checks = []
    real = auth.verify_password
    monkeypatch.setattr(auth, "verify_password", lambda *a: checks.append(1) or real(*a))
    with time_machine.travel(utcnow(), tick=False):
        for _ in range(5):
            assert sign_in(client, "nurse@test.invalid", "not the password").status_code == 400
        response = sign_in(client, "nurse@test.invalid", PASSWORD)
    assert response.status_code == 429 and response.headers["Retry-After"] == "1"
    assert "Wait 1 second and try again" in response.get_data(as_text=True)
    assert len(checks) == 5  # the sixth was answered before hashing


def test_a_throttle_is_not_a_lockout(client, nurse):
    with time_machine.travel(utcnow(), tick=False) as clock:
        for _ in range(11):
            sign_in(client, "nurse@test.invalid", "not the password")
        response = sign_in(client, "nurse@test.invalid")
        assert response.status_code == 429
        clock.shift(timedelta(seconds=int(response.headers["Retry-After"])))
        assert sign_in(client, "nurse@test.invalid").status_code == 302


def test_a_one_time_password_must_be_changed_before_anything_else(client, app, trust):
    create_staff(app, "outreach", email="new@test.invalid", team_ids=[trust["team"]], must_change_password=True)
    response = sign_in(client, "new@test.invalid")
    assert response.headers["Location"] == "/auth/password"
    assert client.get("/triage/").headers["Location"] == "/auth/password"
    token = csrf(client, "/auth/password")
    weak = client.post(
        "/auth/password",
        data={"csrf_token": token, "current": PASSWORD, "new": "password1234", "confirm": "password1234"},
    )
    assert weak.status_code == 400 and "too easy to guess" in weak.get_data(as_text=True)
    done = client.post(
        "/auth/password",
        data={
            "csrf_token": token,
            "current": PASSWORD,
            "new": "plum trolley lantern orbit",
            "confirm": "plum trolley lantern orbit",
        },
    )
    assert done.status_code == 302
    assert client.get("/triage/").status_code == 200


@pytest.mark.parametrize(
    "new, message",
    [
        ("short", "at least 12"),
        ("x" * 129, "128 characters"),
        ("nurse-passwordxx", "email address"),
        ("aaaaaaaaaaaaaa", "too easy"),
    ],
)
def test_weak_new_passwords_are_refused_with_a_reason(client, nurse, new, message):
    sign_in(client, "nurse@test.invalid")
    token = csrf(client, "/auth/password")
    response = client.post(
        "/auth/password", data={"csrf_token": token, "current": PASSWORD, "new": new, "confirm": new}
    )
    assert response.status_code == 400 and message in response.get_data(as_text=True)


def manager(app, trust, secret="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"):
    return create_staff(app, "manager", email="lead@test.invalid", site_id=trust["site"], totp_secret=secret)[0]


def test_managers_need_a_code_from_their_authenticator(client, app, trust, read):
    manager(app, trust)
    response = sign_in(client, "lead@test.invalid")
    assert response.headers["Location"] == "/auth/sign-in/code"
    assert client.get("/triage/").status_code == 302  # not signed in yet
    token = csrf(client, "/auth/sign-in/code")
    assert client.post("/auth/sign-in/code", data={"csrf_token": token, "code": "000000"}).status_code == 400
    code = pyotp.TOTP("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP").now()
    assert client.post("/auth/sign-in/code", data={"csrf_token": token, "code": code}).status_code == 302
    assert client.get("/triage/").status_code == 200


def test_a_code_works_only_once(app, trust, client):
    manager(app, trust)
    code = pyotp.TOTP("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP").now()
    sign_in(client, "lead@test.invalid")
    client.post("/auth/sign-in/code", data={"csrf_token": csrf(client, "/auth/sign-in/code"), "code": code})
    other = app.test_client()
    sign_in(other, "lead@test.invalid")
    replay = other.post("/auth/sign-in/code", data={"csrf_token": csrf(other, "/auth/sign-in/code"), "code": code})
    assert replay.status_code == 400


def test_a_manager_without_an_authenticator_must_set_one_up_first(client, app, trust, read):
    create_staff(app, "manager", email="lead@test.invalid", site_id=trust["site"])
    response = sign_in(client, "lead@test.invalid")
    assert response.headers["Location"] == "/auth/mfa"
    assert client.get("/triage/").headers["Location"] == "/auth/mfa"
    page = client.get("/auth/mfa").get_data(as_text=True)
    assert "<svg" in page
    secret = re.search(r'class="tracker-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    token = hidden_fields(page).get("csrf_token") or csrf(client, "/auth/mfa")
    assert client.post("/auth/mfa", data={"csrf_token": token, "code": "123456"}).status_code == 400
    ok = client.post("/auth/mfa", data={"csrf_token": token, "code": pyotp.TOTP(secret).now()})
    assert ok.status_code == 302
    assert client.get("/triage/").status_code == 200
    assert read.one(User).totp_secret == secret


def test_signing_out_ends_the_session_on_the_server(client, nurse, app, read):
    sign_in(client, "nurse@test.invalid")
    stolen = client.get_cookie("session").value
    assert client.get("/auth/sign-out").status_code == 200  # a confirmation page; GET never signs out
    assert client.get("/triage/").status_code == 200
    response = client.post("/auth/sign-out", data={"csrf_token": csrf(client, "/auth/sign-out")})
    assert response.status_code == 302 and "Clear-Site-Data" in response.headers
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    assert replay.get("/triage/").status_code == 302
    assert read.one(SessionRecord).revoked_reason == "signed_out"


def test_the_idle_timeout_ends_the_session(client, login_as, read):
    login_as("outreach")
    with time_machine.travel(utcnow() + timedelta(minutes=31), tick=False):
        response = client.get("/triage/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/sign-in")
    assert read.one(SessionRecord).revoked_reason == "idle_timeout"
    assert client.get("/triage/").status_code == 302  # and it stays ended


def test_the_queues_own_refresh_does_not_keep_a_session_alive(client, login_as):
    login_as("outreach")
    start = utcnow()
    for minutes in (10, 20, 29):
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            assert client.get("/triage/queue/rows").status_code == 200
            assert client.get("/auth/session").status_code == 200
    with time_machine.travel(start + timedelta(minutes=31), tick=False):
        assert client.get("/triage/queue/rows").status_code == 302


def test_using_the_pages_and_stay_signed_in_keep_a_session_alive(client, login_as):
    login_as("outreach")
    start = utcnow()
    with time_machine.travel(start + timedelta(minutes=25), tick=False):
        assert client.get("/triage/").status_code == 200
    with time_machine.travel(start + timedelta(minutes=50), tick=False):
        token = csrf(client, "/triage/")
        assert client.post("/auth/keepalive", data={"csrf_token": token}).status_code == 200
    with time_machine.travel(start + timedelta(minutes=75), tick=False):
        assert client.get("/triage/").status_code == 200


def test_the_absolute_timeout_ends_a_session_after_twelve_hours_however_busy(client, login_as):
    login_as("outreach")
    start = utcnow()
    for minutes in range(20, 12 * 60, 20):
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            assert client.get("/triage/").status_code == 200
    with time_machine.travel(start + timedelta(hours=12, minutes=1), tick=False):
        assert client.get("/triage/").status_code == 302


def test_sign_out_everywhere_ends_every_session(app, nurse):
    laptop, phone = app.test_client(), app.test_client()
    sign_in_directly(app, laptop, nurse)
    sign_in_directly(app, phone, nurse)
    laptop.post("/auth/sign-out-everywhere", data={"csrf_token": csrf(laptop, "/auth/sign-out")})
    assert phone.get("/triage/").status_code == 302
    assert laptop.get("/triage/").status_code == 302


def test_disabling_an_account_ends_its_sessions_at_the_next_request(client, login_as, app):
    from tracker.extensions import db

    user_id = login_as("outreach")
    with app.app_context():
        db.session.get(User, user_id).active = False
        db.session.commit()
    assert client.get("/triage/").status_code == 302


def test_a_change_of_role_takes_effect_at_once(client, login_as, app):
    from tracker.extensions import db
    from tracker.models import Role

    user_id = login_as("outreach")
    assert client.get("/triage/").status_code == 200
    with app.app_context():
        db.session.get(User, user_id).role = Role.WARD_STAFF
        db.session.commit()
    assert client.get("/triage/").status_code == 403


def test_signing_in_gives_a_new_session_cookie(client, nurse):
    client.get("/auth/sign-in")
    before = client.get_cookie("session").value
    sign_in(client, "nurse@test.invalid")
    assert client.get_cookie("session").value != before


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example",
        "/\\evil.example",
        "https:evil.example",
        "%2F%2Fevil.example",
        "javascript:alert(1)",
        "/%0d%0aSet-Cookie:x=y",
    ],
)
def test_next_only_goes_to_our_own_pages(client, nurse, target):
    response = sign_in(client, "nurse@test.invalid", next_url=target)
    location = response.headers["Location"]
    assert location.startswith("/") and not location.startswith("//") and "evil" not in location


def test_next_returns_to_the_page_that_asked(client, nurse):
    first = client.get("/triage/?view=mine")
    assert first.status_code == 302
    response = sign_in(client, "nurse@test.invalid", next_url="/triage/?view=mine")
    assert response.headers["Location"] == "/triage/?view=mine"


def test_what_was_typed_when_the_session_ended_comes_back_after_signing_in_again(client, nurse, app, family):
    family.submit()
    sign_in(client, "nurse@test.invalid")
    queue = client.get("/triage/").get_data(as_text=True)
    reference = re.search(r"MR-[A-Z0-9]{4}-[A-Z0-9]{2}", queue).group(0)
    page = client.get(f"/triage/c/{reference}")
    token = csrf(client, f"/triage/c/{reference}")
    with time_machine.travel(utcnow() + timedelta(minutes=40), tick=False):
        response = client.post(
            f"/triage/c/{reference}/note",
            data={"csrf_token": token, "note": "Family very anxious"},
            headers={"Referer": f"http://localhost/triage/c/{reference}"},
        )
        assert response.status_code == 302 and response.headers["Location"].startswith("/auth/sign-in")
        again = sign_in(client, "nurse@test.invalid", next_url=f"/triage/c/{reference}")
        assert again.headers["Location"] == f"/triage/c/{reference}"
        restored = client.get(f"/triage/c/{reference}").get_data(as_text=True)
    assert "Family very anxious" in restored
    assert page.status_code == 200


def test_typed_text_is_never_given_to_someone_else(client, nurse, app, trust, family):
    family.submit()
    sign_in(client, "nurse@test.invalid")
    reference = re.search(r"MR-[A-Z0-9]{4}-[A-Z0-9]{2}", client.get("/triage/").get_data(as_text=True)).group(0)
    token = csrf(client, f"/triage/c/{reference}")
    create_staff(app, "outreach", email="other@test.invalid", team_ids=[trust["team"]])
    with time_machine.travel(utcnow() + timedelta(minutes=40), tick=False):
        client.post(
            f"/triage/c/{reference}/note",
            data={"csrf_token": token, "note": "Private note text"},
            headers={"Referer": f"http://localhost/triage/c/{reference}"},
        )
        sign_in(client, "other@test.invalid")
        assert "Private note text" not in client.get(f"/triage/c/{reference}").get_data(as_text=True)


def test_your_account_lists_your_sessions_and_can_end_the_others(app, nurse, read):
    laptop, phone = app.test_client(), app.test_client()
    sign_in_directly(app, laptop, nurse)
    sign_in_directly(app, phone, nurse)
    page = laptop.get("/auth/account").get_data(as_text=True)
    assert page.count("pytest") == 2 and "This device" in page
    laptop.post("/auth/sign-out-others", data={"csrf_token": csrf(laptop, "/auth/account")})
    assert phone.get("/triage/").status_code == 302 and laptop.get("/triage/").status_code == 200


def test_the_trust_can_require_a_second_factor_from_every_role(client, nurse, app):
    from tracker.db import write_intent
    from tracker.extensions import db
    from tracker.models import Settings
    from tracker.services.setup.settings import forget_settings

    with app.app_context(), write_intent():
        db.session.get(Settings, 1).mfa_for_all_staff = True
        db.session.commit()
        forget_settings()
    assert sign_in(client, "nurse@test.invalid").headers["Location"] == "/auth/mfa"

"""The sign-on outage switch (docs/architecture.md#sign-on; HAZ-088): when the trust's provider is down, a
break-glass administrator turns local sign-in back on for everyone for up to 12 hours, audited, with a banner
on the queue, so clinicians can still claim calls at night."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine

from tests.sign_on.conftest import staff
from tests.sign_on.test_local_passwords import code_step, csrf, password_sign_in
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import AuditEvent, Concern, ConcernStatus, SignOnOutage, User


def make_break_glass(app, user_id: int) -> None:
    with app.app_context(), write_intent():
        db.session.get_one(User, user_id).break_glass = True
        db.session.commit()


def signed_in_admin(app, email: str, *, break_glass: bool):
    admin_id = staff(app, "admin", email=email, link=f"{email}-sub")
    if break_glass:
        make_break_glass(app, admin_id)
    client = app.test_client()
    if not break_glass:  # a linked admin who is not break-glass signs in with the trust's account: here directly
        from tests.conftest import sign_in_directly

        sign_in_directly(app, client, admin_id)
        return client
    assert password_sign_in(client, email).headers["Location"] == "/auth/sign-in/code"
    assert code_step(client).status_code == 302
    return client


def turn_on(client, hours: str):
    return client.post("/auth/sign-on-outage", data={"csrf_token": csrf(client, "/auth/account"), "hours": hours})


def test_with_the_provider_down_a_break_glass_admin_turns_on_local_sign_in_and_a_clinician_claims_a_call(
    sso_app, provider, trust, family, read, monkeypatch
):
    family.submit()
    staff(sso_app, "outreach", email="nurse@test.invalid", team_ids=[trust["team"]], link="nurse-sub")
    admin = signed_in_admin(sso_app, "glass@test.invalid", break_glass=True)
    monkeypatch.setitem(sso_app.config, "OIDC_ISSUER", "http://127.0.0.1:9")  # the provider goes down
    nurse = sso_app.test_client()
    assert nurse.get("/auth/sign-on").status_code == 503
    assert password_sign_in(nurse, "nurse@test.invalid").status_code == 400  # linked: the password is refused

    page = admin.get("/auth/sign-on-outage").get_data(as_text=True)
    assert "Turn local sign-in on" in page
    assert turn_on(admin, "4").headers["Location"] == "/auth/sign-on-outage"
    started = read.one(AuditEvent, AuditEvent.action == "sign_on_outage_started")
    assert started.changes == {"hours": 4, "replaced": None}

    assert "The trust&#39;s sign-in is down" in nurse.get("/auth/sign-in").get_data(as_text=True)
    assert password_sign_in(nurse, "nurse@test.invalid").headers["Location"] == "/triage/"
    queue = nurse.get("/triage/").get_data(as_text=True)
    assert "Sign-on outage: the trust&#39;s sign-in is down" in queue  # the banner
    reference = read.one(Concern).reference
    token = csrf(nurse, "/triage/")
    assert nurse.post(f"/triage/c/{reference}/claim", data={"csrf_token": token}).status_code == 302
    assert read.one(Concern).status is ConcernStatus.ACKNOWLEDGED


def test_only_a_break_glass_administrator_may_turn_it_on(sso_app, trust, read):
    admin = signed_in_admin(sso_app, "admin@test.invalid", break_glass=False)
    assert admin.get("/auth/sign-on-outage").status_code == 200  # it says who can
    assert turn_on(admin, "4").status_code == 403
    assert admin.post("/auth/sign-on-outage/end", data={"csrf_token": csrf(admin, "/auth/account")}).status_code == 403
    assert read.count(SignOnOutage) == 0


def test_it_stays_on_twelve_hours_at_most(sso_app, trust, read):
    admin = signed_in_admin(sso_app, "glass@test.invalid", break_glass=True)
    for hours in ("13", "0", "two", "1.5"):
        refused = turn_on(admin, hours)
        assert refused.status_code == 400
        assert "The number of hours must be a whole number from 1 to 12" in refused.get_data(as_text=True)
    assert read.count(SignOnOutage) == 0
    assert turn_on(admin, "12").status_code == 302
    outage = read.one(SignOnOutage)
    assert timedelta(hours=11, minutes=59) < outage.ends_at - outage.started_at <= timedelta(hours=12)


def test_it_ends_by_itself_or_when_turned_off(sso_app, trust, read):
    staff(sso_app, "outreach", email="nurse@test.invalid", team_ids=[trust["team"]], link="nurse-sub")
    admin = signed_in_admin(sso_app, "glass@test.invalid", break_glass=True)
    turn_on(admin, "1")
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=61), tick=True):
        assert password_sign_in(sso_app.test_client(), "nurse@test.invalid").status_code == 400
    turn_on(admin, "3")
    assert password_sign_in(sso_app.test_client(), "nurse@test.invalid").status_code == 302
    admin.post("/auth/sign-on-outage/end", data={"csrf_token": csrf(admin, "/auth/sign-on-outage")})
    assert password_sign_in(sso_app.test_client(), "nurse@test.invalid").status_code == 400
    assert [e.action for e in read.all(AuditEvent, AuditEvent.action.like("sign_on_outage_%"))] == [
        "sign_on_outage_started",
        "sign_on_outage_started",
        "sign_on_outage_ended",
    ]


def test_turning_it_on_needs_a_recent_sign_in(sso_app, trust, read):
    admin = signed_in_admin(sso_app, "glass@test.invalid", break_glass=True)
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=6), tick=True):
        answer = turn_on(admin, "4")
    assert answer.headers["Location"].startswith("/auth/confirm")
    assert read.count(SignOnOutage) == 0


def test_administrators_are_warned_when_no_break_glass_administrator_is_left(sso_app, trust, read):
    from tests.conftest import sign_in_directly
    from tracker.services.paging import warnings as staff_warnings

    staff(sso_app, "outreach", team_ids=[trust["team"]], link="nurse-sub")
    admin_id = staff(sso_app, "admin", email="admin@test.invalid")
    admin = sso_app.test_client()
    sign_in_directly(sso_app, admin, admin_id)
    warning = "No administrator can sign in with a password if the trust&#39;s sign-in goes down"
    assert warning not in admin.get("/on-call/").get_data(as_text=True)
    with sso_app.app_context(), write_intent():
        glass = db.session.get_one(User, read.one(User, User.break_glass.is_(True)).id)
        glass.active = False  # the only break-glass administrator leaves
        db.session.commit()
        staff_warnings.forget()
    assert warning in admin.get("/on-call/").get_data(as_text=True)

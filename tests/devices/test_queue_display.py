"""The outreach office's queue display: a manager's one-time link makes a screen show the team's open calls with
nobody signed in (never a name, initials, free text or note), for 90 days, on the trust's address ranges only,
until a manager turns it off. Setting it up, turning it off and its first use each day are audited; its
refreshes are not."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from tests.conftest import SETUP_TRUST, create_staff, enrol_display, sign_in_directly
from tests.triage.test_authorization_matrix import csrf_token
from tracker.clock import utcnow
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import AuditEvent, EnrolledDevice, Settings, User
from tracker.problems import Problem
from tracker.services.setup import devices
from tracker.services.setup.settings import forget_settings

MFA = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def audited(app, action: str) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action))


def set_ranges(app, ranges: str) -> None:
    with app.app_context(), write_intent():
        db.session.get_one(Settings, 1).device_address_ranges = ranges
        db.session.commit()
        forget_settings()


def new_link(app, trust, label: str = "Office screen") -> str:
    manager_id, _ = create_staff(app, "manager", site_id=trust["site"], totp_secret=MFA)
    with app.app_context(), write_intent():
        link = devices.create_display(db.session.get_one(User, manager_id), trust["team"], label)
        db.session.commit()
        return link.token


def test_a_manager_makes_a_one_time_link_shown_once_and_the_screen_it_is_opened_on_shows_the_queue(
    app, client, trust, login_as
):
    login_as("manager")
    page = client.post(
        "/devices/displays", data={"csrf_token": csrf_token(client), "team": "gen-ccot", "label": "Office"}
    )
    assert page.status_code == 200
    link = re.search(r"<code data-enrol-link>[^<]*(/devices/enrol/[^<]+)</code>", page.get_data(as_text=True)).group(1)
    assert link not in client.get("/devices/displays").get_data(as_text=True)  # shown once only
    screen = app.test_client()
    confirm = screen.get(link)
    assert confirm.status_code == 200 and "Set up this screen" in confirm.get_data(as_text=True)
    set_up = screen.post(link, data={"csrf_token": csrf_token(screen)})
    assert set_up.status_code == 302 and set_up.headers["Location"] == "/display"
    cookie = next(c for c in set_up.headers.getlist("Set-Cookie") if c.startswith("mr_enrolment="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    max_age = int(re.search(r"Max-Age=(\d+)", cookie).group(1))
    assert 89 * 86400 < max_age <= 90 * 86400
    assert screen.get("/display").status_code == 200
    # The link works once: on another device it is refused.
    other = app.test_client()
    assert other.get(link).status_code == 404
    assert other.post(link, data={"csrf_token": csrf_token(other)}).status_code == 400
    assert audited(app, "device_enrolment_created") == 1 and audited(app, "device_enrolled") == 1


def test_the_display_shows_the_teams_calls_without_names_or_free_text(app, client, trust, family):
    family.submit()
    enrol_display(app, client, trust)
    page = html.unescape(client.get("/display").get_data(as_text=True))
    assert "Ward 7" in page
    assert "Breathing, sleepy or confused" in page and "Family or carer" in page and "Nobody yet" in page
    assert "New arrival" in page and "Not claimed: 1" in page
    for secret in ("Pat Jones", "P J", "Sam Jones", "breathing fast", "doctor would come later", "07400"):
        assert secret not in page, secret
    assert 'href="/triage/c/' not in page  # acting on a call needs a person's sign-in
    assert "Sign in to act on a call" in page


def test_the_display_keeps_updating_with_nobody_signed_in_and_304s_when_nothing_changed(app, client, trust, family):
    enrol_display(app, client, trust)
    first = client.get("/display/rows")
    etag = first.headers["ETag"]
    assert "No open calls" in first.get_data(as_text=True)
    assert client.get("/display/rows", headers={"If-None-Match": etag}).status_code == 304
    type(family)(app.test_client()).submit()  # a family raises a call on their own phone
    later = client.get("/display/rows", headers={"If-None-Match": etag})
    assert later.status_code == 200 and "New arrival" in later.get_data(as_text=True)


def test_an_hour_after_everyone_signed_out_a_new_call_still_shows(app, client, trust, family):
    enrol_display(app, client, trust)
    with time_machine.travel(utcnow() + timedelta(hours=1), tick=False):
        family.submit()
        assert "New arrival" in client.get("/display/rows").get_data(as_text=True)


def test_a_turned_off_display_says_so_at_its_next_refresh(app, client, trust):
    device_id = enrol_display(app, client, trust)
    manager = app.test_client()
    manager_id, _ = create_staff(app, "manager", site_id=trust["site"], totp_secret=MFA)
    sign_in_directly(app, manager, manager_id)
    response = manager.post(f"/devices/{device_id}/revoke", data={"csrf_token": csrf_token(manager)})
    assert response.status_code == 302
    refused = client.get("/display/rows")
    assert refused.status_code == 403 and "cancelled by a manager" in refused.get_data(as_text=True)
    assert audited(app, "device_revoked") == 1


def test_an_enrolment_ends_after_90_days(app, client, trust):
    enrol_display(app, client, trust)
    with time_machine.travel(utcnow() + timedelta(days=77), tick=False):
        page = client.get("/display")
        assert page.status_code == 200 and "set-up ends soon" in page.get_data(as_text=True)
    with time_machine.travel(utcnow() + timedelta(days=90, minutes=1), tick=False):
        ended = client.get("/display")
        assert ended.status_code == 403 and "has ended" in ended.get_data(as_text=True)


def test_a_set_up_link_expires_after_an_hour(app, trust):
    token = new_link(app, trust)
    with time_machine.travel(utcnow() + timedelta(minutes=61), tick=False), app.app_context():
        assert devices.pending_link(token) is None
        with pytest.raises(Problem, match="expired"):
            devices.enrol(token, "127.0.0.1")


def test_a_display_works_only_on_the_trusts_address_ranges(app, client, trust):
    set_ranges(app, "10.20.0.0/16")
    token = new_link(app, trust)
    with app.app_context(), write_intent():
        with pytest.raises(Problem, match="not on the hospital network"):
            devices.enrol(token, "192.0.2.9")
        device, secret = devices.enrol(token, "10.20.3.4")
        db.session.commit()
    client.set_cookie(app.config["ENROLMENT_COOKIE_NAME"], secret)
    refused = client.get("/display")  # the test client comes from 127.0.0.1
    assert refused.status_code == 403 and "not on the hospital network" in refused.get_data(as_text=True)
    assert client.get("/display", environ_base={"REMOTE_ADDR": "10.20.9.9"}).status_code == 200


def test_production_sets_up_no_display_until_the_ranges_are_set(app, trust, monkeypatch):
    monkeypatch.setitem(app.config, "DEVICE_ADDRESS_RANGES_REQUIRED", True)
    with pytest.raises(Problem, match="address ranges"):
        new_link(app, trust)
    set_ranges(app, "10.0.0.0/8")
    token = new_link(app, trust)
    with app.app_context(), write_intent():
        devices.enrol(token, "10.1.2.3")


def test_only_the_first_use_each_day_is_audited_never_each_refresh(app, client, trust):
    enrol_display(app, client, trust)
    for _ in range(3):
        client.get("/display/rows")
    assert audited(app, "device_used") == 0  # enrolling counts as its first use of the day
    with time_machine.travel(utcnow() + timedelta(days=1), tick=False):
        for _ in range(3):
            client.get("/display/rows")
    assert audited(app, "device_used") == 1


def test_the_sign_in_page_says_how_many_calls_wait_on_a_display_only(app, client, trust, family):
    family.submit()
    family.submit(worry_details="Another worry", patient_name="Alex Smith")
    assert "waiting to be claimed" not in app.test_client().get("/auth/sign-in").get_data(as_text=True)
    enrol_display(app, client, trust)
    page = html.unescape(client.get("/auth/sign-in").get_data(as_text=True))
    assert "2 calls waiting to be claimed" in page and "Back to the queue display" in page


def test_a_manager_sees_and_turns_off_only_their_own_sites_displays(app, client, trust):
    device_id = enrol_display(app, app.test_client(), trust)
    with app.app_context(), write_intent():
        from tracker.services.records import audit
        from tracker.services.setup import hospital

        other = hospital.add_site(audit.Actor.cli(), code="far", name="Far Hospital")
        db.session.commit()
        other_site = other.id
    manager_id, _ = create_staff(app, "manager", site_id=other_site, totp_secret=MFA)
    sign_in_directly(app, client, manager_id)
    assert f'data-display-row="{device_id}"' not in client.get("/devices/displays").get_data(as_text=True)
    client.post(f"/devices/{device_id}/revoke", data={"csrf_token": csrf_token(client)})
    with app.app_context():
        assert db.session.get_one(EnrolledDevice, device_id).revoked_at is None


def test_the_address_ranges_are_checked_when_set(app, trust):
    runner = app.test_cli_runner()
    bad = runner.invoke(args=[*SETUP_TRUST, "--device-address-ranges", "10.0.0.0/8, the ward"])
    assert bad.exit_code != 0 and "not an address range" in bad.output
    good = runner.invoke(args=[*SETUP_TRUST, "--device-address-ranges", "10.0.0.1/8 192.168.4.0/24"])
    assert good.exit_code == 0, good.output
    with app.app_context():
        assert db.session.get_one(Settings, 1).device_address_ranges == "10.0.0.0/8, 192.168.4.0/24"

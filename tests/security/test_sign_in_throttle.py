"""Nobody can lock a clinician out by guessing at their account (OWASP's device-cookie pattern):
from a device where the owner has signed in before, the owner is never refused; from anywhere
else, wrong passwords for one account are slowed with a growing Retry-After (at most a minute)
so that fewer than 100 an hour can be tried; many wrong passwords from one address only slow it."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
import time_machine

from tests.conftest import create_staff
from tests.security.helpers import PASSWORD, TOTP_SECRET, csrf, enter_code, sign_in
from tracker.clock import utcnow
from tracker.models import AuditEvent, SystemAlarm

ATTACKER_ADDRESSES = [f"198.51.100.{n}" for n in range(1, 40)]
HOSPITAL_NAT = "10.20.30.40"


@pytest.fixture(autouse=True)
def clock():
    """Time stands still unless a test moves it, so waits are exact however slow the machine is."""
    with time_machine.travel(utcnow(), tick=False) as traveller:
        yield traveller


@pytest.fixture
def nurse(app, trust):
    return create_staff(app, "outreach", email="nurse@test.invalid", team_ids=[trust["team"]])[0]


@pytest.fixture
def owners_phone(app, nurse):
    """The owner's phone: it has signed in once before (and signed out), so it holds a known-device cookie."""
    phone = app.test_client()
    assert sign_in(phone, "nurse@test.invalid", address=HOSPITAL_NAT).status_code == 302
    phone.post("/auth/sign-out", data={"csrf_token": csrf(phone, "/auth/sign-out")})
    return phone


def attack(app, count: int, email="nurse@test.invalid") -> list[int]:
    """Wrong passwords from many addresses, each from a fresh browser (no cookies)."""
    statuses = []
    for n in range(count):
        attacker = app.test_client()
        statuses.append(
            sign_in(
                attacker, email, "not the password at all", address=ATTACKER_ADDRESSES[n % len(ATTACKER_ADDRESSES)]
            ).status_code
        )
    return statuses


def test_the_owner_on_a_known_device_signs_in_at_once_during_an_attack(app, nurse, owners_phone):
    statuses = attack(app, 40)
    assert 429 in statuses  # the attack was slowed
    assert sign_in(owners_phone, "nurse@test.invalid", address=HOSPITAL_NAT).status_code == 302
    assert owners_phone.get("/triage/").status_code == 200


def test_the_owner_on_a_new_device_gets_in_within_the_documented_wait(app, nurse, clock):
    attack(app, 40)
    new_phone = app.test_client()
    response = sign_in(new_phone, "nurse@test.invalid", address=HOSPITAL_NAT)
    assert response.status_code == 429
    wait = int(response.headers["Retry-After"])
    assert 0 < wait <= 60
    assert f"Wait {wait} second" in response.get_data(as_text=True)
    clock.shift(timedelta(seconds=wait))
    assert sign_in(new_phone, "nurse@test.invalid", address=HOSPITAL_NAT).status_code == 302


def test_a_slowed_attempt_is_answered_without_checking_the_password(app, nurse, monkeypatch):
    from tracker.services.people import auth

    attack(app, 40)
    checks = []
    real = auth.verify_password
    monkeypatch.setattr(auth, "verify_password", lambda *a: checks.append(1) or real(*a))
    response = sign_in(app.test_client(), "nurse@test.invalid", PASSWORD, address="203.0.113.9")
    assert response.status_code == 429 and "Retry-After" in response.headers
    assert checks == []


def test_no_more_than_100_wrong_passwords_an_hour_can_be_tried_against_one_account(app, nurse, monkeypatch, clock):
    """An attacker who retries the moment each wait ends, for an hour and a half, from ever-new addresses."""
    from tracker.services.people import auth

    checked_at = []
    real = auth.verify_password
    monkeypatch.setattr(auth, "verify_password", lambda *a: checked_at.append(utcnow()) or real(*a))
    start = utcnow()
    moment = start
    n = 0
    while moment < start + timedelta(minutes=90):
        response = sign_in(
            app.test_client(),
            "nurse@test.invalid",
            f"wrong guess number {n}",
            address=ATTACKER_ADDRESSES[n % len(ATTACKER_ADDRESSES)],
        )
        n += 1
        if response.status_code == 429:
            wait = timedelta(seconds=int(response.headers["Retry-After"]))
            clock.shift(wait)
            moment += wait
        else:
            assert response.status_code == 400
    for first in checked_at:
        in_an_hour = [t for t in checked_at if first <= t < first + timedelta(hours=1)]
        assert len(in_an_hour) < 100
    assert len(checked_at) > 20  # the attacker was slowed, never shut out for good


def test_wrong_passwords_from_one_address_slow_it_down_and_never_refuse_a_known_device(app, nurse, owners_phone, clock):
    # A password spray from the hospital's own address: one guess at each of many accounts.
    statuses = [
        sign_in(app.test_client(), f"person{n}@test.invalid", f"spray {n}", address=HOSPITAL_NAT).status_code
        for n in range(60)
    ]
    slowed = [n for n, status in enumerate(statuses) if status == 429]
    assert slowed and slowed[0] >= 30, "the address was slowed too early, or not at all"
    response = sign_in(app.test_client(), "nurse@test.invalid", PASSWORD, address=HOSPITAL_NAT)
    assert response.status_code == 429 and int(response.headers["Retry-After"]) <= 10  # slowed, not refused
    clock.shift(timedelta(seconds=int(response.headers["Retry-After"])))
    assert sign_in(app.test_client(), "nurse@test.invalid", PASSWORD, address=HOSPITAL_NAT).status_code == 302
    assert sign_in(owners_phone, "nurse@test.invalid", address=HOSPITAL_NAT).status_code == 302


def test_a_known_device_used_for_guessing_loses_its_pass(app, nurse, owners_phone):
    statuses = [
        sign_in(owners_phone, "nurse@test.invalid", f"guess {n}", address=HOSPITAL_NAT).status_code for n in range(20)
    ]
    assert statuses[:10] == [400] * 10
    assert 429 in statuses[10:]


def test_an_attack_raises_an_alarm_naming_the_account_on_the_queue_and_in_healthz(
    app, nurse, trust, client, login_as, read
):
    attack(app, 40)
    alarm = read.one(SystemAlarm, SystemAlarm.kind == "sign_in_attack")
    assert alarm.subject == f"user:{nurse}"
    health = client.get("/healthz").get_json()
    assert "sign_in_attack" in health["alarms"] and health["accounts_under_attack"] == [nurse]
    login_as("outreach")
    queue = client.get("/triage/").get_data(as_text=True)
    assert "nurse@test.invalid" in queue and "guess" in queue


def test_the_alarm_clears_itself_an_hour_after_the_last_wrong_password(app, nurse, read, clock):
    from tracker.worker import Worker

    attack(app, 40)
    worker = Worker(app)
    worker.run_once()
    assert read.all(SystemAlarm, SystemAlarm.kind == "sign_in_attack", SystemAlarm.cleared_at.is_(None))
    clock.shift(timedelta(minutes=61))
    worker.run_once()
    assert read.all(SystemAlarm, SystemAlarm.kind == "sign_in_attack", SystemAlarm.cleared_at.is_(None)) == []


def test_the_current_password_on_the_password_page_is_throttled_the_same_way(app, nurse, monkeypatch):
    from tracker.services.people import auth

    browser = app.test_client()
    sign_in(browser, "nurse@test.invalid", address="203.0.113.7")
    browser.delete_cookie("mr_known_device")  # as if signed in on a device that keeps no cookies
    statuses = []
    for n in range(20):
        token = csrf(browser, "/auth/password")
        statuses.append(
            browser.post(
                "/auth/password",
                data={
                    "csrf_token": token,
                    "current": f"guess {n}",
                    "new": "plum trolley lantern orbit",
                    "confirm": "plum trolley lantern orbit",
                },
                environ_base={"REMOTE_ADDR": "203.0.113.7"},
            ).status_code
        )
    assert 429 in statuses
    checks = []
    real = auth.verify_password
    monkeypatch.setattr(auth, "verify_password", lambda *a: checks.append(1) or real(*a))
    token = csrf(browser, "/auth/password")
    response = browser.post(
        "/auth/password",
        data={
            "csrf_token": token,
            "current": PASSWORD,
            "new": "plum trolley lantern orbit",
            "confirm": "plum trolley lantern orbit",
        },
        environ_base={"REMOTE_ADDR": "203.0.113.7"},
    )
    assert response.status_code == 429 and "Retry-After" in response.headers and checks == []


def test_wrong_codes_are_slowed_too_but_the_owner_on_a_known_device_gets_through(app, trust, clock):
    create_staff(app, "manager", email="lead@test.invalid", site_id=trust["site"], totp_secret=TOTP_SECRET)
    laptop = app.test_client()
    assert sign_in(laptop, "lead@test.invalid").headers["Location"] == "/auth/sign-in/code"
    assert enter_code(laptop).status_code == 302
    laptop.post("/auth/sign-out", data={"csrf_token": csrf(laptop, "/auth/sign-out")})
    thief = app.test_client()  # knows the password, not the code
    sign_in(thief, "lead@test.invalid", address="203.0.113.5")
    statuses = [enter_code(thief, code=f"{n:06d}", address="203.0.113.5").status_code for n in range(30)]
    assert 429 in statuses
    clock.shift(timedelta(seconds=31))  # the next code: the last one was used
    assert sign_in(laptop, "lead@test.invalid").headers["Location"] == "/auth/sign-in/code"
    assert enter_code(laptop, code=pyotp.TOTP(TOTP_SECRET).now()).status_code == 302


def test_throttled_attempts_are_audited_without_the_address(app, nurse, read):
    attack(app, 40)
    events = read.all(AuditEvent, AuditEvent.action == "sign_in_throttled")
    assert events and all("198.51.100" not in str(event.changes) for event in events)

"""Confirming a sign-in within a session (/auth/confirm), which exports need (docs/architecture.md#security): the
password, and the code for people with an authenticator; throttled like sign-in; audited; back
only to our own pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from tests.conftest import create_staff, sign_in_directly
from tests.records.conftest import code_now, csrf
from tracker.clock import utcnow
from tracker.models import AuditEvent, SessionRecord
from tracker.services.concerns import abuse

PASSWORD = "correct horse battery staple"


def confirm(client, next_url="/records/exports", **fields):
    token = csrf(client, "/auth/confirm")
    return client.post(f"/auth/confirm?next={next_url}", data={"csrf_token": token, **fields})


def test_the_password_and_code_confirm_it_is_you(app, client, trust, manager, read):
    later = utcnow() + timedelta(minutes=10)
    with time_machine.travel(later, tick=False):
        response = confirm(client, password=PASSWORD, code=code_now())
    assert response.status_code == 302 and response.headers["Location"] == "/records/exports"
    record = read.all(SessionRecord)[-1]
    assert abs((record.authenticated_at - later).total_seconds()) < 1
    event = read.one(AuditEvent, AuditEvent.action == "sign_in_confirmed")
    assert (event.actor_id, event.object_id, event.changes) == (manager, record.id, {"mfa": True})


def test_a_wrong_password_or_code_is_refused_and_audited(app, client, trust, manager, read):
    wrong = confirm(client, password="not my password at all", code=code_now())
    assert wrong.status_code == 400 and "Enter your correct password" in wrong.get_data(as_text=True)
    no_code = confirm(client, password=PASSWORD, code="000000")
    assert no_code.status_code == 400 and "Enter the current 6-digit code" in no_code.get_data(as_text=True)
    assert read.count(AuditEvent, AuditEvent.action == "sign_in_failed") == 2
    assert read.count(AuditEvent, AuditEvent.action == "sign_in_confirmed") == 0


def test_people_without_an_authenticator_give_their_password_only(app, client, trust):
    user_id, password = create_staff(app, "outreach", team_ids=[trust["team"]])
    sign_in_directly(app, client, user_id)
    page = client.get("/auth/confirm").get_data(as_text=True)
    assert "Security code" not in page
    assert confirm(client, "/triage/", password=password).headers["Location"] == "/triage/"


def test_confirming_is_throttled_like_signing_in(app, client, trust, manager):
    abuse.reset_counts()
    for _ in range(10):
        confirm(client, password="wrong wrong wrong", code="123456")
    throttled = confirm(client, password=PASSWORD, code=code_now())
    assert throttled.status_code == 429 and "Too many attempts" in throttled.get_data(as_text=True)


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example", "/\\evil.example", "javascript:alert(1)"]
)
def test_it_returns_only_to_our_own_pages(client, trust, manager, target):
    response = confirm(client, target, password=PASSWORD, code=code_now())
    assert response.status_code == 302 and response.headers["Location"] == "/triage/"


def test_signed_out_people_are_sent_to_sign_in(client, trust):
    response = client.get("/auth/confirm")
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/sign-in")

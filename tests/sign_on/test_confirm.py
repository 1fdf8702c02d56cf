""" "Confirm it is you" (exports, changing the authenticator) in a session the trust's account started: a code
from the authenticator where the person has one, then the provider asks for the trust account again; never
the local password, which a linked account may not know or use (docs/architecture.md#sign-on)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import time_machine

from tests.sign_on.conftest import SECRET, path_of, sign_on_as, staff
from tests.sign_on.test_local_passwords import PASSWORD, csrf
from tracker.models import AuditEvent, SessionRecord

EXPORTS = "/records/exports"


def signed_on_manager(app, client, provider, trust) -> None:
    staff(app, "manager", site_id=trust["site"], link="manager-sub")
    sign_on_as(client, provider, "manager-sub")
    client.post(
        "/auth/sign-in/code", data={"csrf_token": csrf(client, "/auth/sign-in/code"), "code": pyotp.TOTP(SECRET).now()}
    )


def test_a_signed_on_manager_confirms_with_a_code_and_the_trust_account(sso_app, sso_client, provider, trust, read):
    signed_on_manager(sso_app, sso_client, provider, trust)
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=10), tick=True):
        asked = sso_client.get(f"/auth/confirm?next={EXPORTS}").get_data(as_text=True)
        assert "Continue with your trust account" in asked and 'name="password"' not in asked
        token = csrf(sso_client, f"/auth/confirm?next={EXPORTS}")
        password = sso_client.post(f"/auth/confirm?next={EXPORTS}", data={"csrf_token": token, "password": PASSWORD})
        assert password.status_code == 400  # not the local password
        wrong = sso_client.post(f"/auth/sign-on/confirm?next={EXPORTS}", data={"csrf_token": token, "code": "000000"})
        assert wrong.status_code == 400
        code = pyotp.TOTP(SECRET).at(datetime.now(UTC) + timedelta(seconds=30))  # not the code used to sign in
        to_provider = sso_client.post(f"/auth/sign-on/confirm?next={EXPORTS}", data={"csrf_token": token, "code": code})
        location = to_provider.headers["Location"]
        assert location.startswith(f"{provider.issuer}/oauth2/authorize") and "prompt=login" in location
        back = sso_client.get(path_of(provider.sign_in_at(location, "manager-sub")))
        assert back.headers.get("Location") == EXPORTS, [
            e.changes for e in read.all(AuditEvent, AuditEvent.action == "sign_on_refused")
        ]
        record = read.one(SessionRecord)
        assert datetime.now(UTC) - record.authenticated_at < timedelta(minutes=1)
    confirmed = read.one(AuditEvent, AuditEvent.action == "sign_in_confirmed")
    assert confirmed.changes == {"mfa": True, "sign_on": True}


def test_confirming_with_someone_elses_trust_account_is_refused(sso_app, sso_client, provider, trust, read):
    signed_on_manager(sso_app, sso_client, provider, trust)
    staff(sso_app, "outreach", team_ids=[trust["team"]], link="someone-else")
    token = csrf(sso_client, f"/auth/confirm?next={EXPORTS}")
    code = pyotp.TOTP(SECRET).at(datetime.now(UTC) + timedelta(seconds=30))
    location = sso_client.post(f"/auth/sign-on/confirm?next={EXPORTS}", data={"csrf_token": token, "code": code})
    answer = sso_client.get(path_of(provider.sign_in_at(location.headers["Location"], "someone-else")))
    assert answer.status_code == 403
    assert read.count(AuditEvent, AuditEvent.action == "sign_in_confirmed") == 0

"""Signing in with the trust's account against a real OpenID provider on loopback (tests/sign_on/conftest.py):
who gets in, and every way an answer from the provider, or something pretending to be one, is refused."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pyotp
import time_machine

from tests.sign_on.conftest import SECRET, nonce_of, path_of, sign_on_as, staff, start
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import AuditEvent, SessionRecord, SignOnLink, SignOnRequest, User


def refusals(read) -> list:
    return [e.changes["reason"] for e in read.all(AuditEvent, AuditEvent.action == "sign_on_refused")]


def test_a_linked_clinician_signs_in_with_their_trust_account(sso_app, sso_client, provider, trust, read):
    user_id = staff(sso_app, "outreach", team_ids=[trust["team"]], link="nurse-1")
    provider.person("nurse-1", name="A Nurse")
    authorize = start(sso_client)
    query = authorize.split("?", 1)[1]
    assert authorize.startswith(f"{provider.issuer}/oauth2/authorize")  # from the discovered metadata
    assert "code_challenge_method=S256" in query and "code_challenge=" in query and "nonce=" in query
    landed = sso_client.get(path_of(provider.sign_in_at(authorize, "nurse-1")))
    assert landed.status_code == 302 and landed.headers["Location"] == "/triage/"
    assert sso_client.get("/triage/").status_code == 200
    session = read.one(SessionRecord)
    assert session.user_id == user_id and session.sign_on and session.mfa_at is None
    assert read.one(SignOnLink).last_used_at is not None
    assert read.one(SignOnRequest).used_at is not None
    signed_in = read.one(AuditEvent, AuditEvent.action == "signed_in")
    assert signed_in.changes == {"mfa": False, "sign_on": True}


def test_a_token_the_provider_issued_to_another_application_is_refused(
    sso_app, sso_client, provider, provider_traffic, trust, read
):
    """Wrong audience: a genuine token, signed by the trust's provider and carrying this trip's nonce, but issued
    to another of the trust's applications (a token substituted on the way), is not a sign-in here."""
    staff(sso_app, "outreach", team_ids=[trust["team"]], link="nurse-1")
    authorize = start(sso_client)
    elsewhere = provider.token_for("another-application", nonce_of(authorize), "nurse-1")
    provider_traffic.rewrite_token(lambda _ours: elsewhere)
    answer = sso_client.get(path_of(provider.sign_in_at(authorize, "nurse-1")))
    assert answer.status_code == 403
    assert "did not work" in answer.get_data(as_text=True)
    assert refusals(read) == ["invalid_claim:aud"]
    assert read.count(SessionRecord) == 0


def test_a_trust_account_linked_to_nobody_is_refused_with_whom_to_ask(sso_app, sso_client, provider, trust, read):
    """No self-enrolment, and never a match by e-mail: this person's trust account gives the e-mail address of a
    staff account, which is not linked to it."""
    staff(sso_app, "outreach", email="stranger@test.invalid", team_ids=[trust["team"]])
    provider.person("stranger", email="stranger@test.invalid", email_verified=True)
    answer = sign_on_as(sso_client, provider, "stranger")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 403
    assert "Your trust account is not linked to an account on the Martha&#39;s Rule Tracker" in page
    assert "the outreach team&#39;s lead nurse" in page  # OIDC_HELP_CONTACT: whom to ask
    assert refusals(read) == ["not_linked"]
    assert read.count(SessionRecord) == 0 and read.count(SignOnLink) == 0
    assert sso_client.get("/triage/").status_code == 302


def test_a_closed_account_is_refused_though_its_trust_account_still_works(sso_app, sso_client, provider, trust, read):
    user_id = staff(sso_app, "outreach", team_ids=[trust["team"]], link="leaver")
    with sso_app.app_context(), write_intent():
        db.session.get_one(User, user_id).active = False  # closed here after it was linked
        db.session.commit()
    answer = sign_on_as(sso_client, provider, "leaver")
    assert answer.status_code == 403
    assert "Your account on the Martha&#39;s Rule Tracker has been closed" in answer.get_data(as_text=True)
    assert refusals(read) == ["inactive"]
    assert read.count(SessionRecord) == 0


def test_a_replayed_answer_from_the_provider_is_refused(sso_app, sso_client, provider, trust, read):
    """The provider's answer is used once: replayed in the same browser, or with a copy of the browser's cookie
    taken before it was used (the session cookie is the browser's, so the state must be used up on the server)."""
    staff(sso_app, "outreach", team_ids=[trust["team"]], link="nurse-1")
    authorize = start(sso_client)
    stolen_cookie = sso_client.get_cookie(sso_app.config["SESSION_COOKIE_NAME"]).value
    back = path_of(provider.sign_in_at(authorize, "nurse-1"))
    assert sso_client.get(back).status_code == 302  # signed in
    assert sso_client.get(back).status_code == 403  # the same browser again: its state is gone
    thief = sso_app.test_client()
    thief.set_cookie(sso_app.config["SESSION_COOKIE_NAME"], stolen_cookie)
    replay = thief.get(back)
    assert replay.status_code == 403
    assert "already used" in replay.get_data(as_text=True)
    assert refusals(read) == ["state_mismatch", "state_replayed"]
    assert read.count(SessionRecord) == 1


def test_an_answer_for_another_browsers_trip_is_refused(sso_app, sso_client, provider, trust, read):
    """Login CSRF: an attacker's own answer from the provider, opened in the victim's browser, signs nobody in."""
    staff(sso_app, "outreach", team_ids=[trust["team"]], link="attacker")
    attackers = sso_app.test_client()
    back = path_of(provider.sign_in_at(start(attackers), "attacker"))
    start(sso_client)  # the victim's own trip, with a state of its own
    assert sso_client.get(back).status_code == 403
    assert refusals(read) == ["state_mismatch"]
    assert read.count(SessionRecord) == 0


def _forged(token: dict) -> dict:
    """The ID token's claims changed (another subject) with the provider's signature left as it was."""
    header, payload, signature = token["id_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "the-chief-executive"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return {**token, "id_token": f"{header}.{forged}.{signature}"}


def test_an_id_token_whose_signature_does_not_match_is_refused(
    sso_app, sso_client, provider, provider_traffic, trust, read
):
    staff(sso_app, "manager", site_id=trust["site"], link="the-chief-executive")
    provider_traffic.rewrite_token(_forged)
    answer = sign_on_as(sso_client, provider, "nurse-1")
    assert answer.status_code == 403
    assert refusals(read) == ["bad_signature"]
    assert read.count(SessionRecord) == 0


def test_an_id_token_signed_with_no_algorithm_is_refused(sso_app, sso_client, provider, provider_traffic, trust, read):
    def unsigned(token: dict) -> dict:
        _header, payload, _signature = _forged(token)["id_token"].split(".")
        none = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
        return {**token, "id_token": f"{none}.{payload}."}

    staff(sso_app, "manager", site_id=trust["site"], link="the-chief-executive")
    provider_traffic.rewrite_token(unsigned)
    assert sign_on_as(sso_client, provider, "nurse-1").status_code == 403
    assert len(refusals(read)) == 1 and read.count(SessionRecord) == 0


def test_an_expired_id_token_is_refused(sso_app, sso_client, provider, trust, read):
    """The provider signs tokens that expire within the hour, at its own (real) time; the tracker checks them
    against its own clock, here two hours ahead."""
    staff(sso_app, "outreach", team_ids=[trust["team"]], link="nurse-1")
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=2), tick=True):
        answer = sign_on_as(sso_client, provider, "nurse-1")
    assert answer.status_code == 403
    assert refusals(read) == ["expired_token:exp"]
    assert read.count(SessionRecord) == 0


def test_an_answer_after_ten_minutes_is_refused(sso_app, sso_client, provider, trust, read):
    staff(sso_app, "outreach", team_ids=[trust["team"]], link="nurse-1")
    authorize = start(sso_client)
    back = path_of(provider.sign_in_at(authorize, "nurse-1"))
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=11), tick=True):
        assert sso_client.get(back).status_code == 403
    assert refusals(read) == ["state_expired"]


def test_managers_still_give_the_trackers_own_code_after_signing_on(sso_app, sso_client, provider, trust, read):
    staff(sso_app, "manager", site_id=trust["site"], link="manager-1")
    answer = sign_on_as(sso_client, provider, "manager-1")
    assert answer.status_code == 302 and answer.headers["Location"] == "/auth/sign-in/code"
    assert sso_client.get("/reports/").status_code == 302  # not signed in yet
    page = sso_client.get("/auth/sign-in/code").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    done = sso_client.post("/auth/sign-in/code", data={"csrf_token": token, "code": pyotp.TOTP(SECRET).now()})
    assert done.status_code == 302
    session = read.one(SessionRecord)
    assert session.sign_on and session.mfa_at is not None


def test_with_oidc_mfa_assured_managers_sign_on_without_the_trackers_code(
    sso_app, sso_client, provider, trust, read, monkeypatch
):
    """OIDC_MFA_ASSURED says the provider enforces its own multi-factor sign-in (the token's claims are not
    trusted for that: Entra's carry no `amr`): no code, and no authenticator needed here."""
    monkeypatch.setitem(sso_app.config, "OIDC_MFA_ASSURED", True)
    staff(sso_app, "manager", site_id=trust["site"], link="manager-1", totp_secret=None)
    answer = sign_on_as(sso_client, provider, "manager-1")
    assert answer.status_code == 302 and answer.headers["Location"] == "/triage/"
    assert sso_client.get("/triage/").status_code == 200
    assert read.one(SessionRecord).mfa_at is None


def test_without_oidc_mfa_assured_a_manager_with_no_authenticator_must_set_one_up(sso_app, sso_client, provider, trust):
    staff(sso_app, "manager", site_id=trust["site"], link="manager-1", totp_secret=None)
    answer = sign_on_as(sso_client, provider, "manager-1")
    assert answer.headers["Location"] == "/auth/mfa"
    assert sso_client.get("/triage/").headers["Location"] == "/auth/mfa"


def test_entra_accounts_are_matched_by_tenant_and_object_id(sso_app, sso_client, provider, trust, read, monkeypatch):
    """For Entra the subject is `oid` (the same in every application of the tenant) and the tenant must be the
    trust's: an account of another tenant with the same `oid` is refused."""
    monkeypatch.setitem(sso_app.config, "OIDC_TENANT_ID", "trust-tenant")
    user_id = staff(sso_app, "outreach", team_ids=[trust["team"]], link="object-id-1")
    provider.person("pairwise-sub-1", tid="trust-tenant", oid="object-id-1")
    provider.person("pairwise-sub-2", tid="another-tenant", oid="object-id-1")
    assert sign_on_as(sso_app.test_client(), provider, "pairwise-sub-2").status_code == 403
    assert refusals(read) == ["tenant"]
    assert sign_on_as(sso_client, provider, "pairwise-sub-1").status_code == 302
    assert read.one(SessionRecord).user_id == user_id


def test_the_provider_being_down_is_said_plainly(sso_app, sso_client, trust, monkeypatch, read):
    monkeypatch.setitem(sso_app.config, "OIDC_ISSUER", "http://127.0.0.1:9")  # nothing listens there
    answer = sso_client.get("/auth/sign-on")
    assert answer.status_code == 503
    assert "cannot be reached" in answer.get_data(as_text=True)
    assert refusals(read) == ["metadata"]


def test_signing_out_offers_the_providers_own_sign_out(sso_app, sso_client, provider, trust, read):
    staff(sso_app, "outreach", team_ids=[trust["team"]], link="nurse-1")
    sign_on_as(sso_client, provider, "nurse-1")
    page = sso_client.get("/auth/sign-out").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    out = sso_client.post("/auth/sign-out", data={"csrf_token": token})
    assert out.headers["Location"] == "/auth/signed-out"
    page = sso_client.get("/auth/signed-out").get_data(as_text=True)
    assert f"{provider.issuer}/oauth2/end_session?client_id=" in page
    assert "post_logout_redirect_uri=" in page
    assert read.one(SessionRecord).revoked_at is not None
    assert sso_client.get("/triage/").status_code == 302


def test_the_sign_in_page_offers_the_trust_account_beside_the_password(sso_client, client):
    assert "Sign in with your trust account" in sso_client.get("/auth/sign-in").get_data(as_text=True)
    assert "Sign in with your trust account" not in client.get("/auth/sign-in").get_data(as_text=True)


def test_an_account_signed_in_by_its_trust_account_is_not_asked_for_a_new_password(
    sso_app, sso_client, provider, trust
):
    staff(sso_app, "outreach", team_ids=[trust["team"]], link="nurse-1", must_change_password=True)
    assert sign_on_as(sso_client, provider, "nurse-1").headers["Location"] == "/triage/"


def test_trips_through_the_provider_are_deleted_after_a_day(sso_app, sso_client, provider, trust, read):
    from tracker.db import write_intent as writing
    from tracker.services import housekeeping

    start(sso_client)
    with sso_app.app_context(), writing():
        assert housekeeping.run()["sign_on_trips"] == 0
        assert housekeeping.run(datetime.now(UTC) + timedelta(days=1, minutes=1))["sign_on_trips"] == 1
        db.session.commit()
    assert read.count(SignOnRequest) == 0


def test_metadata_that_names_another_issuer_is_refused(sso_app, sso_client, provider, trust, read, monkeypatch):
    """The discovered metadata must name the configured issuer exactly (OpenID Connect Discovery §4.3)."""
    monkeypatch.setitem(sso_app.config, "OIDC_ISSUER", f"{provider.issuer}/")
    assert sso_client.get("/auth/sign-on").status_code == 403
    assert refusals(read) == ["metadata_issuer"]

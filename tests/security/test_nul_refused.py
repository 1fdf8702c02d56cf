"""NUL (\\x00) in a request is refused with a 400 before any view runs (web/request_checks.py,
docs/architecture.md#security): PostgreSQL refuses NUL in text, so an unchecked one reached the database as a 500,
and no person types one. Where it may be: the path, the query string, any posted field's name or value, a cookie,
the browser's name. The family's form and Twilio's webhooks read every field themselves and are left to do so: the
family's text comes back beside its field with what they typed (nothing lost), a received text is cleaned, never
refused (tests/webhooks/test_hostile_webhooks.py)."""

from __future__ import annotations

import pytest

from tests.conftest import create_staff
from tests.test_auth import csrf, sign_in
from tests.triage.test_authorization_matrix import csrf_token
from tracker.models import AuditEvent, Concern, SessionRecord

PASSWORD = "correct horse battery staple"


@pytest.fixture
def nurse(app, trust):
    return create_staff(app, "outreach", email="nurse@test.invalid", team_ids=[trust["team"]])[0]


def refused(response) -> bool:
    return response.status_code == 400 and "Something went wrong with that request" in response.get_data(as_text=True)


@pytest.mark.parametrize("email", ["nurse@test.invalid\x00", "\x00", "nurse\x00@test.invalid"])
def test_nul_in_the_sign_in_email_is_refused_and_signs_nobody_in(client, nurse, read, email):
    assert refused(sign_in(client, email))
    assert read.count(SessionRecord) == 0


def test_nul_in_the_password_or_a_field_name_is_refused(client, nurse, read):
    assert refused(sign_in(client, "nurse@test.invalid", PASSWORD + "\x00"))
    data = {"csrf_token": csrf(client), "email": "nurse@test.invalid", "password": PASSWORD, "e\x00mail": "x"}
    assert refused(client.post("/auth/sign-in", data=data))
    assert read.count(SessionRecord) == 0


def test_nul_in_the_browsers_name_is_refused_before_a_session_stores_it(client, nurse, read):
    token = csrf(client)
    response = client.post(
        "/auth/sign-in",
        data={"csrf_token": token, "email": "nurse@test.invalid", "password": PASSWORD},
        headers={"User-Agent": "Mozilla/5.0\x00"},
    )
    assert refused(response) and read.count(SessionRecord) == 0


@pytest.mark.parametrize(
    "path", ["/auth/sign-in?next=%00", "/?q=ward%007", "/w/w7?lang=%00", "/privacy?ward=w7%00", "/%00"]
)
def test_nul_in_a_query_or_a_path_is_refused(client, trust, path):
    assert refused(client.get(path))


def test_a_family_page_with_nul_in_its_address_still_says_what_to_do_and_whom_to_phone(client, trust):
    for path in ("/w/w7%00", "/?q=%00", "/w/w7?lang=pl%00"):
        response = client.get(path)
        html = response.get_data(as_text=True)
        # The error page never asks the database: the instruction and number are the last known, or the fallback.
        assert refused(response) and "In an emergency" in html and "outreach team" in html, path


def test_nul_in_a_staff_pages_path_is_refused_before_it_reaches_the_database(client, login_as):
    login_as("manager")
    assert refused(client.get("/on-call/gen%00ccot/policy"))
    assert refused(client.get("/triage/c/MR-7QK4-92%00"))
    assert refused(client.get("/on-call/gen-ccot/policy?x%00=1"))


def test_nul_in_a_cookie_is_refused(app, client, trust):
    client.set_cookie(app.config["DEVICE_COOKIE_NAME"], "abc\x00def")
    assert refused(client.get("/w/w7"))


def test_nul_in_a_managers_filters_or_export_is_refused_and_nothing_is_exported(client, login_as, read):
    login_as("manager")
    assert refused(client.get("/reports/?from-day=%00&from-month=8&from-year=2025"))
    assert refused(client.get("/reports/?site=%00"))
    before = read.count(AuditEvent)
    data = {"csrf_token": csrf_token(client), "from-day": "1\x00", "from-month": "1", "from-year": "2026"}
    assert refused(client.post("/records/exports/concerns", data=data))
    assert refused(client.post("/records/exports/concerns?name=x%00.csv", data={"csrf_token": csrf_token(client)}))
    assert read.count(AuditEvent) == before


def test_nothing_of_a_staff_form_with_nul_is_saved(client, login_as, read):
    login_as("manager")
    before = read.count(AuditEvent)
    response = client.post(
        "/on-call/gen-ccot/policy", data={"csrf_token": csrf_token(client), "fallback_name": "N\x00"}
    )
    assert refused(response) and read.count(AuditEvent) == before


@pytest.mark.parametrize(
    "field",
    [
        "caller_route",
        "patient_name",
        "worry_categories",
        "worry_details",
        "callback_number",
        "dob_day",
        "dob_month",
        "dob_year",
        "preferred_language",
        "other_language",
        "spoke_to_ward",
        "interpreter_needed",
        "submission_id",
        "website",
        "sms_consent",
    ],
)
def test_nul_in_any_field_of_the_familys_form_is_shown_back_or_dropped_never_stored(family, read, field):
    """The family's form is left to its own checks, so what they typed comes back with a message (400), or the
    field's NUL-bearing value is not kept (a malformed submission id is replaced; a filled honeypot is flagged)."""
    answers = {"dob_day": "15", "dob_month": "3", "dob_year": "1947", "preferred_language": "other"}
    answers |= {"other_language": "Tigrinya", field: "a\x00b"}
    if field == "worry_details":
        answers["caller_name"] = "Keep this"
    response = family.submit(**{**({} if field == "worry_details" else {"worry_details": "Keep this"}), **answers})
    assert response.status_code in (303, 400), response.status_code
    if response.status_code == 400:
        assert "Keep this" in response.get_data(as_text=True)
        assert read.count(Concern) == 0
    else:
        concern = read.one(Concern)
        assert not any("\x00" in str(value) for value in vars(concern).values())

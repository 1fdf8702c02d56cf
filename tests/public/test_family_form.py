"""The family's form through the test client: the journey, validation that keeps what was typed,
one concern per form, and the pages that must always help."""

from __future__ import annotations

import re

import pytest

from tests.conftest import enrol_tablet, hidden_fields, valid_answers
from tracker.models import AuditEvent, Concern, Message


def page(response) -> str:
    return response.get_data(as_text=True)


def test_the_ward_chooser_lists_open_wards_by_site(client, trust):
    html = page(client.get("/"))
    assert "General Hospital" in html
    assert 'href="/w/w7"' in html and 'href="/w/w8"' in html
    assert "/w/w-old" not in html  # retired


def test_the_ward_chooser_filters_without_javascript(client, trust):
    html = page(client.get("/?q=ward 8"))
    assert 'href="/w/w8"' in html and 'href="/w/w7"' not in html
    assert "No wards match" in page(client.get("/?q=zzz"))


# NUL is refused before any view (tests/security/test_nul_refused.py).
@pytest.mark.parametrize("query", ["a" * 500, "<script>", "\x1b[31m", "%C3%28"])
def test_odd_search_text_never_breaks_the_chooser(client, trust, query):
    response = client.get(f"/?q={query}")
    assert response.status_code == 200
    assert "<script>" not in page(response)


def test_every_family_page_shows_the_emergency_instruction_and_the_team_number(client, trust):
    for path in ["/", "/w/w7", "/w/nope", "/w/w-old", "/privacy", "/accessibility"]:
        html = page(client.get(path))
        assert "Press the red buzzer or ask any nurse now. Call 2222." in html, path
        assert "tel:+44207946" in html, path


def test_the_form_page_is_never_cached_and_sets_a_device_cookie(client, trust):
    response = client.get("/w/w7")
    assert response.headers["Cache-Control"] == "no-store"
    assert "mr_device=" in response.headers.get("Set-Cookie", "")
    assert 'autocomplete="off"' in page(response)


def test_the_form_notes_what_it_is_not_for_without_refusing(client, trust):
    html = page(client.get("/w/w7"))
    assert "parking, food, visiting or complaints" in html
    assert "020 7946 0199" in html  # PALS
    assert "How we use your information" in html


def test_a_ward_with_bed_labels_offers_them_as_a_list(client, trust):
    html = page(client.get("/w/w8"))
    assert '<option value="Bay 1"' in html and "I do not know" in html


def test_a_valid_concern_gives_a_reference_and_one_concern_with_its_texts(family, client, read):
    response = family.submit()
    assert response.status_code == 303 and response.headers["Location"] == "/w/w7/sent"
    html = page(client.get("/w/w7/sent"))
    reference = re.search(r"MR-[A-Z0-9]{4}-[A-Z0-9]{2}", html).group(0)
    assert "Request sent" in html and "07••• ••• 456" in html  # masked: a shared tablet shows nothing personal
    concern = read.one(Concern)
    assert concern.reference == reference
    assert concern.caller_relationship == "daughter" and concern.channel.value == "own_device"
    assert concern.worry_categories == ["breathing", "sleepy_or_confused"]
    assert sorted(m.template_id for m in read.all(Message)) == ["clinician_alert", "family_receipt"]
    assert read.count(AuditEvent, AuditEvent.action == "concern_raised") == 1


def test_a_double_click_creates_one_concern(family, read):
    hidden = family.open()
    first = family.submit(hidden)
    second = family.submit(hidden)
    assert first.status_code == second.status_code == 303
    assert read.count(Concern) == 1


def test_a_patient_may_give_a_bed_instead_of_a_name(family, read):
    response = family.submit(patient_name="", bed="Bay 4, bed 2")
    assert response.status_code == 303
    assert read.one(Concern).bed == "Bay 4, bed 2"


def test_a_landline_is_accepted_and_the_person_is_told_it_cannot_be_texted(family, client, read):
    family.submit(callback_number="020 7946 0000")
    html = page(client.get("/w/w7/sent"))
    assert "We cannot send text messages to 02••• ••• 000" in html
    assert [m.template_id for m in read.all(Message)] == ["clinician_alert"]


def test_the_ward_team_question_never_blocks_a_concern(family, read):
    response = family.submit(
        spoke_to_ward=None,
        ward_response=None,
        callback_number="",
        sms_consent=None,
        caller_name="",
        caller_relationship="",
        interpreter_needed=None,
    )
    assert response.status_code == 303
    assert read.one(Concern).spoke_to_ward is None


def test_missing_answers_come_back_in_the_error_summary_with_what_was_typed(family):
    response = family.submit(
        caller_route=None,
        patient_name="",
        worry_categories=[],
        worry_details="",
        caller_name="Keep Me",
        callback_number="07400 999888",
    )
    html = page(response)
    assert response.status_code == 400
    assert "<title>Error:" in html and "There is a problem" in html
    for message in [
        "Select who you are",
        "Enter the patient&#39;s name, or their bed or bay if you do not know their name",
        "Tell us what worries you: tick a box or write it in your own words",
    ]:
        assert message in html
    assert 'href="#caller_route"' in html and 'href="#patient_name"' in html and 'href="#worry_details"' in html
    assert 'value="Keep Me"' in html and 'value="07400 999888"' in html
    assert hidden_fields(html)["submission_id"]


def test_an_expired_form_comes_back_with_the_text_and_a_fresh_token(family, client, read):
    hidden = family.open()
    stale = {**hidden, "csrf_token": "expired-or-forged-token"}
    response = family.submit(stale, worry_details="Please keep this text")
    html = page(response)
    assert response.status_code == 400
    assert "Your request has not been sent yet" in html and "Please keep this text" in html
    fresh = hidden_fields(html)
    assert fresh["csrf_token"] != stale["csrf_token"] and fresh["submission_id"] == hidden["submission_id"]
    assert read.count(Concern) == 0
    assert family.submit(fresh, worry_details="Please keep this text").status_code == 303
    assert read.count(Concern) == 1


def test_a_form_without_any_csrf_token_is_shown_again_not_lost(family, read):
    hidden = family.open()
    del hidden["csrf_token"]
    response = family.submit(hidden, worry_details="No token here")
    assert response.status_code == 400 and "No token here" in page(response)
    assert read.count(Concern) == 0


def test_a_lost_session_cookie_is_handled_like_an_expired_form(family, client, read):
    hidden = family.open()
    client.delete_cookie("session")
    response = family.submit(hidden, worry_details="Cookie went missing")
    assert response.status_code == 400 and "Cookie went missing" in page(response)


def test_the_confirmation_is_only_for_the_browser_that_sent_the_form(family, app, trust):
    family.submit()
    stranger = app.test_client()
    response = stranger.get("/w/w7/sent")
    assert response.status_code == 302 and response.headers["Location"].startswith("/w/w7")


def test_on_an_enrolled_tablet_the_form_is_a_kiosk_and_a_fresh_one_forgets_the_last_confirmation(
    family, client, app, trust
):
    enrol_tablet(app, client, trust)
    html = page(client.get("/w/w7"))
    assert "data-kiosk-form" in html and 'data-idle-seconds="180"' in html and 'data-warning-seconds="30"' in html
    family.submit()
    sent = page(client.get("/w/w7/sent"))
    assert "data-kiosk-done" in sent and 'data-seconds="60"' in sent and 'http-equiv="refresh"' not in sent
    client.get("/w/w7")  # "Done": the next family's blank form
    assert client.get("/w/w7/sent").status_code == 302  # Back shows nothing of the last family


def test_a_submission_from_an_enrolled_tablet_is_recorded_as_from_the_ward_tablet(family, client, app, trust, read):
    enrol_tablet(app, client, trust)
    family.submit()
    assert read.one(Concern).channel.value == "tablet"


def test_an_unknown_ward_code_says_so_kindly_and_offers_the_wards_and_the_phone(client, trust):
    response = client.get("/w/no-such-ward")
    html = page(response)
    assert response.status_code == 404
    assert "We could not find that ward" in html and 'href="/w/w7"' in html and "020 7946 0100" in html


def test_a_retired_ward_link_still_works_and_suggests_where_its_patients_went(client, trust):
    response = client.get("/w/w-old")
    html = page(response)
    assert response.status_code == 410
    assert "no longer used" in html and "If the patient is now on Ward 7" in html and 'href="/w/w7"' in html


def test_a_code_typed_in_capitals_reaches_the_ward(client, trust):
    response = client.get("/w/W7")
    assert response.status_code == 301 and response.headers["Location"] == "/w/w7"


# NUL is refused before any view (tests/security/test_nul_refused.py).
@pytest.mark.parametrize("code", ["a" * 200, "%E2%80%AEw7", "w7;drop", "w7%20", "%27%20OR%201%3D1"])
def test_hostile_ward_codes_get_the_unknown_ward_page(client, trust, code):
    response = client.get(f"/w/{code}")
    assert response.status_code == 404
    assert "We could not find that ward" in page(response)


def test_a_path_that_is_not_a_ward_code_gets_a_not_found_page_with_the_phone_number(client, trust):
    response = client.get("/w/..%2F..%2Fetc%2Fpasswd")
    assert response.status_code == 404
    assert "Page not found" in page(response) and "tel:" in page(response)


def test_posting_to_an_unknown_ward_is_a_404_not_an_error(client, trust):
    assert client.post("/w/nope", data=valid_answers()).status_code == 404


def test_the_privacy_notice_and_accessibility_statement_exist(client, trust):
    assert "Privacy notice" in page(client.get("/privacy"))
    assert "Accessibility statement" in page(client.get("/accessibility"))


def test_on_a_ward_tablet_every_link_leads_back_to_the_kiosk_form(client, app, trust):
    enrol_tablet(app, client, trust)
    html = page(client.get("/w/w7"))
    assert "Staff sign in" not in html and "Choose a different ward" not in html
    assert 'class="nhsuk-header__service-logo" href="/w/w7"' in html
    assert 'href="/privacy?back=/w/w7"' in html and 'data-kiosk-home="/w/w7"' in html
    privacy = page(client.get("/privacy?back=/w/w7"))
    assert 'href="/w/w7"' in privacy and "Back to the form" in privacy and "Staff sign in" not in privacy
    assert 'data-kiosk-home="/w/w7"' in privacy


@pytest.mark.parametrize(
    "back", ["https://evil.example", "//evil.example", "/triage/", "/w/w7", "/w/w7?kiosk=1", "javascript:alert(1)"]
)
def test_the_privacy_pages_back_link_only_returns_to_a_kiosk_form(client, trust, back):
    """On a device that is not a ward tablet, even our own ward's form is no kiosk to go back to."""
    html = page(client.get("/privacy", query_string={"back": back}))
    assert "Back to the form" not in html and "Staff sign in" in html

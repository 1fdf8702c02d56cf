"""A shorter first page: it asks only what the team needs to act (who you are, the patient or bed, what worries
you, a number), and sending it raises and pages the call. The confirmation then offers an optional second page
(spoken to the ward?, language, interpreter and communication needs, date of birth), added to the same call by
an audited edit that only the browser session that sent the form may make, once, within 30 minutes, filling
empty fields only. A late "interpreter needed" is flagged to whoever has the call."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import time_machine

from tests.conftest import TEAM_LANDLINE, enrol_tablet
from tests.triage.test_authorization_matrix import csrf_token
from tracker.clock import utcnow
from tracker.models import AuditEvent, Concern, ConcernStatus, Message, SpokeToWard

FIRST_PAGE = {"caller_route", "caller_relationship", "caller_name", "patient_name", "bed", "worry_categories",
              "worry_details", "callback_number", "sms_consent"}  # fmt: skip
SECOND_PAGE = {"spoke_to_ward", "ward_response", "preferred_language", "other_language", "interpreter_needed",
               "communication_needs", "dob_day", "dob_month", "dob_year"}  # fmt: skip


def page(response) -> str:
    return response.get_data(as_text=True)


def questions(html: str) -> set[str]:
    return set(re.findall(r'<(?:input|select|textarea)[^>]*\bname="([a-z_]+)"', html)) - {
        "csrf_token",
        "submission_id",
        "website",
    }


def first_page_answers(**overrides) -> dict:
    answers = {
        "caller_route": "family_carer_advocate",
        "caller_relationship": "daughter",
        "patient_name": "Pat Jones",
        "worry_categories": ["breathing"],
        "worry_details": "Mum is breathing fast.",
        "callback_number": "07400 123456",
        "sms_consent": "y",
    }
    answers.update(overrides)
    return {k: v for k, v in answers.items() if v is not None}


def send_first_page(client, family, **overrides):
    return client.post("/w/w7", data={**family.open(), **first_page_answers(**overrides)})


def add_details(client, **answers):
    return client.post("/w/w7/more", data={"csrf_token": csrf_token(client), **answers})


def test_the_first_page_asks_only_what_the_team_needs_to_act(client, trust):
    assert questions(page(client.get("/w/w7"))) == FIRST_PAGE


def test_sending_the_first_page_raises_and_pages_the_call_before_any_second_page(client, family, read):
    response = send_first_page(client, family)
    assert response.status_code == 303 and response.headers["Location"] == "/w/w7/sent"
    assert read.one(Concern).status is ConcernStatus.NEW
    assert "clinician_alert" in [m.template_id for m in read.all(Message)]
    sent = page(client.get("/w/w7/sent"))
    assert "data-more-details" in sent and 'href="/w/w7/more"' in sent and "You can skip this." in sent
    second = page(client.get("/w/w7/more"))
    assert questions(second) == SECOND_PAGE and "Skip these questions" in second


def test_the_second_page_fills_the_same_call_and_is_audited(app, client, family, read):
    send_first_page(client, family)
    response = add_details(
        client,
        spoke_to_ward="yes",
        ward_response="They said wait for the doctor.",
        preferred_language="Polish",
        interpreter_needed="yes",
        communication_needs="Hard of hearing",
        dob_day="15",
        dob_month="3",
        dob_year="1947",
    )
    assert response.status_code == 303 and response.headers["Location"] == "/w/w7/sent"
    concern = read.one(Concern)
    assert concern.spoke_to_ward is SpokeToWard.YES and concern.ward_response == "They said wait for the doctor."
    assert (concern.preferred_language, concern.interpreter_needed) == ("Polish", True)
    assert (concern.communication_needs, concern.patient_dob) == ("Hard of hearing", date(1947, 3, 15))
    event = read.one(AuditEvent, AuditEvent.action == "family_added_details")
    assert event.concern_id == concern.id and set(event.changes["fields"]) == {
        "spoke_to_ward",
        "ward_response",
        "preferred_language",
        "interpreter_needed",
        "communication_needs",
        "patient_dob",
    }
    assert "We have added these details to your request." in page(client.get("/w/w7/sent"))


def test_the_second_page_is_used_once(client, family, read):
    send_first_page(client, family)
    add_details(client, preferred_language="Polish")
    again = add_details(client, preferred_language="Urdu")
    assert again.status_code == 303
    assert "You can no longer add details here" in page(client.get("/w/w7/sent"))
    assert read.one(Concern).preferred_language == "Polish"
    assert "data-more-details" not in page(client.get("/w/w7/sent"))


def test_the_second_page_closes_after_30_minutes(client, family, read):
    send_first_page(client, family)
    with time_machine.travel(utcnow() + timedelta(minutes=31), tick=False):
        assert client.get("/w/w7/more").status_code == 303
        add_details(client, preferred_language="Polish")
    assert read.one(Concern).preferred_language in (None, "")


def test_only_the_session_that_sent_the_form_may_add_details(app, client, family, read):
    send_first_page(client, family)
    stranger = app.test_client()
    stranger.get("/w/w7")
    assert add_details(stranger, preferred_language="Urdu").status_code == 303
    # The same browser after its session ended sees its confirmation again (24 hours), but may no longer edit.
    client.delete_cookie(app.config["SESSION_COOKIE_NAME"])
    assert client.get("/w/w7/sent").status_code == 200
    add_details(client, preferred_language="Urdu")
    assert read.one(Concern).preferred_language in (None, "")


def test_the_second_page_fills_empty_fields_only(client, family, read):
    family.submit(spoke_to_ward="no", ward_response=None, interpreter_needed="no", preferred_language="Polish")
    add_details(client, spoke_to_ward="yes", ward_response="Nobody came", preferred_language="Urdu", dob_year="")
    concern = read.one(Concern)
    assert concern.spoke_to_ward is SpokeToWard.NO and not concern.ward_response
    assert concern.preferred_language == "Polish"


def test_a_late_interpreter_is_flagged_to_whoever_has_the_call(app, client, family, read, login_as):
    send_first_page(client, family)
    nurse = app.test_client()
    from tests.conftest import create_staff, sign_in_directly

    nurse_id, _ = create_staff(app, "outreach", team_ids=[1])
    sign_in_directly(app, nurse, nurse_id)
    reference = read.one(Concern).reference
    assert nurse.post(f"/triage/c/{reference}/claim", data={"csrf_token": csrf_token(nurse)}).status_code == 302
    assert "data-interpreter-added" not in page(nurse.get("/triage/queue/rows"))
    add_details(client, interpreter_needed="yes", preferred_language="Polish")
    assert read.one(Concern).interpreter_added_at is not None
    assert "Interpreter needed: added after sending" in page(nurse.get("/triage/queue/rows"))
    call = page(nurse.get(f"/triage/c/{reference}"))
    assert "data-interpreter-added" in call and "The family said they need an interpreter (Polish)" in call


def test_a_kiosks_next_form_closes_the_last_familys_second_page(app, client, family, trust, read):
    enrol_tablet(app, client, trust)
    send_first_page(client, family)
    more = page(client.get("/w/w7/more"))
    assert "data-kiosk-form" in more and "data-kiosk-always" in more  # it clears when left, touched or not
    client.get("/w/w7")  # the next family's form
    assert client.get("/w/w7/more").status_code == 303
    add_details(client, preferred_language="Urdu")
    assert read.one(Concern).preferred_language in (None, "")


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"dob_day": "15", "dob_month": "3", "dob_year": "47"}, "Year must include 4 numbers"),
        ({"dob_day": "31", "dob_month": "2", "dob_year": "1947"}, "Date of birth must be a real date"),
        ({"preferred_language": "Klingon"}, "Select a language from the list"),
        ({"preferred_language": "other"}, "Tell us which language you prefer"),
    ],
)
def test_a_problem_on_the_second_page_keeps_every_answer(client, family, answers, message):
    send_first_page(client, family)
    refused = add_details(client, communication_needs="Large print please", **answers)
    html = page(refused)
    assert refused.status_code == 400 and "There is a problem" in html and message in html
    assert "Large print please" in html


def test_text_me_without_a_number_says_so(client, family):
    refused = send_first_page(client, family, callback_number="")
    assert refused.status_code == 400
    assert "Enter a mobile phone number for the text messages, or untick the box about text messages" in page(refused)
    assert 'href="#sms_consent"' in page(refused)


def test_every_optional_question_says_optional(client, family):
    first = page(client.get("/w/w7"))
    for label in ("Your name (optional)", "How do you know the patient? (optional)", "Bed or bay (optional)",
                  "Phone number (optional)"):  # fmt: skip
        assert label in first, label
    send_first_page(client, family)
    second = page(client.get("/w/w7/more"))
    for label in ("Have you talked to the ward staff about this? (optional)",
                  "What happened when you talked to them? (optional)",
                  "Which language do you prefer to speak? (optional)", "Do you need an interpreter? (optional)",
                  "Do you have any communication needs? (optional)", "Their date of birth (optional)"):  # fmt: skip
        assert label in second, label


def test_a_wards_pages_show_its_own_teams_number_and_only_that(client, family, trust):
    """The ward's team's number, the same on every page of the ward: the form (and its errors), the confirmation,
    the second page, and the privacy and accessibility pages its footer links to. (The trust's PALS number is
    another service's, named as such.)"""
    pages = [client.get("/w/w7"), send_first_page(client, family, caller_route=None)]
    send_first_page(client, family)
    pages += [client.get("/w/w7/sent"), client.get("/w/w7/more"), add_details(client, dob_year="47")]
    footer = re.findall(r'href="(/(?:privacy|accessibility)\?ward=w7)"', page(pages[0]))
    assert len(footer) == 2
    pages += [client.get(path) for path in footer]
    shown = set()
    for response in pages:
        html = page(response)
        text = re.sub(r"<[^>]+>", " ", html).replace("020 7946 0199", "")  # PALS
        shown |= {re.sub(r"\D", "", n) for n in re.findall(r"\b0\d{2,4} ?\d{3,4} ?\d{3,4}\b", text)}
        shown |= {
            "0" + n.removeprefix("+44") for n in re.findall(r'href="tel:([^"]+)"', html) if not n.endswith("2079460199")
        }
    assert shown == {"02079460101"}, shown
    assert TEAM_LANDLINE == "+442079460101"

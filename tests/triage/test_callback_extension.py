"""A bleep or extension on the staff route (docs/architecture.md#the-wards-calls): its own field, digits only, kept
apart from the callback number (which stays E.164), shown to clinicians, never texted, never taken from the family's
form."""

from __future__ import annotations

import re

import pytest

from tests.conftest import create_staff, sign_in_directly
from tests.triage.test_concern_page import act, open_page, token
from tracker.extensions import db
from tracker.models import AuditEvent, Concern, Message
from tracker.services.messaging.sms_text import render
from tracker.services.phone import display_phone
from tracker.worker import Worker

EXTENSION = "93817"  # five digits: never part of a reference (four, then two), the test trust's numbers or a link


def raise_form(client, **answers):
    """The staff route's form as a ward nurse sends it: a staff call with a mobile that agreed to texts."""
    html = client.get("/triage/raise").get_data(as_text=True)
    data = {
        "csrf_token": token(html),
        "submission_id": re.search(r'name="submission_id" value="([^"]+)"', html).group(1),
        "ward_id": re.search(r'<option value="(\d+)"', html).group(1),
        "caller_route": "staff",
        "patient_name": "Jo Bloggs",
        "worry_categories": ["breathing"],
        "worry_details": "RR 28, not improving",
        "callback_number": "07400 765432",
        "sms_consent": "y",
        "preferred_language": "",
        **answers,
    }
    return client.post("/triage/raise", data={k: v for k, v in data.items() if v is not None})


def outreach_client(app, trust):
    clinician = app.test_client()
    user_id, _ = create_staff(app, "outreach", team_ids=[trust["team"]])
    sign_in_directly(app, clinician, user_id)
    return clinician


def test_ward_staff_give_a_bleep_or_extension_kept_apart_from_the_e164_number(client, login_as, read):
    login_as("ward_staff")
    form = client.get("/triage/raise").get_data(as_text=True)
    assert "Bleep or extension (optional)" in form and 'name="callback_extension"' in form
    response = raise_form(client, callback_extension=f" {EXTENSION} ")
    assert response.status_code == 302
    concern = read.one(Concern)
    assert concern.callback_extension == EXTENSION
    assert concern.callback_number == "+447400765432"  # the number stays E.164, the extension apart


@pytest.mark.parametrize(
    ("extension", "message"),
    [
        ("44-71", "Enter a bleep or extension using numbers only, like 4471"),
        ("ext 4471", "Enter a bleep or extension using numbers only, like 4471"),
        ("٤٤٧١", "Enter a bleep or extension using numbers only, like 4471"),  # Arabic-Indic digits: not dialled
        ("4", "A bleep or extension must be 2 to 8 numbers long, like 4471"),
        ("123456789", "A bleep or extension must be 2 to 8 numbers long, like 4471"),
    ],
)
def test_a_bad_extension_is_refused_in_plain_english_and_nothing_is_raised(client, login_as, read, extension, message):
    login_as("ward_staff")
    response = raise_form(client, callback_extension=extension)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in html and 'href="#callback_extension"' in html
    assert f'value="{extension}"' in html  # what was typed is kept to be put right
    assert read.count(Concern) == 0


def test_an_extension_typed_as_the_callback_number_is_pointed_to_its_own_box(client, login_as, read):
    login_as("ward_staff")
    response = raise_form(client, callback_number="4471")
    assert response.status_code == 400
    assert "That looks like a bleep or extension: put it in the box for a bleep or extension below" in (
        response.get_data(as_text=True)
    )
    assert read.count(Concern) == 0


def test_an_extension_is_refused_on_a_family_call_taken_by_phone(client, login_as, read):
    """It would read as the family's own extension on the clinician's page."""
    login_as("ward_staff")
    response = raise_form(
        client, caller_route="family_carer_advocate", caller_relationship="son", callback_extension=EXTENSION
    )
    assert response.status_code == 400
    assert "A bleep or extension is only for a call you raise yourself" in response.get_data(as_text=True)
    assert read.count(Concern) == 0


def test_the_familys_form_never_stores_an_extension_even_when_one_is_posted(family, read):
    assert family.submit(callback_extension=EXTENSION).status_code == 303
    concern = read.one(Concern)
    assert concern.callback_extension is None and concern.callback_number == "+447400123456"


def test_clinicians_see_the_extension_beside_the_number(app, client, login_as, trust, read):
    login_as("ward_staff")
    raise_form(client, callback_extension=EXTENSION)
    reference = read.one(Concern).reference
    html = open_page(outreach_client(app, trust), reference)
    assert f"{display_phone('+447400765432')}</a>, extension <span data-callback-extension>{EXTENSION}</span>" in html


def test_with_no_number_clinicians_see_the_bleep_alone(app, client, login_as, trust, read):
    login_as("ward_staff")
    raise_form(client, callback_number="", sms_consent=None, callback_extension=EXTENSION)
    reference = read.one(Concern).reference
    html = open_page(outreach_client(app, trust), reference)
    assert f"Bleep or extension <span data-callback-extension>{EXTENSION}</span>" in html
    assert "No number given" not in html


def test_the_raise_is_audited_with_whether_an_extension_was_given_never_its_digits(client, login_as, read):
    login_as("ward_staff")
    raise_form(client, callback_extension=EXTENSION)
    raised = read.one(AuditEvent, AuditEvent.action == "concern_raised")
    assert raised.changes["has_callback_extension"] is True
    assert EXTENSION not in str(raised.changes)


def test_no_text_a_staff_call_with_an_extension_causes_carries_the_extension(app, client, login_as, trust, read, sms):
    """The clinician's alert, the caller's receipt and every canned update the team can send: rendered and as sent."""
    login_as("ward_staff")
    raise_form(client, callback_extension=EXTENSION)
    reference = read.one(Concern).reference
    clinician = outreach_client(app, trust)
    assert act(clinician, reference, "claim").status_code == 302
    for template_id in ("update_team_coming", "update_team_will_call", "update_review_done", "update_please_call"):
        assert act(clinician, reference, "update-caller", template_id=template_id).status_code == 302
    Worker(app, sender=sms).run_once()

    with app.app_context():
        messages = db.session.scalars(db.select(Message)).all()
        templates = {message.template_id for message in messages}
        assert {"clinician_alert", "family_receipt", "update_team_coming", "update_please_call"} <= templates
        for message in messages:
            assert EXTENSION not in render(message.template_id, message.variables or {}, message.locale)
            assert EXTENSION not in str(message.variables)
    assert len(sms.sent) >= 5  # the receipt and four updates (the claim cancelled the alert not yet sent)
    assert all(EXTENSION not in sent.body for sent in sms.sent)

"""The reference is never lost: a family's own browser gets back to its confirmation for 24 hours (even after the
browser's session has ended), with the number masked; the ward's form says a request was sent and links to it;
and where they could be texted at all, the family can have the reference texted once more. A ward tablet keeps
none of this for the next family."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine

from tests.conftest import FAMILY_MOBILE, enrol_tablet
from tests.triage.test_authorization_matrix import csrf_token
from tracker.clock import utcnow
from tracker.models import Concern, Message


def page(response) -> str:
    return response.get_data(as_text=True)


def forget_session(app, client) -> None:
    """What closing the browser does to a session cookie."""
    client.delete_cookie(app.config["SESSION_COOKIE_NAME"])


def test_a_familys_own_browser_gets_back_to_its_confirmation_for_24_hours(app, client, family, read):
    family.submit()
    reference = read.one(Concern).reference
    forget_session(app, client)
    with time_machine.travel(utcnow() + timedelta(hours=23, minutes=50), tick=False):
        shown = page(client.get("/w/w7/sent"))
        assert reference in shown and "07••• ••• 456" in shown and "123456" not in shown
        assert "Sent at" in shown
    with time_machine.travel(utcnow() + timedelta(hours=24, minutes=1), tick=False):
        assert client.get("/w/w7/sent").status_code == 302


def test_the_wards_form_links_back_to_the_request_this_browser_sent(app, client, family):
    family.submit()
    forget_session(app, client)
    html = page(client.get("/w/w7"))
    assert "You sent a request from this phone or computer at" in html and 'href="/w/w7/sent"' in html
    assert "data-earlier-request" not in page(app.test_client().get("/w/w7"))  # nobody else's browser
    assert "data-earlier-request" not in page(client.get("/w/w8"))  # another ward's form


def test_a_ward_tablet_keeps_no_confirmation_for_the_next_family(app, client, family, trust):
    enrol_tablet(app, client, trust)
    response = family.submit()
    assert app.config["CONFIRMATION_COOKIE_NAME"] not in " ".join(response.headers.getlist("Set-Cookie"))
    sent = page(client.get("/w/w7/sent"))
    assert "data-kiosk-done" in sent and "data-text-reference" not in sent  # the next person could press it
    assert "data-earlier-request" not in page(client.get("/w/w7"))
    assert client.post("/w/w7/sent/text", data={"csrf_token": csrf_token(client)}).status_code == 303


def test_the_family_can_have_the_reference_texted_once_more(app, client, family, read):
    family.submit()
    sent = page(client.get("/w/w7/sent"))
    assert "with your reference" in sent and "data-text-reference" in sent
    token = csrf_token(client)
    again = client.post("/w/w7/sent/text", data={"csrf_token": token})
    assert again.status_code == 303 and again.headers["Location"] == "/w/w7/sent"
    assert "We are texting your reference to you again." in page(client.get("/w/w7/sent"))
    texts = [m for m in read.all(Message) if m.template_id == "family_reference"]
    assert len(texts) == 1 and texts[0].to_number == FAMILY_MOBILE
    assert "data-text-reference" not in page(client.get("/w/w7/sent"))  # once per call
    client.post("/w/w7/sent/text", data={"csrf_token": token})
    assert "already texted your reference again" in page(client.get("/w/w7/sent"))
    assert len([m for m in read.all(Message) if m.template_id == "family_reference"]) == 1


def test_the_reference_text_carries_the_reference_and_the_teams_number_only(app):
    from tracker.services.messaging.sms_text import render

    with app.test_request_context():
        body = render("family_reference", {"reference": "MR-7QK4-92", "team_phone": "020 7946 0101"}, "en")
    assert body == (
        "Your Martha's Rule request reference is MR-7QK4-92. Outreach team phone: 020 7946 0101. "
        "If the patient is very unwell now, tell a nurse."
    )


@pytest.mark.parametrize(
    "answers",
    [{"sms_consent": None}, {"callback_number": "", "sms_consent": None}, {"callback_number": "020 7946 0000"}],
    ids=["no consent", "no number", "a landline"],
)
def test_the_reference_is_offered_by_text_only_where_the_family_could_be_texted(app, client, family, read, answers):
    family.submit(**answers)
    assert "data-text-reference" not in page(client.get("/w/w7/sent"))
    client.post("/w/w7/sent/text", data={"csrf_token": csrf_token(client)})
    assert "We cannot text your reference" in page(client.get("/w/w7/sent"))
    assert not [m for m in read.all(Message) if m.template_id == "family_reference"]


@pytest.mark.parametrize("cookie", ["", "x", "." * 4000, "a" * 30 + ".../etc", "<script>"])
def test_a_made_up_confirmation_cookie_shows_nothing_and_breaks_nothing(app, client, trust, cookie):
    client.set_cookie(app.config["CONFIRMATION_COOKIE_NAME"], cookie)
    assert client.get("/w/w7/sent").status_code == 302
    assert client.get("/w/w7").status_code == 200
    assert client.post("/w/w7/sent/text", data={"csrf_token": csrf_token(client)}).status_code == 303


def test_the_cookie_keeps_only_random_ids(app, client, family, read):
    response = family.submit()
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("mr_sent="))
    assert "HttpOnly" in cookie and re.search(r"Max-Age=86400", cookie)
    assert read.one(Concern).reference not in cookie and "07400" not in cookie

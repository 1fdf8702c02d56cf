"""The outreach clinician's journey in Chromium, on a ward tablet and on a phone: sign in on the real
page, watch a family's call arrive in the queue without reloading, claim it, record a review with
a NEWS2 score, text the family a canned update (the worker sends it through the console backend),
and close it with the outcome coding. Every staff page passes axe-core's WCAG 2.2 AA rules and is
saved as a screenshot for review; no page is stored, nothing leaves 127.0.0.1 and nothing breaks
the Content Security Policy (a violation is a console error).

Then the pages around the queue (sign-in with an error, raising a call, the account, signing
out, the ward's own view), the idle-timeout warning and a queue whose refresh fails.

Time in the page is Playwright's clock, installed running (axe-core needs timers): jumping it
five seconds forward fires the queue's refresh at once, so no test waits for a poll. The idle
warning moves the server's clock (time-machine, which leaves time.monotonic and so Playwright's
own waits alone) with the page's, because the session's expiry comes from the server."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import time_machine
from playwright.sync_api import Page, expect

from tests.conftest import FAMILY_MOBILE, create_staff
from tests.e2e.family_form import group
from tests.e2e.journeys import OUTREACH_NURSE, WARD_STAFF, at
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import Concern, ConcernStatus, SessionRecord
from tracker.outbox.inbound import InboundText, receive_text
from tracker.sms.console import ConsoleSender
from tracker.worker import Worker

pytestmark = pytest.mark.browser

ONE_SCREEN = at(OUTREACH_NURSE, only="desktop")
CLINICIAN = "clinician@test.invalid"
POLL = 5000  # ms: the queue's refresh interval in staff.mjs

# The observations of the review, and NEWS2 worked out by hand from the RCP 2017 chart:
# RR 22 → 2, SpO2 95 (Scale 1) → 1, on oxygen → 2, systolic 105 → 1, pulse 112 → 2,
# Alert → 0, temperature 38.4 → 1: 9, and 7 or more is a high score (emergency response).
OBSERVATIONS = {
    "Respiration rate": "22",
    "SpO2": "95",
    "Systolic blood pressure": "105",
    "Pulse": "112",
    "Temperature": "38.4",
}
NEWS2_BY_HAND = 2 + 1 + 2 + 1 + 2 + 0 + 1
assert NEWS2_BY_HAND == 9

# What a canned text to the family must never say: the patient's name (the family fixture's "Pat
# Jones") or anything clinical, nor the ward.
PATIENT_NAME = re.compile(r"\b(Pat|Jones)\b")
CLINICAL_WORDS = (
    "news2",
    "oxygen",
    "deterioration",
    "breathing",
    "confus",
    "score",
    "tachyp",
    "febrile",
    "sepsis",
    "critical care",
    "ward 7",
)


def sign_in(page: Page, email: str, password: str) -> None:
    """Sign in the way a person does, on the real page."""
    page.goto("/auth/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def outreach_user(app, trust, email: str = CLINICIAN) -> str:
    """An outreach clinician in the test trust's team; returns the password."""
    _user_id, password = create_staff(app, "outreach", email=email, team_ids=[trust["team"]])
    return password


def open_queue(tab, app, trust) -> Page:
    """Signed in as a clinician, on the queue, with the page's clock installed (and running)."""
    page = tab.page
    page.clock.install()
    sign_in(page, CLINICIAN, outreach_user(app, trust))
    page.wait_for_url("**/triage/")
    return page


def refresh_the_queue(page: Page):
    """Move the page's clock on to its next refresh; returns the refresh's response."""
    with page.expect_response(re.compile(r"/triage/queue/rows")) as response:
        page.clock.fast_forward(POLL)
    return response.value


@at(OUTREACH_NURSE)
def test_clinician_takes_a_new_call_from_the_queue_to_closed(tab, app, trust, family, read, tmp_path):
    page = tab.page
    password = outreach_user(app, trust)
    sender = ConsoleSender(str(tmp_path / "sms.jsonl"), stream=io.StringIO())
    worker = Worker(app, sender=sender)
    worker.run_once()  # the worker is running: its heartbeat keeps the "not running" warning away

    # Sign in through the real page and land on the (empty) queue.
    page.clock.install()
    assert page.goto("/triage/").url.endswith("/auth/sign-in?next=/triage/")
    expect(page.get_by_role("heading", name="Staff sign in")).to_be_visible()
    tab.check("staff-sign-in", emergency=False)
    page.get_by_label("Email address").fill(CLINICIAN)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url("**/triage/")
    expect(page.get_by_role("heading", name="Martha's Rule calls")).to_be_visible()
    expect(page.get_by_text("No open calls.")).to_be_visible()
    status = page.locator("[data-refresh-status]")
    expect(status).to_have_text("Updates by itself every few seconds.")
    expect(page.locator(".tracker-alarm")).to_have_count(0)
    tab.check("queue-empty", emergency=False)

    # Nothing new: the refresh costs a 304 and changes nothing on the page.
    assert refresh_the_queue(page).status == 304
    expect(page.get_by_text("No open calls.")).to_be_visible()

    # A family sends a concern from their phone; the open queue shows it at its next refresh.
    assert family.submit().status_code == 303
    reference = read.one(Concern).reference
    assert refresh_the_queue(page).status == 200
    row = page.locator(f'[data-concern="{reference}"]')
    expect(row).to_be_visible()
    expect(row).to_contain_class("tracker-new-row")
    expect(status).to_have_text(re.compile(r"^1 new call at \d\d:\d\d\.$"))
    expect(page.get_by_role("heading", name="Open calls: 1")).to_be_visible()
    expect(row).to_contain_text("New")
    expect(row).to_contain_text("Nobody yet")
    expect(row).to_contain_text("Family or carer")
    expect(row).to_contain_text("Breathing, sleepy or confused: Mum is breathing fast")
    reference_box = row.locator(".tracker-ref").bounding_box()
    assert reference_box["height"] < 30, "the reference is broken over lines"  # it is read out over the phone
    assert page.url.endswith("/triage/")  # no reload: the same page, its rows replaced
    tab.check("queue-new-call", emergency=False)

    # Open it and claim it.
    row.get_by_role("link", name="Ward 7").click()
    page.wait_for_url(f"**/triage/c/{reference}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ward 7: Pat Jones")
    expect(page.get_by_text("Nobody has claimed it yet")).to_be_visible()
    tab.check("concern-new", emergency=False)
    page.get_by_role("button", name="Claim this call").click()
    expect(page.get_by_text("You have claimed this call. Alerts for it have stopped.")).to_be_visible()
    expect(page.get_by_text("Claimed by Test outreach")).to_be_visible()
    expect(page.locator("main .nhsuk-tag", has_text="Claimed")).to_be_visible()

    # Record the review, with NEWS2: first calculate it (nothing saved), then save.
    review = page.get_by_role("region", name="Record the review")
    group(review, "How was the patient reviewed?").get_by_label("Seen on the ward").check()
    review.get_by_label("What you found and did").fill("Tachypnoeic and febrile. Oxygen started, sepsis screen sent.")
    review.get_by_text("Add a NEWS2 score (optional)").click()
    review.get_by_label("Include NEWS2 in the review").check()
    review.get_by_label("Patient's age in years").fill("67")  # the family gave no date of birth
    group(review, "Is the patient pregnant?").get_by_label("No", exact=True).check()
    for label, value in OBSERVATIONS.items():
        review.get_by_label(label, exact=True).fill(value)
    group(review, "SpO2 scale").get_by_label("Scale 1", exact=True).check()
    group(review, "Air or oxygen?").get_by_label("Oxygen", exact=True).check()
    group(review, "Consciousness (ACVPU)").get_by_label("Alert", exact=True).check()
    tab.check("concern-review-form", emergency=False)

    review.get_by_role("button", name="Calculate NEWS2").click()
    result = page.locator(".tracker-news2")
    expect(result).to_contain_text(f"NEWS2: {NEWS2_BY_HAND} (Scale 1)")
    expect(result).to_be_in_viewport()  # the page comes back at the score, not at its top
    expect(result).to_contain_text("High: emergency response by a team with critical-care skills")
    expect(result.locator('[data-news2-part="air_or_oxygen"]')).to_have_text("2")  # each parameter's score
    expect(result).to_contain_text("Not saved yet: press Save review.")
    review = page.get_by_role("region", name="Record the review")
    expect(review.get_by_label("Include NEWS2 in the review")).to_be_checked()  # what was typed is kept
    expect(review.get_by_label("Pulse", exact=True)).to_have_value("112")
    expect(review.get_by_label("What you found and did")).to_have_value(re.compile("^Tachypnoeic"))
    assert read.one(Concern).news2_total is None
    tab.check("concern-news2", emergency=False)

    review.get_by_role("button", name="Save review").click()
    expect(page.get_by_text("Review recorded.")).to_be_visible()
    expect(page.get_by_text(f"NEWS2 at review: {NEWS2_BY_HAND}")).to_be_visible()
    expect(page.get_by_text("(Scale 1). High: emergency response")).to_be_visible()

    # Text the family a canned update; the worker sends it to their phone.
    update = page.get_by_role("region", name="Update the caller by text")
    update.get_by_label("The team has seen the patient").check()
    update.get_by_role("button", name="Send text").click()
    expect(page.get_by_text("The text to the caller is on its way.")).to_be_visible()
    already = len(sender.sent)
    worker.run_once()
    updates = [text for text in sender.sent[already:] if "has seen the patient" in text["body"]]
    assert [text["to"] for text in updates] == [FAMILY_MOBILE]
    body = updates[0]["body"]
    assert reference in body, body
    assert not PATIENT_NAME.search(body), body
    for word in CLINICAL_WORDS:
        assert word not in body.lower(), f"{word!r} in the family's text: {body}"
    assert body == (
        f"The outreach team has seen the patient (ref {reference}). Ask the ward staff if you have "
        "questions, or call 020 7946 0101. If the patient is very unwell now, tell a nurse."
    ), body  # the canned words and nothing else
    assert (tmp_path / "sms.jsonl").read_text().count(reference) >= 2  # the receipt and this update

    # Close it with the outcome coding.
    page.reload()
    expect(page.get_by_role("table").filter(has_text="Update review done")).to_contain_text("Sent")
    close = page.get_by_role("region", name="Close the call")
    group(close, "What kind of concern was it?").get_by_label("Acute deterioration").check()
    group(close, "For an acute deterioration: what happened?").get_by_label("Change in care on the ward").check()
    group(close, "For a change in care: what changed?").get_by_label("Oxygen", exact=True).check()
    group(close, "How was the caller told the outcome?").get_by_label("By phone").check()
    group(close, "Did the call need a clinical review?").get_by_label("Yes", exact=True).check()
    close.get_by_role("button", name="Close the call").click()
    expect(page.get_by_text("Call closed.")).to_be_visible()
    expect(page.locator("main .nhsuk-tag", has_text="Closed")).to_be_visible()
    expect(page.get_by_text("Outcome: Acute deterioration; Change in care on the ward (oxygen).")).to_be_visible()
    expect(page.get_by_text("Clinical review needed: yes.")).to_be_visible()
    expect(page.get_by_role("region", name="Close the call")).to_have_count(0)
    tab.check("concern-closed", emergency=False)

    concern = read.one(Concern)
    assert concern.status is ConcernStatus.CLOSED
    assert (concern.news2_total, concern.news2_scale, concern.news2_response) == (9, 1, "high")
    assert concern.concern_type.value == "acute_deterioration"
    assert concern.deterioration_outcome.value == "change_in_care"
    assert concern.change_in_care == ["oxygen"]
    assert concern.caller_update_method.value == "phone" and concern.clinical_review_needed is True

    # Back on the queue, it has moved to the calls closed today.
    page.get_by_role("link", name="Back to the queue").click()
    page.wait_for_url("**/triage/")
    expect(page.get_by_text("No open calls.")).to_be_visible()
    closed = page.locator(".tracker-closed")
    expect(page.get_by_role("heading", name="Closed in the last 24 hours")).to_be_visible()
    expect(closed.get_by_role("listitem")).to_have_count(1)
    expect(closed).to_contain_text(reference)
    expect(closed).to_contain_text("Closed")
    tab.check("queue-closed", emergency=False)

    # The family texts that evening, after the call closed: the call comes back among the open ones,
    # flagged as a follow-up text (it chimes, it does not page), until a clinician deals with it.
    with app.app_context(), write_intent():
        receive_text(InboundText(FAMILY_MOBILE, "She is more confused again tonight", "SM" + "f" * 32))
        db.session.commit()
    assert refresh_the_queue(page).status == 200
    follow_up = page.locator(f'[data-follow-up="{reference}"]')
    expect(follow_up).to_contain_text("Follow-up text: call ended")
    expect(status).to_have_text(re.compile(r"^1 follow-up text at \d\d:\d\d\.$"))
    expect(page.get_by_role("heading", name="Open calls: 1")).to_be_visible()
    tab.check("queue-follow-up-text", emergency=False)
    follow_up.get_by_role("link", name="Ward 7").click()
    page.wait_for_url(f"**/triage/c/{reference}")
    expect(page.locator("[data-caller-replies]").get_by_text("She is more confused again tonight")).to_be_visible()
    expect(page.get_by_text("This text came after the call ended.")).to_be_visible()
    tab.check("concern-follow-up-text", emergency=False)
    page.get_by_role("button", name="Mark as read").click()
    expect(page.get_by_text("The caller's text is marked as read.")).to_be_visible()
    assert read.one(Concern).unread_reply is False

    tab.assert_clean()


@at(OUTREACH_NURSE, WARD_STAFF)
def test_the_pages_around_the_queue(tab, app, trust, family, open_tab):
    page = tab.page
    password = outreach_user(app, trust)
    assert family.submit().status_code == 303  # a call on the ward, for the ward's own view

    # A wrong password: one message for both fields, the summary focused, nothing said about which.
    sign_in(page, CLINICIAN, "not the password")
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_be_focused()
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(summary.get_by_role("link")).to_have_text(["Enter a correct email address and password"])
    expect(page.get_by_label("Email address")).to_have_value(CLINICIAN)
    expect(page.get_by_label("Password", exact=True)).to_have_value("")
    tab.check("staff-sign-in-error", emergency=False)

    sign_in(page, CLINICIAN, password)
    page.wait_for_url("**/triage/")

    # Raising a call by phone or for a colleague.
    page.get_by_role("link", name="Raise a call").first.click()
    page.wait_for_url("**/triage/raise")
    expect(page.get_by_role("heading", name="Raise a call for the outreach team")).to_be_visible()
    expect(page.get_by_label("Ward", exact=True).locator("option")).to_have_text(
        ["Choose the ward", re.compile("Ward 7"), re.compile("Ward 8")]
    )
    tab.check("raise-a-call", emergency=False)

    # The account page and the sign-out confirmation.
    page.goto("/auth/account")
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    expect(page.get_by_text("This device")).to_be_visible()
    tab.check("account", emergency=False)
    page.goto("/auth/sign-out")
    expect(page.get_by_role("heading", name="Sign out")).to_be_visible()
    tab.check("sign-out", emergency=False)
    page.get_by_role("button", name="Sign out", exact=True).click()
    page.wait_for_url("**/auth/sign-in")
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    assert page.goto("/triage/").url.endswith("/auth/sign-in?next=/triage/")
    tab.assert_clean()

    # A ward nurse sees the ward's calls, who has them, and no clinical notes.
    ward = open_tab()
    _user, ward_password = create_staff(app, "ward_staff", email="nurse@test.invalid", ward_id=trust["ward"])
    sign_in(ward.page, "nurse@test.invalid", ward_password)
    ward.page.wait_for_url("**/triage/ward")
    expect(ward.page.get_by_role("heading", name="Martha's Rule calls: Ward 7")).to_be_visible()
    expect(ward.page.get_by_role("table")).to_contain_text("Not claimed yet")
    ward.check("ward-calls", emergency=False)
    ward.assert_clean()


@ONE_SCREEN
def test_the_idle_warning_comes_two_minutes_before_sign_out_and_stay_signed_in_keeps_the_session(
    tab, app, trust, read, family
):
    page = open_queue(tab, app, trust)
    banner = page.locator("#session-warning")
    stay = banner.get_by_role("button", name="Stay signed in")
    expect(banner).to_be_hidden()
    started = read.one(SessionRecord).last_active_at

    # 28½ minutes without doing anything, in the page and on the server alike.
    with time_machine.travel(started + timedelta(minutes=28, seconds=30), tick=True):
        # The page asks the server for the expiry once a minute; the queue's refresh fires too, and its answer
        # must be in before the next refresh is awaited (or that wait could catch this one's 304).
        with page.expect_response("**/auth/session"), page.expect_response(re.compile(r"/triage/queue/rows")):
            page.clock.fast_forward("28:30")
        expect(banner).to_be_visible()
        expect(banner).to_have_attribute("role", "alert")
        expect(banner).to_contain_text("You are about to be signed out")
        expect(banner.locator("[data-session-countdown]")).to_have_text(re.compile(r"^(2 minutes|\d\d? seconds)$"))
        # A call raised now still shows: the warning is a banner in the page, never over the list.
        family.submit()
        assert refresh_the_queue(page).status == 200
        reference = read.one(Concern).reference
        row = page.locator(f'[data-concern="{reference}"]')
        expect(row).to_be_visible()
        box = row.bounding_box()
        on_top = page.evaluate(
            "([x, y]) => document.elementFromPoint(x, y)?.closest('[data-concern]')?.dataset.concern",
            [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
        )
        assert on_top == reference
        tab.check("idle-warning", emergency=False)
        tab.screenshot("idle-warning-screen", full_page=False)

        with page.expect_response("**/auth/keepalive") as kept:
            stay.click()
        assert kept.value.status == 200
        expect(banner).to_be_hidden()
        page.clock.fast_forward("00:05")
        expect(banner).to_be_hidden()  # the new expiry is 30 minutes away, not 2

    assert read.one(SessionRecord).last_active_at >= started + timedelta(minutes=28)
    # Past the first deadline the clinician is still signed in, because they pressed the button.
    with time_machine.travel(started + timedelta(minutes=35), tick=True):
        page.goto("/triage/")
        assert page.url.endswith("/triage/")
        expect(page.get_by_role("heading", name="Martha's Rule calls")).to_be_visible()
    tab.assert_clean()


@ONE_SCREEN
def test_the_queue_says_when_it_cannot_update_and_recovers(tab, app, trust):
    page = open_queue(tab, app, trust)
    status = page.locator("[data-refresh-status]")
    rows = "**/triage/queue/rows*"

    # No worker is running in this test: the warning shows once, in the rows the refresh replaces.
    expect(page.locator(".tracker-alarm")).to_have_count(1)
    expect(page.locator("[data-queue] .tracker-alarm")).to_contain_text("The message worker is not running")

    page.route(rows, lambda route: route.abort())
    page.clock.fast_forward(POLL)
    expect(status).to_have_text(re.compile(r"^Could not update the queue at \d\d:\d\d\. Trying again\."))
    expect(status).to_contain_class("tracker-refresh--failing")
    tab.check("queue-refresh-failing", emergency=False)

    page.unroute(rows)
    assert refresh_the_queue(page).status == 304
    expect(status).to_have_text(re.compile(r"^Updating again since \d\d:\d\d\.$"))
    expect(status).not_to_contain_class("tracker-refresh--failing")

    # The aborted refresh is the one console error this test caused on purpose.
    aborted = [
        m
        for m in tab.console_errors
        if "/triage/queue/rows" in (m.location.get("url") or m.text) or "net::ERR_FAILED" in m.text
    ]
    assert aborted, "the aborted refresh was not seen"
    tab.console_errors[:] = [m for m in tab.console_errors if m not in aborted]
    tab.assert_clean()

"""The outreach queue must never hide a call (in Chromium, on the outreach office's 1366×768 screen and a phone).
With ten calls open, some claimed, a call raised from the family form lands at the top, marked "New arrival" until
someone opens it, above the fold; the tab's title and the heading count the calls not claimed; urgency is said in
words ("— past target"), and each row says in words whether the caller can be texted."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import time_machine
from playwright.sync_api import expect

from tests.conftest import mobile
from tests.e2e.journeys import OUTREACH_NURSE, at
from tests.e2e.test_clinician_journey import CLINICIAN, outreach_user, refresh_the_queue, sign_in
from tests.services.test_concerns import raise_one
from tracker.clock import utcnow
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import Concern, User, Ward
from tracker.services import alarms
from tracker.services.concerns import triage
from tracker.services.paging import warnings as staff_warnings
from tracker.sms.console import ConsoleSender
from tracker.worker import Worker

pytestmark = pytest.mark.browser


def ten_open_calls(app, trust, claimant_email: str) -> None:
    """Ten calls raised over the last hour on Ward 7 and Ward 8: four claimed, six not; one with no number."""
    with app.app_context(), write_intent():
        wards = [db.session.get_one(Ward, trust["ward"]), db.session.get_one(Ward, trust["beds_ward"])]
        nurse = db.session.scalar(db.select(User).where(User.email == claimant_email))
        start = utcnow() - timedelta(minutes=60)
        for n in range(10):
            with time_machine.travel(start + timedelta(minutes=5 * n), tick=False):
                outcome = raise_one(
                    wards[n % 2],
                    submission=f"earlier-call-{n:04d}",
                    patient_name=f"Patient {chr(65 + n)} Smith",
                    bed=f"Bay {n + 1}",
                    callback=None if n == 9 else mobile(f"07400 1000{n:02d}"),
                    sms_consent=n != 9,
                )
            db.session.commit()
            if n < 4:
                triage.claim(outcome.concern_id, nurse)
                db.session.commit()


@at(OUTREACH_NURSE)
def test_a_new_call_lands_above_the_fold_marked_until_someone_opens_it(
    tab, app, trust, family, read, viewport, tmp_path
):
    page = tab.page
    page.clock.install()
    password = outreach_user(app, trust)
    Worker(app, sender=ConsoleSender(str(tmp_path / "sms.jsonl"), stream=io.StringIO())).run_once()  # running
    ten_open_calls(app, trust, CLINICIAN)
    sign_in(page, CLINICIAN, password)
    page.wait_for_url("**/triage/")
    expect(page.locator("[data-new-count]")).to_have_attribute("data-new-count", "6")
    assert page.title().startswith("(6 not claimed) Queue")
    expect(page.locator(".tracker-unclaimed")).to_have_text("Not claimed: 6")
    expect(page.locator("[data-concern]").filter(has_text="past target").first).to_be_visible()
    expect(page.locator("[data-concern]").filter(has_text="No number").first).to_be_visible()

    family.submit()
    assert refresh_the_queue(page).status == 200
    reference = read.one(Concern, Concern.submission_id.not_like("earlier-call-%")).reference
    first = page.locator("[data-concern]").first
    expect(first).to_have_attribute("data-concern", reference)
    expect(first).to_contain_text("New arrival")
    assert page.title().startswith("(7 not claimed) Queue")
    tab.screenshot("queue-new-arrival-fold", full_page=False)
    height = page.viewport_size["height"]
    rows = page.locator("[data-concern]")
    above = [
        i
        for i in range(rows.count())
        if rows.nth(i).bounding_box()["y"] + rows.nth(i).bounding_box()["height"] <= height
    ]
    assert 0 in above, "the new call is below the fold"
    wanted = 6 if viewport == "desktop" else 3
    assert len(above) >= wanted, f"only {len(above)} calls show above the fold at {viewport}"
    tab.check("queue-new-arrival", emergency=False)

    # The mark stays at the next refresh, and goes once someone has opened the call.
    page.clock.fast_forward(5000)
    expect(page.locator(f'[data-concern="{reference}"]')).to_contain_text("New arrival")
    first.get_by_role("link").first.click()
    page.wait_for_url(f"**/triage/c/{reference}")
    page.go_back()
    page.wait_for_url("**/triage/")
    expect(page.locator(f'[data-concern="{reference}"]')).not_to_contain_text("New arrival")
    assert re.match(r"^\(7 not claimed\) Queue", page.title())
    tab.assert_clean()


# Counts the tones the page plays: each chime or warning sound starts oscillators.
COUNT_TONES = """
window.__tones = 0;
const original = AudioContext.prototype.createOscillator;
AudioContext.prototype.createOscillator = function () { window.__tones += 1; return original.call(this); };
"""


@at(OUTREACH_NURSE, only="desktop")
def test_the_chime_choice_is_remembered_and_muting_it_never_silences_warnings(tab, app, trust, family, tmp_path):
    page = tab.page
    page.add_init_script(COUNT_TONES)
    page.clock.install()
    password = outreach_user(app, trust)
    Worker(app, sender=ConsoleSender(str(tmp_path / "sms.jsonl"), stream=io.StringIO())).run_once()
    sign_in(page, CLINICIAN, password)
    page.wait_for_url("**/triage/")
    # Pressing "Sign in" may already let the page play sound; if not, it says so and one press turns it on.
    if page.get_by_role("button", name="Turn on sound").is_visible():
        expect(page.locator("[data-sound-state]")).to_have_text("Sound is off.")
        page.get_by_role("button", name="Turn on sound").click()
    expect(page.locator("[data-sound-state]")).to_have_text("Sound on.")
    page.get_by_role("button", name="Mute new-call chime").click()
    expect(page.locator("[data-sound-state]")).to_have_text("New-call chime muted; warnings still sound.")
    tab.check("queue-chime-muted", emergency=False)

    before = page.evaluate("window.__tones")
    family.submit()
    assert refresh_the_queue(page).status == 200
    expect(page.locator("[data-concern]")).to_have_count(1)
    assert page.evaluate("window.__tones") == before, "the muted chime sounded for a new call"

    with app.app_context(), write_intent():
        alarms.raise_alarm("sms_budget_exhausted")
        db.session.commit()
    staff_warnings.forget()
    assert refresh_the_queue(page).status == 200
    expect(page.locator("[data-alarm]")).to_be_visible()
    assert page.evaluate("window.__tones") > before, "a new warning was silent because the chime was muted"

    page.reload()  # the same device remembers the choice
    if page.get_by_role("button", name="Turn on sound").is_visible():
        page.get_by_role("button", name="Turn on sound").click()
    expect(page.locator("[data-sound-state]")).to_have_text("New-call chime muted; warnings still sound.")
    expect(page.get_by_role("button", name="Unmute new-call chime")).to_be_visible()
    tab.assert_clean()

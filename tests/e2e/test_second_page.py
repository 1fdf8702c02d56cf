"""A shorter first page, in Chromium: on a phone the first question shows without scrolling; sending the first page
raises the call, and the confirmation offers the optional second page, whose further question is announced, whose
problems keep every answer, and whose answers reach the same call. On a ward tablet the second page clears itself
when left, touched or not, so the next family never adds to the last one's call."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.family_form import FAMILY, fill_in_everything, fill_in_more_details, make_tablet, reference_on, send
from tests.e2e.journeys import FAMILY_ON_A_PHONE, FAMILY_ON_A_WARD_TABLET, at
from tests.e2e.test_conditional_questions import exercise_further_questions
from tracker.models import AuditEvent, Concern, SpokeToWard

pytestmark = pytest.mark.browser


@at(FAMILY_ON_A_PHONE)
def test_on_a_phone_the_first_question_shows_without_scrolling(tab):
    page = tab.page
    page.goto("/w/w7")
    first = page.get_by_role("group", name="Who are you?")
    legend_box = first.locator("legend").bounding_box()
    first_answer = page.get_by_label("I am the patient").bounding_box()
    height = page.viewport_size["height"]
    assert legend_box and first_answer and first_answer["y"] + first_answer["height"] <= height, (legend_box, height)
    tab.screenshot("family-form-first-screen", full_page=False)
    tab.assert_clean()


@at(FAMILY_ON_A_PHONE)
def test_the_second_page_adds_to_the_same_call(tab, read):
    page = tab.page
    page.goto("/w/w7")
    fill_in_everything(page)
    send(page)
    page.wait_for_url("**/w/w7/sent")
    reference = reference_on(page)
    assert read.one(Concern).reference == reference  # raised (and paged) before any second page

    page.get_by_role("button", name="Answer a few more questions").click()
    page.wait_for_url("**/w/w7/more")
    expect(page.get_by_role("heading", name="Help the team before they come (optional)")).to_be_visible()
    assert exercise_further_questions(tab, "more-details") >= 1

    fill_in_more_details(page, FAMILY | {"dob_year": "47"})
    page.get_by_role("button", name="Add these details").click()
    expect(page.locator(".nhsuk-error-summary")).to_be_focused()
    expect(page.locator(".nhsuk-error-summary").get_by_role("link", name="Year must include 4 numbers")).to_be_visible()
    expect(page.get_by_label("What happened when you talked to them? (optional)")).to_have_value(
        FAMILY["ward_response"]
    )
    tab.check("more-details-errors")

    page.get_by_label("Year").fill("1947")
    page.get_by_role("button", name="Add these details").click()
    page.wait_for_url("**/w/w7/sent")
    expect(page.get_by_text("Thank you. We have added these details to your request.")).to_be_visible()
    expect(page.get_by_role("button", name="Answer a few more questions")).to_have_count(0)
    tab.check("family-confirmation-details-added")

    concern = read.one(Concern)
    assert concern.spoke_to_ward is SpokeToWard.YES and concern.ward_response == FAMILY["ward_response"]
    assert (concern.preferred_language, concern.interpreter_needed) == ("Polish", True)
    assert concern.patient_dob.isoformat() == "1947-03-15"
    assert read.count(AuditEvent, AuditEvent.action == "family_added_details") == 1
    tab.assert_clean()


@at(FAMILY_ON_A_WARD_TABLET, only="tablet")
def test_on_a_ward_tablet_the_second_page_clears_itself_when_left(tab, app, trust, base_url, read):
    make_tablet(tab, app, trust, base_url)
    page = tab.page
    page.clock.install()
    page.goto("/w/w7")
    fill_in_everything(page)
    send(page)
    page.wait_for_url("**/w/w7/sent")
    page.get_by_role("button", name="Answer a few more questions").click()
    page.wait_for_url("**/w/w7/more")
    tab.check("kiosk-more-details")

    # Nobody touches it: it still warns, then clears, back to a blank form for the next family.
    page.clock.fast_forward("03:00")
    expect(page.get_by_role("alertdialog", name="Are you still there?")).to_be_visible()
    page.clock.fast_forward("00:30")
    page.wait_for_url("**/w/w7?lang=auto")  # the blank form, the last family's language forgotten
    expect(page.get_by_role("heading", name="Ask for an urgent review", exact=True)).to_be_visible()
    # And the last family's second page is closed on the server too.
    page.goto("/w/w7/more")
    expect(page).to_have_url(re.compile(r"/w/w7$"))
    expect(page.get_by_text("You can no longer add details here")).to_have_count(0)
    assert read.one(Concern).preferred_language in (None, "")
    tab.assert_clean()

"""The daily check answered by a relative on the ward's tablet, in Chromium: she answers "worse", is offered an
urgent review, accepts, and sees the family form's confirmation; the call is linked to her answer and on the
outreach queue, and the nurse in charge's alert is in the outbox. Every page passes axe-core and is saved as a
screenshot."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.family_form import make_tablet, reference_on
from tests.e2e.journeys import FAMILY_ON_A_WARD_TABLET, at
from tests.e2e.test_clinician_journey import CLINICIAN, outreach_user, sign_in
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import CallerRoute, Channel, Concern, DailyCheckAnswer, Message, Ward
from tracker.services.records import audit
from tracker.services.setup import hospital

pytestmark = pytest.mark.browser

NIC = "+447400900444"


@at(FAMILY_ON_A_WARD_TABLET, only="tablet")
def test_a_relative_answers_worse_on_the_tablet_accepts_the_offer_and_the_call_reaches_outreach(
    tab, app, trust, read, base_url
):
    with app.app_context(), write_intent():
        hospital.update_ward(audit.Actor.cli(), db.session.get_one(Ward, trust["beds_ward"]), nurse_in_charge_phone=NIC)
        db.session.commit()
    make_tablet(tab, app, trust, base_url, ward="beds_ward")
    page = tab.page
    page.goto("/w/w8")
    page.get_by_role("link", name="Being asked how the patient is today? Answer the daily check").click()
    page.wait_for_url("**/w/w8/daily")
    tab.check("daily-check-family-form")

    page.get_by_role("button", name="Send answer").click()
    expect(page.get_by_text("There is a problem")).to_be_visible()
    tab.check("daily-check-family-errors")

    page.get_by_label("Bed").select_option(label="Bay 2")
    page.get_by_label("The patient's name").fill("Pat Jones")
    page.get_by_label("Family, carer or advocate").check()
    page.get_by_label("Okay").check()
    page.get_by_label("Worse").check()
    page.get_by_label("Anything you want the ward to know (optional)").fill("Not herself, very drowsy")
    page.get_by_role("button", name="Send answer").click()
    page.wait_for_url("**/w/w8/daily/thanks")
    expect(page.get_by_text("Do you want to ask the critical care outreach team for an urgent review?")).to_be_visible()
    expect(page.get_by_role("button", name="Done")).to_be_visible()
    tab.check("daily-check-family-offer")

    page.get_by_role("button", name="Yes, ask for an urgent review").click()
    page.wait_for_url("**/w/w8/sent")
    reference = reference_on(page)
    tab.check("daily-check-family-sent")

    answer = read.one(DailyCheckAnswer)
    concern = read.one(Concern)
    assert answer.concern_id == concern.id and concern.reference == reference
    assert (concern.caller_route, concern.channel, concern.bed) == (CallerRoute.FAMILY, Channel.TABLET, "Bay 2")
    alert = read.one(Message, Message.to_number == NIC)
    assert alert.template_id == "daily_check_alert" and alert.variables["beds"] == "Bay 2"

    # The outreach team's queue has the call (a fresh browser context: a nurse at the office PC).
    other = tab.context.browser.new_context(base_url=base_url)
    try:
        queue = other.new_page()
        password = outreach_user(app, trust)

        sign_in(queue, CLINICIAN, password)
        queue.goto("/triage/")
        expect(queue.get_by_text(reference)).to_be_visible()
    finally:
        other.close()
    tab.assert_clean()

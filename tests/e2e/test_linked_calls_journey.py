"""Two relatives, one patient, in Chromium on a ward tablet: a clinician sees that a second relative's call may be
about the same patient, links the two (the second stops paging and follows the first), claims and closes the call
the team works; the first relative texts that evening, and the clinician raises a new call from the text, which
appears on the queue. Every page passes axe-core's WCAG 2.2 AA rules and is saved as a screenshot for review."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import FAMILY_MOBILE, mobile
from tests.e2e.journeys import OUTREACH_NURSE, at
from tests.e2e.test_clinician_journey import CLINICIAN, outreach_user, sign_in
from tests.services.test_concerns import raise_one
from tracker.clock import utcnow
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import CallerUpdateMethod, Concern, ConcernStatus, ConcernType, User, Ward
from tracker.outbox.inbound import InboundText, receive_text
from tracker.services.concerns import triage

pytestmark = pytest.mark.browser

ONE_SCREEN = at(OUTREACH_NURSE, only="desktop")


@ONE_SCREEN
def test_two_relatives_calls_are_linked_and_a_later_text_becomes_a_call_on_the_queue(tab, app, trust, read):
    page = tab.page
    with app.app_context(), write_intent():
        ward = db.session.get_one(Ward, trust["ward"])
        first = raise_one(ward, patient_name="Pat Jones", caller_name="Sam Jones").reference
        second = raise_one(
            ward,
            submission="second-relative-0001",
            patient_name="PAT JONES",
            caller_name="Alex Jones",
            caller_relationship="son",
            callback=mobile("07400 765432"),
        ).reference
    sign_in(page, CLINICIAN, outreach_user(app, trust))
    page.wait_for_url("**/triage/")

    # The son's call shows the daughter's: the same patient, so the clinician links them.
    page.goto(f"/triage/c/{second}")
    same = page.locator("[data-same-patient]")
    expect(same).to_contain_text("Another open call may be about this patient")
    expect(same).to_contain_text(first)
    tab.check("concern-same-patient", emergency=False)
    same.get_by_role("button", name=f"Link with {first}").click()
    expect(page.get_by_text(f"{second} is linked to {first}")).to_be_visible()
    expect(page.locator("[data-linked-to]")).to_contain_text(f"Linked to {first}")
    expect(page.get_by_role("button", name="Claim this call")).to_have_count(0)
    tab.check("concern-linked", emergency=False)

    # On the queue the son's call says it is linked and not paged; only the daughter's is new to claim.
    page.get_by_role("link", name="Back to the queue").click()
    page.wait_for_url("**/triage/")
    expect(page.locator(f'[data-linked-to="{first}"]')).to_contain_text(f"Linked to {first}: not paged")
    expect(page.locator("[data-new-count]")).to_have_attribute("data-new-count", "1")
    tab.check("queue-linked-call", emergency=False)

    # Claiming the daughter's call claims the son's with it.
    page.goto(f"/triage/c/{first}")
    expect(page.locator("[data-linked-calls]")).to_contain_text(second)
    page.get_by_role("button", name="Claim this call").click()
    expect(page.get_by_text("You have claimed this call.")).to_be_visible()
    tab.check("concern-with-linked-call", emergency=False)
    assert read.one(Concern, Concern.reference == second).status is ConcernStatus.ACKNOWLEDGED

    # The call is closed; that evening the daughter texts again.
    with app.app_context(), write_intent():
        concern = db.session.scalar(db.select(Concern).where(Concern.reference == first))
        nurse = db.session.scalar(db.select(User).where(User.email == CLINICIAN))
        coding = triage.Coding(ConcernType.CLINICAL_CONCERN, False, None, (), CallerUpdateMethod.PHONE, utcnow())
        triage.close_without_review(concern.id, nurse, coding, "Advice by phone", concern.version)
        db.session.commit()
        receive_text(InboundText(FAMILY_MOBILE, "She is more confused again tonight", "SM" + "f" * 32))
        db.session.commit()
    assert read.one(Concern, Concern.reference == second).status is ConcernStatus.CLOSED  # it followed the close

    page.goto(f"/triage/c/{first}")
    expect(page.get_by_text("This text came after the call ended.")).to_be_visible()
    page.get_by_role("button", name="Raise a new call from this text").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text("raised from the caller's text")
    expect(page.locator("[data-follows]")).to_contain_text(first)
    new_reference = re.search(r"/triage/c/([A-Z0-9-]+)$", page.url).group(1)
    tab.check("concern-raised-from-follow-up-text", emergency=False)

    page.get_by_role("link", name="Back to the queue").click()
    page.wait_for_url("**/triage/")
    row = page.locator(f'[data-concern="{new_reference}"]')
    expect(row).to_contain_text("She is more confused again tonight")
    expect(row).to_have_attribute("data-status", "new")
    tab.check("queue-follow-up-call", emergency=False)
    tab.assert_clean()


@ONE_SCREEN
def test_a_text_from_a_number_with_no_call_is_phoned_back_and_placed(tab, app, trust, read):
    page = tab.page
    with app.app_context(), write_intent():
        receive_text(InboundText("+447400999888", "My dad in bay 3 is very breathless", "SM" + "9" * 32))
        db.session.commit()
    sign_in(page, CLINICIAN, outreach_user(app, trust))
    page.wait_for_url("**/triage/")
    reference = read.one(Concern).reference
    row = page.locator(f'[data-concern="{reference}"]')
    expect(row).to_contain_text("Ward not yet known")
    expect(row).to_contain_text("A text (not yet known)")
    tab.check("queue-text-in-call", emergency=False)

    row.get_by_role("link", name="Ward not yet known").click()
    page.wait_for_url(f"**/triage/c/{reference}")
    callout = page.locator("[data-text-in]")
    expect(callout).to_contain_text("A text to the tracker's number")
    tab.check("concern-text-in", emergency=False)
    callout.get_by_role("button", name="Save who raised it and the ward").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Choose who raised the call")
    tab.check("concern-text-in-error", emergency=False)
    callout = page.locator("[data-text-in]")
    callout.get_by_label("Family, carer or advocate").check()
    callout.get_by_label("The patient's ward").select_option(label="Ward 7, General Hospital")
    callout.get_by_role("button", name="Save who raised it and the ward").click()
    expect(page.get_by_text("Saved: who raised the call, and the ward.")).to_be_visible()
    expect(page.locator("h1")).to_contain_text("Ward 7")
    expect(page.locator("[data-text-in]")).to_have_count(0)
    tab.check("concern-text-in-placed", emergency=False)
    tab.assert_clean()

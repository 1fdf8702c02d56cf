"""The reference is never lost, in Chromium on a family's phone: after the browser's session has ended, the ward's
form says a request was sent from this phone and links back to its confirmation, which offers the reference by
text once more. (On a ward tablet, Done and its countdown sit with the reference on screen:
tests/e2e/test_ward_tablet.py.)"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.family_form import fill_in_everything, reference_on, send
from tests.e2e.journeys import FAMILY_ON_A_PHONE, at

pytestmark = pytest.mark.browser


@at(FAMILY_ON_A_PHONE)
def test_a_family_gets_back_to_their_reference_and_can_have_it_texted_again(tab, app):
    page = tab.page
    page.goto("/w/w7")
    fill_in_everything(page)
    send(page)
    page.wait_for_url("**/w/w7/sent")
    reference = reference_on(page)

    # The phone's browser is closed and opened again later: its session has gone.
    session = app.config["SESSION_COOKIE_NAME"]
    kept = [cookie for cookie in tab.context.cookies() if cookie["name"] != session]
    tab.context.clear_cookies()
    tab.context.add_cookies(kept)

    page.goto("/w/w7")
    earlier = page.locator("[data-earlier-request]")
    expect(earlier).to_contain_text("You sent a request from this phone or computer at")
    tab.check("family-form-with-earlier-request")
    earlier.get_by_role("link", name="See your reference").click()
    page.wait_for_url("**/w/w7/sent")
    expect(page.locator("[data-reference]")).to_have_text(reference)

    page.get_by_role("button", name="Text my reference to me again").click()
    expect(page.get_by_text("We are texting your reference to you again.")).to_be_visible()
    expect(page.get_by_role("button", name="Text my reference to me again")).to_have_count(0)
    tab.check("family-confirmation-texted-again")
    tab.assert_clean()

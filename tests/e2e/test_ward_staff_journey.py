"""Ward staff on the ward's desktop PC, in Chromium at 1366×768: a nurse raises a call on the staff route with her
bleep (a bad one is refused in plain words and what she typed is kept), lands on the ward's list, which picks up a
family's call without a reload, says how long each call has waited and when it cannot update, and links each call to
its status page. Every page passes axe-core and is saved as a screenshot for review.

Time in the page is Playwright's clock, installed running (axe-core needs timers): jumping it the list's refresh
interval forward fires the refresh at once, so the test never waits for a poll."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import create_staff
from tests.e2e.journeys import WARD_STAFF, at
from tests.e2e.test_clinician_journey import sign_in
from tracker.models import Concern
from tracker.triage.ward import REFRESH_SECONDS

pytestmark = pytest.mark.browser

NURSE = "ward.nurse@test.invalid"
BLEEP = "4471"


@at(WARD_STAFF)
def test_a_ward_nurse_raises_a_call_and_the_wards_list_picks_up_a_new_one_without_a_reload(
    tab, app, trust, family, read
):
    page = tab.page
    _id, password = create_staff(app, "ward_staff", email=NURSE, ward_id=trust["ward"])
    page.clock.install()
    sign_in(page, NURSE, password)
    page.wait_for_url("**/triage/ward")
    expect(page.get_by_text("No calls in the last 7 days.")).to_be_visible()
    tab.check("ward-calls-empty", emergency=False)

    # The staff route: her bleep in its own box. Typed with a dash, it is refused in plain words and kept.
    page.get_by_role("link", name="Raise a call").first.click()
    page.get_by_label("Ward", exact=True).select_option(label="Ward 7, General Hospital")
    page.get_by_label("I am (staff route)").check()
    page.get_by_label("Patient's name").fill("Jo Bloggs")
    page.get_by_label("Their breathing has changed").check()
    page.get_by_label("Phone number to call back on (optional)").fill("020 7946 0123")
    page.get_by_label("Bleep or extension (optional)").fill("44-71")
    page.get_by_role("button", name="Raise the call").click()
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("Enter a bleep or extension using numbers only, like 4471")
    expect(page.get_by_label("Bleep or extension (optional)")).to_have_value("44-71")
    tab.check("ward-raise-bad-bleep", emergency=False)
    page.get_by_label("Bleep or extension (optional)").fill(BLEEP)
    page.get_by_role("button", name="Raise the call").click()
    page.wait_for_url("**/triage/ward")
    expect(page.get_by_text(re.compile(r"Call MR-\S+ raised"))).to_be_visible()
    assert read.one(Concern).callback_extension == BLEEP
    rows = page.locator("[data-concern]")
    expect(rows).to_have_count(1)
    expect(rows.first.locator("[data-wait]")).to_contain_text(re.compile(r"Waiting\s+0 min"))

    # A family raises a call on the ward: the open list shows it at its next refresh, with no reload.
    page.evaluate("window.notReloaded = true")
    assert family.submit().status_code == 303
    family_call = read.one(Concern, Concern.caller_route == "family_carer_advocate").reference
    with page.expect_response(re.compile(r"/triage/ward/rows")) as refreshed:
        page.clock.fast_forward(REFRESH_SECONDS * 1000)
    assert refreshed.value.status == 200
    expect(rows).to_have_count(2)
    new_row = page.locator(f'[data-concern="{family_call}"]')
    expect(new_row).to_contain_text("Not claimed yet")
    expect(new_row.locator("[data-wait]")).to_contain_text("Waiting")
    expect(new_row).to_have_class(re.compile("tracker-new-row"))
    expect(page.locator("[data-refresh-status]")).to_contain_text("1 new call at")
    assert page.evaluate("window.notReloaded") is True
    expect(page.locator("body")).not_to_contain_text("Mum is breathing fast")
    tab.check("ward-calls-live", emergency=False)

    # Nothing new: the next refresh is a 304 and the list stays as it is.
    with page.expect_response(re.compile(r"/triage/ward/rows")) as again:
        page.clock.fast_forward(REFRESH_SECONDS * 1000)
    assert again.value.status == 304
    expect(rows).to_have_count(2)

    # A refresh that fails says so, and what to do, while the calls it last had stay on the page.
    status = page.locator("[data-refresh-status]")
    page.route("**/triage/ward/rows*", lambda route: route.abort())
    page.clock.fast_forward(REFRESH_SECONDS * 1000)
    expect(status).to_have_text(
        re.compile(
            r"^Could not update your ward's calls at \d\d:\d\d\. Trying again\. If this goes on, reload the page, "
            r"and phone the outreach team about any call that cannot wait\.$"
        )
    )
    expect(rows).to_have_count(2)
    page.unroute("**/triage/ward/rows*")
    with page.expect_response(re.compile(r"/triage/ward/rows")):
        page.clock.fast_forward(REFRESH_SECONDS * 1000)
    expect(status).to_have_text(re.compile(r"^Updating again since \d\d:\d\d\.$"))
    # The aborted refresh is the one console error this test causes on purpose.
    aborted = [m for m in tab.console_errors if "/triage/ward/rows" in (m.location.get("url") or m.text)]
    assert aborted, "the aborted refresh was not seen"
    tab.console_errors[:] = [m for m in tab.console_errors if m not in aborted]

    # Each call links to its status page: status, who has it, its wait and its steps; never what the family wrote.
    new_row.get_by_role("link", name=re.compile(family_call)).click()
    page.wait_for_url(f"**/triage/ward/c/{family_call}")
    expect(page.get_by_role("heading", name=family_call)).to_be_visible()
    expect(page.locator(".nhsuk-summary-list")).to_contain_text("Not claimed yet")
    expect(page.locator("[data-times]")).to_contain_text("Raised")
    expect(page.locator("body")).not_to_contain_text("Mum is breathing fast")
    expect(page.locator("body")).not_to_contain_text("Sam Jones")
    tab.check("ward-call-status", emergency=False)
    page.get_by_role("link", name="Back to your ward's calls").click()
    page.wait_for_url("**/triage/ward")
    tab.assert_clean()

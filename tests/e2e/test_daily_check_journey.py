"""The daily check at the bedside, in Chromium on a nurse's phone (and the ward's PC): she admits a patient to a
bed, records their answer in three taps, sees the worse answer at the top of the page and marks it seen; the page
warns that the ward has no nurse in charge's number. Every page passes axe-core and is saved as a screenshot."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import create_staff
from tests.e2e.journeys import WARD_NURSE_AT_THE_BEDSIDE, at
from tests.e2e.test_clinician_journey import sign_in
from tracker.models import AuditEvent, DailyCheckAnswer

pytestmark = pytest.mark.browser

NURSE = "bedside.nurse@test.invalid"


@at(WARD_NURSE_AT_THE_BEDSIDE)
def test_a_nurse_admits_a_patient_records_a_worse_answer_in_three_taps_and_marks_it_seen(tab, app, trust, read):
    page = tab.page
    _id, password = create_staff(app, "ward_staff", email=NURSE, ward_id=trust["beds_ward"])
    sign_in(page, NURSE, password)
    page.wait_for_url("**/triage/ward")
    page.get_by_role("button", name="Daily check").click()
    page.wait_for_url("**/triage/ward/check")
    expect(page.locator("[data-no-nurse-in-charge]")).to_contain_text("cannot reach this ward's nurse in charge")
    tab.check("daily-check-empty", emergency=False)

    bay1 = page.locator('[data-bed="Bay 1"]')
    bay1.get_by_label("Patient's name (optional)").fill("Pat Jones")
    bay1.get_by_role("button", name="Mark as occupied").click()
    expect(page.get_by_text("Bay 1 is marked as occupied.")).to_be_visible()
    expect(bay1.locator("[data-status]")).to_contain_text("Not asked today")
    tab.check("daily-check-not-asked", emergency=False)

    # At the bedside: one tap for each question, one to save.
    bay1.get_by_label("Okay").check()
    bay1.get_by_label("Worse").check()
    bay1.get_by_role("button", name=re.compile("^Save")).click()
    expect(page.get_by_text("Bay 1: saved. It is worse: it is at the top of the page.")).to_be_visible()
    worse = page.locator("[data-worse]")
    expect(worse).to_contain_text("Bay 1: Okay, worse")
    expect(worse).to_contain_text("not seen yet")
    expect(bay1.locator("[data-status]")).to_contain_text(re.compile(r"Asked today\. Latest answer at \d\d:\d\d"))
    assert page.locator("[data-worse]").bounding_box()["y"] < bay1.bounding_box()["y"]
    tab.check("daily-check-worse", emergency=False)

    worse.get_by_role("button", name=re.compile("^Seen")).click()
    expect(page.get_by_text("Bay 1's worse answer is marked as seen.")).to_be_visible()
    expect(page.locator("[data-worse]")).to_contain_text("not yet marked as acted on")
    tab.check("daily-check-seen", emergency=False)
    assert read.one(DailyCheckAnswer).seen_at is not None
    assert read.count(AuditEvent, AuditEvent.action == "daily_check_seen") == 1

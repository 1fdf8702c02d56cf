"""The outreach office's queue display, in Chromium at the office's 1366×768: a manager makes a one-time link on
the Displays page, the screen it is opened on is set up with one press and one more turns its sound on; with
everybody signed out, a call raised an hour later still appears on it, marked "New arrival", and the screen
never shows a patient's name or what the family wrote. Its sign-in page says how many calls are waiting."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from playwright.sync_api import expect

from tests.conftest import create_staff
from tests.e2e.journeys import OFFICE_DISPLAY, SERVICE_MANAGER, at
from tests.e2e.test_manager_reports import MANAGER, SECRET, sign_in_as_manager
from tracker.clock import utcnow

pytestmark = pytest.mark.browser


@at(SERVICE_MANAGER, OFFICE_DISPLAY, only="desktop")
def test_a_display_shows_a_call_raised_an_hour_after_everyone_signed_out(tab, open_tab, app, trust, family):
    _id, password = create_staff(app, "manager", email=MANAGER, site_id=trust["site"], totp_secret=SECRET)
    manager = tab.page
    sign_in_as_manager(manager, password)
    manager.get_by_role("link", name="Displays").click()
    tab.check("displays", emergency=False)
    manager.get_by_label("Team").select_option(label="Outreach Team")
    manager.get_by_label("Name of the display").fill("Outreach office screen")
    manager.get_by_role("button", name="Make a set-up link").click()
    link = manager.locator("[data-enrol-link]").inner_text()
    tab.check("displays-new-link", emergency=False)
    manager.get_by_role("link", name="Sign out").click()
    manager.get_by_role("button", name="Sign out", exact=True).click()

    screen = open_tab()
    display = screen.page
    display.clock.install()
    display.goto(link)
    screen.check("display-set-up", emergency=False)
    display.get_by_role("button", name="Set up this screen").click()
    display.wait_for_url("**/display")
    # The press that set it up lets this page play sound. After the screen restarts, nothing has been
    # pressed: the display says plainly that sound is off until someone presses once.
    expect(display.locator("[data-sound-off]")).to_be_hidden()
    restarted = open_tab()
    restarted.context.add_cookies(screen.context.cookies())
    restarted.page.goto("/display")
    expect(restarted.page.locator("[data-sound-off]")).to_be_visible()
    expect(restarted.page.locator("[data-sound-off]")).to_contain_text("Sound is off")
    restarted.check("display-sound-off", emergency=False)
    restarted.page.get_by_role("button", name="Turn on sound").click()
    expect(restarted.page.locator("[data-sound-off]")).to_be_hidden()

    with time_machine.travel(utcnow() + timedelta(hours=1), tick=True):
        family.submit()
        with display.expect_response(re.compile(r"/display/rows")) as refreshed:
            display.clock.fast_forward("01:00:05")
        assert refreshed.value.status == 200
        row = display.locator("[data-concern]").first
        expect(row).to_contain_text("New arrival")
        expect(row).to_contain_text("Breathing, sleepy or confused")
        expect(display.locator("body")).not_to_contain_text("Pat Jones")
        expect(display.locator("body")).not_to_contain_text("breathing fast")
        assert display.title().startswith("(1 not claimed)")
        screen.check("display-new-call", emergency=False)

        display.get_by_role("link", name="Sign in to act on a call").click()
        expect(display.locator("[data-display-waiting]")).to_contain_text("1 call waiting to be claimed")
        screen.check("display-sign-in", emergency=False)
    for each in (tab, screen, restarted):
        each.assert_clean()

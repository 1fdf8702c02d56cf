"""A kiosk never follows a family home, and never lets a family wander off it: in Chromium, a phone opening a
former kiosk ward's link gets the ordinary form; on the ward's enrolled tablet, Back and Forward never land
outside the kiosk form, the privacy notice opens inside the kiosk with a way back, and Done with its countdown is
on screen with the reference without scrolling, at both the tablet's sizes (810×1080 and 1024×768)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.family_form import FAMILY, fill_in_everything, make_tablet, reference_on, send
from tests.e2e.journeys import FAMILY_ON_A_PHONE, FAMILY_ON_A_WARD_TABLET, SERVICE_MANAGER, at
from tracker.clock import utcnow
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import Settings, Ward
from tracker.services.setup.settings import forget_settings
from tracker.services.setup.wards import forget_wards

pytestmark = pytest.mark.browser

FORM = "/w/w7"


def on_the_kiosk_form(page: Page) -> None:
    expect(page).to_have_url(re.compile(r"/w/w7$"))  # Back on a kiosk page may take the tablet there itself
    page.wait_for_load_state()
    expect(page.locator("form[data-kiosk-form]")).to_have_count(1)
    expect(page.get_by_role("link", name="Staff sign in")).to_have_count(0)
    expect(page.get_by_role("link", name="Choose a different ward")).to_have_count(0)


def within_the_screen(page: Page, selector: str) -> None:
    box = page.locator(selector).bounding_box()
    height = page.viewport_size["height"]
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height, (selector, box, height)


@at(FAMILY_ON_A_PHONE)
def test_a_phone_on_a_former_kiosk_ward_gets_the_ordinary_form(tab, app, trust):
    with app.app_context(), write_intent():
        db.session.get_one(Ward, trust["ward"]).kiosk_default = True
        db.session.get_one(Settings, 1).kiosk_default_until = utcnow() - timedelta(minutes=1)
        db.session.commit()
    forget_settings()
    forget_wards()
    page = tab.page
    page.goto(FORM)
    expect(page.locator("form[data-kiosk-form]")).to_have_count(0)
    expect(page.get_by_role("link", name="Staff sign in")).to_be_visible()
    tab.check("former-kiosk-ward-on-a-phone")
    fill_in_everything(page)
    send(page)
    page.wait_for_url("**/w/w7/sent")
    expect(page.get_by_role("button", name="Done")).to_have_count(0)
    expect(page.get_by_text("so the next person can use this tablet")).to_have_count(0)
    tab.assert_clean()


@at(FAMILY_ON_A_WARD_TABLET, only="tablet")
def test_back_forward_and_the_privacy_link_keep_an_enrolled_tablet_in_the_kiosk(tab, app, trust, base_url):
    make_tablet(tab, app, trust, base_url)
    page = tab.page
    page.goto(FORM)
    on_the_kiosk_form(page)

    # Back from the first page the tablet opened stays on the form.
    page.go_back()
    on_the_kiosk_form(page)

    # The privacy notice opens inside the kiosk: no staff links, and a way back.
    page.get_by_role("link", name="Privacy notice").click()
    page.wait_for_url("**/privacy?back=/w/w7")
    expect(page.get_by_role("link", name="Staff sign in")).to_have_count(0)
    expect(page.get_by_role("link", name="Back to the form")).to_be_visible()
    tab.check("kiosk-privacy")
    page.go_back()
    on_the_kiosk_form(page)
    page.go_forward()
    on_the_kiosk_form(page)
    page.get_by_role("link", name="Privacy notice").click()
    page.get_by_role("link", name="Back to the form").click()
    on_the_kiosk_form(page)

    # After a family sends: Back never returns to their confirmation, Forward never leaves the form.
    fill_in_everything(page)
    send(page)
    page.wait_for_url("**/w/w7/sent")
    reference = reference_on(page)
    page.go_back()
    on_the_kiosk_form(page)
    assert reference not in page.content()
    page.go_forward()
    on_the_kiosk_form(page)
    assert FAMILY["patient_name"] not in page.content()
    tab.assert_clean()


@at(FAMILY_ON_A_WARD_TABLET)  # 810×1080 and 1024×768
def test_on_a_tablet_done_and_its_countdown_show_with_the_reference_without_scrolling(tab, app, trust, base_url):
    make_tablet(tab, app, trust, base_url)
    page = tab.page
    page.goto(FORM)
    fill_in_everything(page)
    send(page)
    page.wait_for_url("**/w/w7/sent")
    expect(page.get_by_text("This screen clears by itself in")).to_be_visible()
    assert page.evaluate("window.scrollY") == 0
    for selector in ("[data-reference]", "[data-kiosk-done]", "[data-kiosk-countdown-text]"):
        within_the_screen(page, selector)
    tab.screenshot("kiosk-confirmation-on-screen", full_page=False)
    tab.assert_clean()


@at(SERVICE_MANAGER)
def test_a_manager_sets_up_a_wards_tablet_and_the_tablet_opens_its_kiosk_form(tab, open_tab, app, trust):
    from tests.conftest import create_staff
    from tests.e2e.test_manager_reports import MANAGER, SECRET, assert_fits_the_screen, sign_in_as_manager

    with app.app_context(), write_intent():  # a ward still on the old kiosk-for-every-device setting
        db.session.get_one(Ward, trust["ward"]).kiosk_default = True
        db.session.get_one(Settings, 1).kiosk_default_until = utcnow() + timedelta(days=30)
        db.session.commit()
    forget_settings()
    forget_wards()
    _id, password = create_staff(app, "manager", email=MANAGER, site_id=trust["site"], totp_secret=SECRET)
    manager = tab.page
    sign_in_as_manager(manager, password)
    manager.goto("/devices/tablets")  # "Ward tablets" in the header's menu
    expect(manager.locator("[data-legacy-kiosk]")).to_contain_text("Ward 7: until")
    tab.check("ward-tablets", emergency=False)
    manager.get_by_role("button", name="Make a set-up link").click()
    expect(manager.locator(".nhsuk-error-summary")).to_contain_text("Choose the ward this tablet is for")
    tab.check("ward-tablets-error", emergency=False)
    manager.get_by_label("Ward", exact=True).select_option(label="Ward 7, Outreach Team")
    manager.get_by_label("Name of the tablet").fill("Bay 2 tablet")
    manager.get_by_role("button", name="Make a set-up link").click()
    link = manager.locator("[data-enrol-link]").inner_text()
    assert_fits_the_screen(manager, "/devices/tablets")  # the long one-time link wraps
    tab.check("ward-tablets-new-link", emergency=False)

    tablet = open_tab()
    tablet.page.goto(link)
    expect(tablet.page.get_by_role("heading", name="Set up this tablet for Ward 7")).to_be_visible()
    tablet.check("tablet-set-up", emergency=False)
    tablet.page.get_by_role("button", name="Set up this tablet").click()
    on_the_kiosk_form(tablet.page)
    tablet.check("tablet-kiosk-form")

    manager.reload()
    expect(manager.locator("[data-legacy-kiosk]")).to_have_count(0)  # the ward's tablet is set up now
    expect(manager.locator("[data-ward-tablets='w7']")).to_contain_text("Working")
    tab.assert_clean()
    tablet.assert_clean()

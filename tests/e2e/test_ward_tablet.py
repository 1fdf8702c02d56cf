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
from tests.e2e.journeys import FAMILY_ON_A_PHONE, FAMILY_ON_A_WARD_TABLET, at
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

"""The dashboard's daily-check section in Chromium, on a desktop and a phone: the coverage, the "worse" answers and
the month-by-month section marked local (not part of the NHS England return), axe-clean, and on a phone nothing
scrolls sideways. Screenshots saved for review."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import create_staff
from tests.e2e.journeys import SERVICE_MANAGER, at
from tests.e2e.test_manager_reports import MANAGER, SECRET, assert_fits_the_screen, sign_in_as_manager
from tests.reports.test_daily_check_figures import seed_december
from tracker.db import write_intent

pytestmark = pytest.mark.browser

DECEMBER = "/reports/?site=gen&from-day=1&from-month=12&from-year=2026&to-day=3&to-month=12&to-year=2026"


@pytest.fixture
def seeded(app, trust):
    with app.app_context(), write_intent():
        seed_december(trust["beds_ward"])
    _user_id, password = create_staff(app, "manager", email=MANAGER, site_id=trust["site"], totp_secret=SECRET)
    return password


@at(SERVICE_MANAGER)
def test_the_dashboard_shows_the_daily_check_on_every_screen(tab, seeded):
    page = tab.page
    sign_in_as_manager(page, seeded)
    page.goto(DECEMBER)
    section = page.locator("#daily-check")
    expect(section.get_by_role("heading", name="Daily check", exact=True)).to_be_visible()
    expect(section).to_contain_text("bed-days)")
    expect(section).to_contain_text("not counted as asked")
    expect(section.get_by_role("heading", name="Local: not part of the NHS England return")).to_be_visible()
    expect(page.locator("#daily-check-months")).to_contain_text("December 2026")
    if tab.viewport == "phone":
        expect(page.locator("#trend-chart")).to_be_visible()  # the charts are drawn: the page is laid out
        assert_fits_the_screen(page, DECEMBER)
    section.scroll_into_view_if_needed()
    tab.check("reports-daily-check", emergency=False)
    tab.screenshot("reports-daily-check-in-view", full_page=False)
    tab.assert_clean()

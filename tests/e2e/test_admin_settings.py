"""The Trust settings pages in Chromium (issue 15, point 1; HAZ-083, HAZ-084): an administrator changes the emergency
instruction, signs in again, sees it as families will and saves it, and families see it at once; bad input is refused
with a plain message; a shorter retention period shows what it would make due; the settings history shows what was in
force; a manager reads the settings. Every page passes axe-core and is saved as a screenshot."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from playwright.sync_api import expect

from tests.conftest import create_staff
from tests.e2e.journeys import ADMINISTRATOR, SERVICE_MANAGER, at
from tracker.clock import local, utcnow
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import Settings, User
from tracker.services.people import sessions
from tracker.services.records import audit, retention
from tracker.services.setup import trust_words

pytestmark = pytest.mark.browser

SECRET = pyotp.random_base32()
NEW = "Pull the red cord by the bed, or tell any nurse. Dial 2222 from a ward phone."


def signed_in(app, tab, base_url, role: str, *, stale: bool, **scope) -> tuple[int, str]:
    """A person with an authenticator, signed in in the browser; `stale` makes the sign-in older than a change to what
    families are told allows."""
    user_id, password = create_staff(app, role, email=f"{role}@test.invalid", totp_secret=SECRET, **scope)
    with app.app_context(), write_intent():
        token, record = sessions.start_session(
            db.session.get(User, user_id), user_agent="chromium", address="127.0.0.1"
        )
        if stale:
            record.authenticated_at = utcnow() - timedelta(minutes=20)
        db.session.commit()
    with app.test_request_context():
        cookie = app.session_interface.get_signing_serializer(app).dumps({"_user_id": token, "_fresh": True})
    tab.context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": cookie, "url": base_url}])
    return user_id, password


@at(ADMINISTRATOR)
def test_an_administrator_changes_the_emergency_instruction_after_seeing_it_as_families_will(
    tab, app, trust, base_url, read
):
    page = tab.page
    _, password = signed_in(app, tab, base_url, "admin", stale=True)
    with app.app_context(), write_intent():
        trust_words.save_languages(audit.Actor.cli(), "pl")
        trust_words.save_words(
            audit.Actor.cli(), "pl", trust_words.EMERGENCY_INSTRUCTION, "Naciśnij czerwony przycisk."
        )
        db.session.commit()

    page.goto("/admin/")
    page.get_by_role("link", name="Trust settings").click()
    expect(page.get_by_role("heading", name="Trust settings", exact=True)).to_be_visible()
    tab.check("admin-settings", emergency=False)

    # Bad input: a plain message beside each field, what was typed kept, nothing saved.
    contact = page.locator("#contact")
    contact.get_by_label("Trust name").fill("")
    contact.get_by_label("PALS number").fill("12")
    contact.get_by_role("button", name=re.compile("^Check and save")).click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Enter the trust's name")
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("The PALS number is not a phone number")
    tab.check("admin-settings-error", emergency=False)
    page.locator(".nhsuk-error-summary").get_by_role("link", name="Enter the trust's name").click()
    expect(page.locator("#contact-trust_name")).to_be_focused()

    # A new instruction: a fresh sign-in, then the check.
    contact.get_by_label("Trust name").fill("Test Hospitals NHS Trust")
    contact.get_by_label("PALS number").fill("020 7946 0199")
    contact.get_by_label("Emergency instruction").fill(NEW)
    contact.get_by_role("button", name=re.compile("^Check and save")).click()
    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Security code").fill(pyotp.TOTP(SECRET).now())
    page.get_by_role("button", name="Continue").click()

    expect(page).to_have_url(f"{base_url}/admin/settings/check/contact")
    expect(page.get_by_role("heading", name="Check the change before you save it")).to_be_visible()
    preview = page.locator("[data-preview] .tracker-emergency")
    expect(preview.get_by_role("heading", name="In an emergency")).to_be_visible()
    expect(preview.locator(".tracker-emergency__instruction")).to_have_text(NEW)
    expect(page.locator("[data-translated]")).to_contain_text("Polish")
    assert read.one(Settings).emergency_instruction != NEW  # not saved yet
    tab.check("admin-settings-check", emergency=False)

    page.get_by_role("button", name="Save the change").click()
    expect(page.locator(".tracker-flash")).to_contain_text("What families are told: saved.")
    assert read.one(Settings).emergency_instruction == NEW
    tab.check("admin-settings-saved", emergency=False)

    # Families see it at once.
    family = tab.context.new_page()
    family.goto("/w/w7")
    expect(family.locator(".tracker-emergency__instruction")).to_have_text(NEW)
    family.close()

    # The history says what was in force, and who changed it.
    page.goto("/admin/settings/history")
    soon = local(utcnow() + timedelta(minutes=1), "Europe/London")  # the minute after the save: it is in force
    page.get_by_label("Day").fill(f"{soon:%Y-%m-%d}")
    page.get_by_label("Time").fill(f"{soon:%H:%M}")
    page.get_by_role("button", name="Show the settings then").click()
    expect(page.locator("[data-in-force]")).to_contain_text("Test admin")
    expect(page.locator("[data-in-force] .tracker-emergency__instruction")).to_have_text(NEW)
    tab.check("admin-settings-history", emergency=False)
    tab.assert_clean()


@at(ADMINISTRATOR)
def test_a_shorter_retention_period_is_shown_with_what_it_would_make_due(tab, app, trust, base_url, read):
    page = tab.page
    signed_in(app, tab, base_url, "admin", stale=False)
    with app.app_context(), write_intent():
        retention.save_retention(audit.Actor.cli(), retention_adult_years=10)
        db.session.commit()
    page.goto("/admin/settings#retention")
    page.locator("#retention").get_by_label("An adult's call, years after it ended").fill("8")
    page.locator("#retention").get_by_role("button", name=re.compile("^Check and save")).click()
    expect(page.locator("[data-more-due]")).to_contain_text("0 more calls")
    expect(page.locator("[data-shortened]")).to_contain_text("the adult period")
    tab.check("admin-settings-retention-check", emergency=False)
    page.get_by_role("button", name="Save the change").click()
    expect(page.locator(".tracker-flash")).to_contain_text("How long calls are kept: saved.")
    assert read.one(Settings).retention_adult_years == 8

    page.goto("/admin/settings/languages")
    tab.check("admin-settings-languages", emergency=False)
    page.get_by_role("link", name=re.compile("^Arabic")).click()
    expect(page.get_by_role("heading", name="The trust's own words in Arabic")).to_be_visible()
    tab.check("admin-settings-language-ar", emergency=False)
    tab.assert_clean()


@at(SERVICE_MANAGER, only="desktop")
def test_a_manager_reads_the_settings(tab, app, trust, base_url):
    page = tab.page
    signed_in(app, tab, base_url, "manager", stale=False, site_id=trust["site"])
    page.goto("/admin/settings")
    expect(page.locator("#contact")).to_contain_text("Press the red buzzer or ask any nurse now. Call 2222.")
    assert page.locator("form[action^='/admin/settings/']").count() == 0
    tab.check("admin-settings-manager", emergency=False)
    page.goto("/admin/settings/languages/pl")
    tab.check("admin-settings-language-pl-manager", emergency=False)
    tab.assert_clean()

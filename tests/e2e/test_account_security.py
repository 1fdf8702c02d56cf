"""A manager replaces a lost phone's authenticator in Chromium: the account page, the confirm step
asking for the current code, the new QR code, and back to the account; and the sign-in page when
someone has been guessing at the account. Every page passes axe-core and is saved as a screenshot."""

from __future__ import annotations

import time

import pyotp
import pytest
from playwright.sync_api import expect

from tests.e2e.journeys import OUTREACH_NURSE, SERVICE_MANAGER, at
from tests.e2e.test_manager_records import SECRET, signed_in_manager
from tracker.models import AuditEvent, User

pytestmark = pytest.mark.browser


def next_code(secret: str) -> str:
    """A code not yet used: wait for the next 30-second step if this one has been."""
    step = int(time.time()) // 30
    while int(time.time()) // 30 == step:
        time.sleep(0.5)
    return pyotp.TOTP(secret).now()


@at(SERVICE_MANAGER, only="desktop")
def test_a_manager_replaces_the_authenticator_after_proving_the_current_one(tab, app, trust, base_url, read):
    page = tab.page
    _, password = signed_in_manager(app, tab, trust, base_url, stale=False)
    page.goto(f"{base_url}/auth/account")
    expect(page.get_by_role("heading", name="Authenticator app")).to_be_visible()
    expect(page.get_by_role("button", name="Remove your authenticator app")).to_have_count(0)  # managers need one
    tab.check("account-authenticator", emergency=False)

    page.get_by_role("link", name="Replace your authenticator app").click()
    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    expect(page.get_by_text("Changing how you sign in needs you to prove it is you")).to_be_visible()
    tab.check("confirm-for-authenticator", emergency=False)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Security code").fill(next_code(SECRET))
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="Replace your authenticator app")).to_be_visible()
    tab.check("replace-authenticator", emergency=False)
    new_secret = page.locator(".tracker-secret").inner_text().replace(" ", "")
    page.get_by_label("Code from the app").fill(pyotp.TOTP(new_secret).now())
    page.get_by_role("button", name="Finish setting up").click()
    expect(page.get_by_text("Your new authenticator app is set up")).to_be_visible()
    tab.check("authenticator-replaced", emergency=False)

    assert read.one(User).totp_secret == new_secret
    assert "mfa_replaced" in [event.action for event in read.all(AuditEvent)]
    tab.assert_clean()


@at(OUTREACH_NURSE, only="desktop")
def test_the_sign_in_page_says_how_long_to_wait_when_someone_is_guessing(tab, app, trust, base_url):
    from tests.conftest import create_staff

    create_staff(app, "outreach", email="nurse@test.invalid", team_ids=[trust["team"]])
    page = tab.page
    slowed = page.get_by_text("Too many attempts to sign in. Wait")
    for n in range(20):  # five wrong guesses are free; then each must wait (a second, then two...)
        page.goto(f"{base_url}/auth/sign-in")
        page.get_by_label("Email address").fill("nurse@test.invalid")
        page.get_by_label("Password", exact=True).fill(f"a wrong guess {n}")
        page.get_by_role("button", name="Sign in").click()
        if slowed.count():
            break
    expect(slowed).to_have_count(2)  # in the error summary and at the field
    tab.check("sign-in-slowed", emergency=False)
    tab.assert_no_console_errors()

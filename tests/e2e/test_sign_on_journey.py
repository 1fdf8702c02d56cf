"""An outreach nurse signs in with the trust's account in Chromium, through a real OpenID provider's page on
loopback (oidc-provider-mock), and signs out of both; a person whose trust account is linked to nobody is told
whom to ask. The tracker's pages pass axe-core and are saved as screenshots (docs/architecture.md#sign-on)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.conftest import live_server
from tests.e2e.conftest import FAILED_LOAD
from tests.e2e.journeys import OUTREACH_NURSE, at
from tests.sign_on import conftest as sign_on_fixtures
from tests.sign_on.conftest import staff
from tracker.models import SessionRecord

pytestmark = pytest.mark.browser

# The sign-on tests' fixtures: the OpenID provider on loopback, and the tracker configured to use it.
provider = sign_on_fixtures.provider
sso_app_session = sign_on_fixtures.sso_app_session
sso_app = sign_on_fixtures.sso_app

# The provider's own pages load their stylesheet from a CDN, which the hermetic Chromium never reaches.
PROVIDER_STYLESHEET = "cdn.jsdelivr.net"


@pytest.fixture
def sso_url(sso_app, monkeypatch):
    """The tracker with sign-on, served on loopback; the provider sends the browser back to this address."""
    with live_server(sso_app) as url:
        monkeypatch.setitem(sso_app.config, "PUBLIC_BASE_URL", url)
        yield url


def assert_tracker_pages_clean(tab, tracker_url: str) -> None:
    """What assert_clean checks, for the tracker's own pages: the provider's pages are not ours. A refusal's
    status (403) is meant, as in Tab.assert_no_console_errors."""
    ours = urlsplit(tracker_url).netloc
    elsewhere = [url for url in tab.requests if urlsplit(url).hostname not in ("127.0.0.1", PROVIDER_STYLESHEET)]
    assert elsewhere == [], f"requests left 127.0.0.1: {elsewhere}"
    for response in tab.documents:
        if urlsplit(response.url).netloc == ours:
            assert response.headers.get("cache-control") == "no-store", response.url
    statuses = {(r.url, r.status) for r in tab.documents}
    errors = [
        m.text
        for m in tab.console_errors
        if urlsplit(m.location.get("url", "")).netloc == ours
        and not ((meant := FAILED_LOAD.match(m.text)) and (m.location.get("url"), int(meant.group(1))) in statuses)
    ]
    assert errors == [] and tab.page_errors == []


@at(OUTREACH_NURSE, only="desktop")
def test_a_nurse_signs_in_through_the_trusts_sign_in_page_and_out_of_both(tab, sso_app, sso_url, provider, trust, read):
    staff(sso_app, "outreach", team_ids=[trust["team"]], link="nurse-object-id")
    page = tab.page
    page.goto(f"{sso_url}/auth/sign-in")
    expect(page.get_by_role("heading", name="Staff sign in")).to_be_visible()
    tab.check("sign-on-sign-in-page", emergency=False)

    page.get_by_role("button", name="Sign in with your trust account").click()
    expect(page.get_by_role("heading", name="Authorize Client")).to_be_visible()  # the provider's own page
    assert page.url.startswith(f"{provider.issuer}/oauth2/authorize")
    tab.screenshot("sign-on-provider-page")
    page.get_by_placeholder("sub").fill("nurse-object-id")
    page.get_by_role("button", name="Authorize").click()

    expect(page.get_by_role("heading", name="Martha's Rule calls")).to_be_visible()
    assert page.url == f"{sso_url}/triage/"
    tab.check("sign-on-queue", emergency=False)
    assert read.one(SessionRecord).sign_on

    page.goto(f"{sso_url}/auth/sign-out")
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_role("heading", name="You have signed out of the tracker")).to_be_visible()
    tab.check("sign-on-signed-out", emergency=False)
    page.get_by_role("button", name="Sign out of your trust account").click()
    expect(page.get_by_role("heading", name="End Session")).to_be_visible()  # the provider's sign-out
    page.get_by_role("button", name="End session").click()
    expect(page.get_by_role("heading", name="Staff sign in")).to_be_visible()  # and back to the tracker
    assert read.one(SessionRecord).revoked_at is not None
    assert_tracker_pages_clean(tab, sso_url)


@at(OUTREACH_NURSE, only="desktop")
def test_a_person_with_no_linked_account_is_told_whom_to_ask(tab, sso_app, sso_url, provider, trust):
    page = tab.page
    page.goto(f"{sso_url}/auth/sign-in")
    page.get_by_role("button", name="Sign in with your trust account").click()
    page.get_by_placeholder("sub").fill("somebody-new")
    page.get_by_role("button", name="Authorize").click()
    expect(page.get_by_role("heading", name="You cannot sign in with your trust account")).to_be_visible()
    expect(page.get_by_text("Ask the outreach team's lead nurse to give you an account")).to_be_visible()
    tab.check("sign-on-not-linked", emergency=False)
    assert_tracker_pages_clean(tab, sso_url)

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


def cookie_for(app, user_id: int) -> str:
    """A signed-in session's cookie for the browser (as a sign-in just now would give)."""
    from tracker.db import write_intent
    from tracker.extensions import db
    from tracker.models import User
    from tracker.services.people import sessions

    with app.app_context(), write_intent():
        token, _record = sessions.start_session(
            db.session.get(User, user_id), user_agent="chromium", address="127.0.0.1"
        )
        db.session.commit()
    with app.test_request_context():
        return app.session_interface.get_signing_serializer(app).dumps({"_user_id": token, "_fresh": True})


@at(OUTREACH_NURSE, only="desktop")
def test_a_break_glass_admin_turns_on_local_sign_in_and_the_queue_says_so(tab, sso_app, sso_url, trust, read):
    from tracker.db import write_intent
    from tracker.extensions import db
    from tracker.models import SignOnOutage, User

    nurse = staff(sso_app, "outreach", team_ids=[trust["team"]], link="nurse-object-id")
    admin = staff(sso_app, "admin", email="glass@test.invalid", link="admin-object-id")
    with sso_app.app_context(), write_intent():
        db.session.get_one(User, admin).break_glass = True
        db.session.commit()
    page = tab.page
    name = sso_app.config["SESSION_COOKIE_NAME"]
    tab.context.add_cookies([{"name": name, "value": cookie_for(sso_app, admin), "url": sso_url}])
    page.goto(f"{sso_url}/auth/account")
    expect(page.get_by_role("heading", name="Trust account")).to_be_visible()
    tab.check("sign-on-account-linked-admin", emergency=False)
    page.get_by_role("link", name="Sign-on outage").click()
    expect(page.get_by_role("heading", name="Sign-on outage")).to_be_visible()
    tab.check("sign-on-outage-off", emergency=False)
    page.get_by_label("For how many hours, from now").fill("13")
    page.get_by_role("button", name="Turn local sign-in on").click()
    expect(page.get_by_text("The number of hours must be a whole number from 1 to 12").first).to_be_visible()
    tab.check("sign-on-outage-refused", emergency=False)
    page.get_by_label("For how many hours, from now").fill("6")
    page.get_by_role("button", name="Turn local sign-in on").click()
    expect(page.get_by_role("heading", name="Local sign-in is on")).to_be_visible()
    tab.check("sign-on-outage-on", emergency=False)
    assert read.one(SignOnOutage).ended_at is None

    tab.context.clear_cookies()
    page.goto(f"{sso_url}/auth/sign-in")
    expect(page.get_by_role("heading", name="The trust's sign-in is down")).to_be_visible()
    tab.check("sign-on-sign-in-during-outage", emergency=False)
    tab.context.add_cookies([{"name": name, "value": cookie_for(sso_app, nurse), "url": sso_url}])
    page.goto(f"{sso_url}/triage/")
    expect(page.get_by_text("Sign-on outage: the trust's sign-in is down")).to_be_visible()
    tab.check("sign-on-outage-queue-banner", emergency=False)
    assert_tracker_pages_clean(tab, sso_url)

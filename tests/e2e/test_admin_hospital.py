"""Issue 15's first acceptance walk, in Chromium: an administrator adds a site, its outreach team and a ward, is
refused a code that cannot be printed, opens the ward's printable link (checked as it prints, with nothing but the
ward and its link), and a family raises a concern through that link. Every page passes axe-core and is saved as a
screenshot; no page is stored and nothing leaves 127.0.0.1."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.conftest import create_staff
from tests.e2e.conftest import Tab
from tests.e2e.family_form import FAMILY, fill_in_everything, reference_on, send
from tests.e2e.journeys import ADMINISTRATOR, PHONE, SERVICE_MANAGER, at
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import Concern, User, Ward
from tracker.services.people import sessions

pytestmark = pytest.mark.browser


def sign_in_admin(app, tab, base_url) -> None:
    """An administrator with an authenticator, signed in a moment ago (the browser holds the session's cookie)."""
    user_id, _ = create_staff(app, "admin", email="admin@test.invalid", totp_secret="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    with app.app_context(), write_intent():
        token, _ = sessions.start_session(db.session.get(User, user_id), user_agent="chromium", address="127.0.0.1")
        db.session.commit()
    with app.test_request_context():
        cookie = app.session_interface.get_signing_serializer(app).dumps({"_user_id": token, "_fresh": True})
    tab.context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": cookie, "url": base_url}])


@at(ADMINISTRATOR)
def test_an_admin_sets_up_a_ward_prints_its_link_and_a_family_uses_it(tab, app, trust, base_url, new_context, read):
    page = tab.page
    sign_in_admin(app, tab, base_url)
    page.goto("/admin/")
    tab.check("admin-setup", emergency=False)

    page.get_by_role("link", name="Sites and teams").click()
    page.get_by_label("Name").fill("North Hospital")
    page.get_by_label("Code").fill("north")
    page.get_by_role("button", name="Add the site").click()
    expect(page.get_by_text("North Hospital was added, with the code north")).to_be_visible()
    tab.check("admin-site-added", emergency=False)

    page.get_by_role("button", name="Add a team to North Hospital").click()
    page.get_by_label("Code").fill("north-ccot")
    page.get_by_label("Name").fill("North Outreach Team")
    page.get_by_label("Public number").fill("020 7946 0700")
    page.get_by_label("Duty phone (optional)").fill("07400 900700")
    tab.check("admin-team-form", emergency=False)
    page.get_by_role("button", name="Add the team").click()
    expect(page.get_by_text("North Outreach Team was added to North Hospital")).to_be_visible()

    page.get_by_role("link", name="The wards of North Hospital").click()
    page.get_by_role("button", name="Add a ward to North Hospital").click()
    page.get_by_label("Code").fill("North 4")
    page.get_by_label("Name").fill("Ward 4 (Surgical)")
    page.get_by_label("Outreach team").select_option("north-ccot")
    page.get_by_label("Beds and bays (optional)").fill("Bay 1\nBay 2\nSide room")
    page.get_by_label("Nurse in charge's number (optional)").fill("020 7946 0300")
    page.get_by_role("button", name="Add the ward").click()
    expect(page.get_by_role("alert").get_by_text("Write the code in lower-case letters")).to_be_visible()
    tab.check("admin-ward-code-refused", emergency=False)
    page.get_by_label("Code").fill("north-4")
    page.get_by_role("button", name="Add the ward").click()
    expect(page.get_by_text("Ward 4 (Surgical) was added.")).to_be_visible()
    expect(page.get_by_text("cannot get texts: it is a landline")).to_be_visible()
    tab.check("admin-ward-added", emergency=False)

    page.get_by_role("link", name="Print the ward's link").click()
    link = page.locator("[data-ward-url]").inner_text().strip()
    assert urlsplit(link).path == "/w/north-4"
    assert link == f"{app.config['PUBLIC_BASE_URL'].rstrip('/')}/w/north-4"
    tab.check("admin-ward-link", emergency=False)
    page.emulate_media(media="print")
    expect(page.locator(".nhsuk-header")).to_be_hidden()
    expect(page.locator(".nhsuk-footer-container")).to_be_hidden()
    expect(page.get_by_text("Print this page with your browser's Print command")).to_be_hidden()
    expect(page.locator("[data-ward-url]")).to_be_visible()
    tab.screenshot("admin-ward-link-printed")
    page.emulate_media(media="screen")

    page.goto("/admin/wards")
    expect(page.locator('[data-ward="north-4"]')).to_contain_text("Open")
    tab.check("admin-wards", emergency=False)
    tab.assert_clean()

    # The family, on their own phone, types the link from the poster (on this test's server).
    context = new_context(viewport=PHONE.size)
    family = Tab(context=context, page=context.new_page(), viewport=PHONE.name)
    family.page.goto(urlsplit(link).path)
    expect(family.page.get_by_text("Ward 4 (Surgical)").first).to_be_visible()
    family.check("family-form-on-a-new-ward")
    fill_in_everything(family.page, {**FAMILY, "bed": None})  # the new ward's beds are a list to choose from
    family.page.get_by_label("Bed or bay (optional)").select_option("Bay 2")
    send(family.page)
    reference = reference_on(family.page)
    family.check("family-sent-on-a-new-ward")
    family.assert_clean()
    concern = read.one(Concern, Concern.reference == reference)
    assert concern.ward_id == read.one(Ward, Ward.code == "north-4").id and concern.bed == "Bay 2"


@at(SERVICE_MANAGER, only="desktop")
def test_a_manager_reads_their_team_and_closes_a_ward_after_seeing_its_open_calls(tab, app, trust, base_url, read):
    from tests.e2e.test_manager_records import signed_in_manager
    from tests.services.test_concerns import raise_one

    with app.app_context(), write_intent():
        reference = raise_one(db.session.get(Ward, trust["ward"])).concern.reference
    signed_in_manager(app, tab, trust, base_url, stale=False)
    page = tab.page
    page.goto("/admin/sites")
    page.get_by_role("link", name="General Hospital").click()
    page.get_by_role("link", name="Outreach Team").click()
    expect(page.get_by_text("Only an administrator can change a team")).to_be_visible()
    tab.check("manager-team-read-only", emergency=False)

    page.goto("/admin/wards")
    page.get_by_role("link", name="Ward 7", exact=True).click()
    page.get_by_role("link", name="Close this ward").click()
    expect(page.locator("[data-open-calls]")).to_contain_text(reference)
    page.get_by_role("button", name="Close the ward").click()
    expect(page.get_by_text("Choose the ward its patients moved to, or that there is none").first).to_be_visible()
    tab.check("manager-ward-close-refused", emergency=False)
    page.get_by_label("Where did its patients go?").select_option("w8")
    tab.check("manager-ward-close", emergency=False)
    page.get_by_role("button", name="Close the ward").click()
    expect(page.get_by_text("Ward 7 has closed. Its link still works")).to_be_visible()
    expect(page.locator('[data-ward="w7"]')).to_contain_text("Closed")
    tab.check("manager-ward-closed", emergency=False)
    tab.assert_clean()
    assert read.one(Ward, Ward.id == trust["ward"]).successor_id == trust["beds_ward"]

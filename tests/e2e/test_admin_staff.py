"""Staff accounts in Chromium (docs/architecture.md#set-up), issue 15's acceptance: an administrator invites a nurse
(the link shown once), the nurse opens the invitation in their own browser, chooses a password and signs in; the
administrator puts them on the rota at /on-call; deactivating them while they are on call asks for cover first, a
colleague covers, the account is closed, and the nurse's next request is refused. The invitation cannot be used
twice. Every page passes axe-core and is saved as a screenshot."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import create_staff
from tests.e2e.journeys import ADMINISTRATOR, at
from tracker.clock import local, utcnow
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import User
from tracker.services.paging import rota
from tracker.services.setup.settings import current_settings

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"  # create_staff's
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NURSE_PASSWORD = "marble kettle orchard lantern"
TEAM = "Outreach Team"


@pytest.fixture
def people(app, trust):
    """An administrator (with an authenticator) and a colleague in the team who can cover."""
    admin, _ = create_staff(app, "admin", email="admin@test.invalid", totp_secret=SECRET)
    ben, _ = create_staff(app, "outreach", email="ben@test.invalid", team_ids=[trust["team"]])
    with app.app_context(), write_intent():
        colleague = db.session.get_one(User, ben)
        colleague.display_name, colleague.mobile = "Ben Okafor", "+447400100002"
        db.session.commit()
    return {"admin": admin, "ben": ben}


def sign_in(page: Page, email: str, password: str, *, code: bool = False) -> None:
    page.goto("/auth/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    if code:
        page.get_by_label("Security code").fill(pyotp.TOTP(SECRET).now())
        page.get_by_role("button", name="Continue").click()


@at(ADMINISTRATOR)
def test_an_administrator_invites_a_nurse_puts_them_on_call_and_deactivates_them_after_cover(
    tab, open_tab, app, trust, people, read
):
    page = tab.page
    sign_in(page, "admin@test.invalid", PASSWORD, code=True)
    page.wait_for_url("**/admin/")
    page.get_by_role("link", name="Staff accounts").click()
    page.wait_for_url("**/admin/staff")
    expect(page.get_by_role("heading", name="Staff accounts", level=1)).to_be_visible()
    tab.check("admin-staff-list", emergency=False)

    # A new account: first without a team, which an outreach clinician needs.
    page.get_by_role("button", name="Add a person").click()
    page.wait_for_url("**/admin/staff/new")
    page.get_by_label("Name").fill("Nia Nurse")
    page.get_by_label("Email address").fill("nia@test.invalid")
    page.get_by_label("Outreach clinician").check()
    page.get_by_label("Mobile number (optional)").fill("07400 100077")
    tab.check("admin-staff-new", emergency=False)
    page.get_by_role("button", name="Add this person").click()
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).to_have_text(["Choose the team or teams this clinician works in"])
    expect(page.get_by_label("Name")).to_have_value("Nia Nurse")  # what was typed is kept
    tab.check("admin-staff-new-error", emergency=False)
    summary.get_by_role("link").click()
    expect(page.get_by_label(f"{TEAM} (General Hospital)")).to_be_focused()
    page.get_by_label(f"{TEAM} (General Hospital)").check()
    page.get_by_role("button", name="Add this person").click()
    expect(page.get_by_role("heading", name="Nia Nurse has an account")).to_be_visible()
    link = page.locator("[data-invitation-link]").inner_text()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/auth/invitation/[\w-]{40,}", link), link
    tab.check("admin-staff-invited", emergency=False)

    # The nurse, in their own browser: the invitation, their password, and signing in.
    nurse = open_tab()
    nurse.page.goto(link)
    expect(nurse.page.get_by_role("heading", name="Set up your account")).to_be_visible()
    nurse.check("invitation", emergency=False)
    nurse.page.get_by_label("Password", exact=True).fill(NURSE_PASSWORD)
    nurse.page.get_by_label("Password again").fill(NURSE_PASSWORD)
    nurse.page.get_by_role("button", name="Save my password").click()
    nurse.page.wait_for_url("**/auth/sign-in")
    expect(nurse.page.get_by_text("Your password is saved.")).to_be_visible()
    sign_in(nurse.page, "nia@test.invalid", NURSE_PASSWORD)
    nurse.page.wait_for_url("**/triage/")
    nurse.page.goto(link)
    expect(nurse.page.get_by_text("This invitation has already been used")).to_be_visible()
    nurse.check("invitation-used", emergency=False)
    nurse.page.goto("/triage/")
    expect(nurse.page.get_by_role("heading", name=re.compile("calls", re.I)).first).to_be_visible()

    # The administrator puts the nurse on call now, at the rota page.
    with app.app_context():
        today = local(utcnow(), current_settings().timezone).date()
    page.goto("/on-call/gen-ccot/rota")
    form = page.get_by_role("region", name="Add cover, a swap or an extra person")
    form.get_by_label("Person").select_option(label="Nia Nurse")
    form.get_by_label("Start date").fill(today.isoformat())
    form.get_by_label("Start time").fill("00:00")
    form.get_by_label("End date").fill((today + timedelta(days=1)).isoformat())
    form.get_by_label("End time").fill("23:00")
    form.get_by_role("button", name="Add shift").click()
    expect(page.get_by_role("alert").filter(has_text="Shift added to the rota.")).to_be_visible()
    expect(page.locator("[data-on-call]")).to_contain_text("Nia Nurse")
    tab.check("admin-rota-nurse-on-call", emergency=False)

    # Deactivating them while on call asks for cover first.
    page.goto("/admin/staff")
    page.get_by_role("link", name="Nia Nurse").click()
    expect(page.get_by_role("heading", name="Nia Nurse", level=1)).to_be_visible()
    page.get_by_role("button", name="Deactivate Nia Nurse's account").click()
    expect(page.get_by_role("alert").filter(has_text="Nia Nurse is still on the rota")).to_be_visible()
    place = page.locator("[data-place^=shift-]")
    expect(place).to_contain_text(f"Primary, {TEAM}")
    tab.check("admin-staff-cover-first", emergency=False)
    place.get_by_label(re.compile("^Who covers")).select_option(label="Ben Okafor")
    place.get_by_role("button", name=re.compile("^Cover")).click()
    expect(page.get_by_role("alert").filter(has_text="Shift covered.")).to_be_visible()
    expect(page.locator("[data-no-places]")).to_have_text("Not on any rota.")
    page.get_by_role("button", name="Deactivate Nia Nurse's account").click()
    expect(page.get_by_role("alert").filter(has_text="Nia Nurse's account is deactivated")).to_be_visible()
    expect(page.locator("[data-state]")).to_contain_text("Deactivated")
    tab.check("admin-staff-deactivated", emergency=False)

    # Whoever is on call now is the colleague; the nurse's next request is refused.
    page.goto("/on-call/gen-ccot/rota")
    expect(page.locator("[data-on-call]")).to_contain_text("Ben Okafor")
    expect(page.locator("[data-on-call]")).not_to_contain_text("Nia Nurse")
    with app.app_context():
        nia = read.one(User, User.email == "nia@test.invalid")
        assert not nia.active
        assert [p.user_id for p in rota.on_call(trust["team"])[rota.Tier.PRIMARY]] == [people["ben"]]
    nurse.page.goto("/triage/")
    nurse.page.wait_for_url(re.compile(r"/auth/sign-in"))
    expect(nurse.page.get_by_text("Your account has been deactivated")).to_be_visible()
    nurse.check("deactivated-nurse-signed-out", emergency=False)
    tab.assert_clean()
    nurse.assert_clean()


@at(ADMINISTRATOR)
def test_an_administrator_deactivates_a_clinician_at_once_and_is_told_what_it_left(tab, app, trust, people, read):
    from tests.services.test_escalation import SITE_MANAGER
    from tracker.models import AlertChannel, Team, Tier
    from tracker.services.paging.policy import DEFAULT_STEPS, save_policy
    from tracker.services.records import audit

    with app.app_context(), write_intent():
        team = db.session.get_one(Team, trust["team"])
        save_policy(
            audit.Actor.cli(),
            team,
            steps=DEFAULT_STEPS,
            repeat_times=1,
            fallback_name="Site manager",
            fallback_number=SITE_MANAGER,
            fallback_channel=AlertChannel.VOICE,
            fallback_wait_minutes=10,
        )
        rota.add_shift(
            audit.Actor.cli(),
            team,
            tier=Tier.PRIMARY,
            user_id=people["ben"],
            starts_at=utcnow(),
            ends_at=utcnow() + timedelta(hours=12),
        )
        db.session.commit()
    page = tab.page
    sign_in(page, "admin@test.invalid", PASSWORD, code=True)
    page.wait_for_url("**/admin/")
    page.goto(f"/admin/staff/{people['ben']}")
    page.get_by_text("Deactivate at once (a security incident)").click()
    page.get_by_role("button", name="Deactivate at once").click()
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).to_have_text(["Choose why the account must be deactivated at once"])
    tab.check("admin-staff-at-once-error", emergency=False)
    summary.get_by_role("link").click()
    page.get_by_label("A security incident: the account may be misused").check()
    page.get_by_role("button", name="Deactivate at once").click()
    done = page.get_by_role("alert").filter(has_text="Ben Okafor's account is deactivated")
    expect(done).to_contain_text(f"The rota now has nobody to alert at times for: {TEAM}. Fix the rota now.")
    expect(page.locator("[data-state]")).to_contain_text("At once: A security incident")
    expect(page.locator("[data-left-uncovered]")).to_be_visible()  # the shift left with nobody, to cover here
    tab.check("admin-staff-at-once-done", emergency=False)
    page.goto("/on-call/gen-ccot/rota")
    expect(page.locator("[data-alarm]")).to_contain_text(f"{TEAM}: nobody on the rota is on call now")
    tab.assert_clean()

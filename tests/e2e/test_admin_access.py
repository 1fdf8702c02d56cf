"""The access review in Chromium: a manager opens it from the Set-up page, sees their site's accounts with the one
nobody has used flagged, downloads the CSV (read back with the csv module: the formula typed as a name is inert),
records this month's review as done, and finds the joiner in the audit log under "Staff accounts". Every page passes
axe-core and is saved as a screenshot; nothing leaves 127.0.0.1."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.conftest import create_staff
from tests.e2e.journeys import SERVICE_MANAGER, at
from tests.e2e.test_manager_records import signed_in_manager
from tracker.clock import local, utcnow
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import AccessReview, Role, User, Ward
from tracker.services.people.users import create_user
from tracker.services.records import audit

pytestmark = pytest.mark.browser


def accounts_to_review(app, trust) -> None:
    """A joiner made through the create-user service (audited), a nurse nobody has signed in as for four months, and
    one whose name was typed as a spreadsheet formula."""
    with app.app_context(), write_intent():
        create_user(
            audit.Actor.cli(),
            email="new.nurse@test.invalid",
            display_name="Nell Newman",
            role=Role.WARD_STAFF,
            ward=db.session.get(Ward, trust["ward"]),
        )
        db.session.commit()
    away, _ = create_staff(app, "ward_staff", email="away@test.invalid", ward_id=trust["ward"])
    create_staff(app, "outreach", email="formula@test.invalid", team_ids=[trust["team"]])
    with app.app_context(), write_intent():
        quiet = db.session.get_one(User, away)
        quiet.display_name, quiet.last_sign_in_at = "Alex Away", utcnow() - timedelta(days=120)
        quiet.created_at = utcnow() - timedelta(days=400)
        db.session.scalar(db.select(User).where(User.email == "formula@test.invalid")).display_name = "=1+2"
        db.session.commit()


@at(SERVICE_MANAGER)
def test_a_manager_reviews_access_downloads_it_and_records_it_done(tab, app, trust, base_url, read):
    page = tab.page
    accounts_to_review(app, trust)
    signed_in_manager(app, tab, trust, base_url, stale=False)
    month = local(utcnow(), "Europe/London").strftime("%B %Y")

    page.goto("/admin/")
    page.get_by_role("link", name="Access review").click()
    expect(page).to_have_url(f"{base_url}/admin/access")
    expect(page.get_by_role("heading", name="This month's review is due")).to_be_visible()
    expect(page.locator("[data-summary]")).to_contain_text("1 not used for 90 days or more.")
    away = page.locator('[data-account="away@test.invalid"]')
    expect(away).to_contain_text("Unused for 90+ days")
    expect(away).to_contain_text("Ward 7, General Hospital")
    expect(page.locator('[data-account="manager@test.invalid"]')).to_contain_text("Password and authenticator")
    expect(page.locator('[data-account="new.nurse@test.invalid"]')).to_contain_text("Never")
    tab.check("admin-access-review", emergency=False)

    # The flagged account is one link away in the list above the table.
    page.locator("[data-unused-list]").get_by_role("link", name="Alex Away").click()
    expect(page).to_have_url(f"{base_url}/admin/access#account-{read.one(User, User.email == 'away@test.invalid').id}")

    with page.expect_download() as info:
        page.locator("#download-access").click()
    assert info.value.suggested_filename.startswith("access-review-gen-")
    table = list(csv.DictReader(io.StringIO(info.value.path().read_bytes().decode("utf-8-sig"))))
    by_email = {row["Email"]: row for row in table}
    assert set(by_email) == {
        "new.nurse@test.invalid",
        "away@test.invalid",
        "formula@test.invalid",
        "manager@test.invalid",
    }
    assert by_email["formula@test.invalid"]["Name"] == "'=1+2"
    assert by_email["away@test.invalid"]["Unused for 90 days or more"] == "Yes"

    page.get_by_role("button", name=f"Record {month}'s review as done").click()
    expect(page.locator(".tracker-flash")).to_contain_text("recorded as done")
    expect(page.locator("[data-review-done]")).to_contain_text(f"{month}'s review was recorded by Test manager")
    expect(page.get_by_role("button", name=f"Record {month}'s review as done")).to_have_count(0)
    tab.check("admin-access-review-done", emergency=False)
    assert read.count(AccessReview) == 1

    # The joiner is in the audit log, under the staff accounts' events.
    page.goto("/records/audit")
    page.get_by_label("Show").select_option("accounts")
    page.get_by_role("button", name="Search").click()
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Staff account created")
    expect(rows.first).to_contain_text("account of Nell Newman (new.nurse@test.invalid)")
    tab.check("records-audit-staff-accounts", emergency=False)
    tab.assert_clean()

"""The manager's records in Chromium: confirm the sign-in, download calls as CSV and Excel and the
audit log as CSV (read back with the csv module and openpyxl), search the audit log and see that the
chain verifies, and put a call under legal hold. Every page passes axe-core's WCAG 2.2 AA rules and
is saved as a screenshot; no page is stored and nothing leaves 127.0.0.1."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import openpyxl
import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import create_staff
from tests.e2e.journeys import SERVICE_MANAGER, at
from tests.records.conftest import make_concern
from tracker.clock import utcnow
from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import Concern, ConcernStatus, ConcernType, SessionRecord
from tracker.services.people import sessions

pytestmark = pytest.mark.browser

SECRET = pyotp.random_base32()


def signed_in_manager(app, tab, trust, base_url, *, stale: bool) -> tuple[int, str]:
    """A manager with an authenticator, signed in (cookie set in the browser); `stale` makes the
    sign-in older than the 5 minutes exports allow. Returns (user id, password)."""
    user_id, password = create_staff(
        app, "manager", email="manager@test.invalid", site_id=trust["site"], totp_secret=SECRET
    )
    with app.app_context(), write_intent():
        from tracker.models import User

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


def fill_period(page: Page, form: str, start: date, end: date) -> None:
    for prefix, day in (("from", start), ("to", end)):
        page.locator(f"#{form}-{prefix}-day").fill(str(day.day))
        page.locator(f"#{form}-{prefix}-month").fill(str(day.month))
        page.locator(f"#{form}-{prefix}-year").fill(str(day.year))


def download(page: Page, button: str) -> bytes:
    with page.expect_download() as info:
        page.locator(f"#{button}").click()
    return info.value.path().read_bytes()


@at(SERVICE_MANAGER, only="desktop")
def test_manager_confirms_sign_in_exports_and_checks_the_audit_log(tab, app, trust, base_url, read):
    page = tab.page
    _, password = signed_in_manager(app, tab, trust, base_url, stale=True)
    _, reference = make_concern(
        app,
        trust["ward"],
        patient_name="Pat Jones",
        caller_relationship="=HYPERLINK(1)",
        status=ConcernStatus.CLOSED,
        concern_type=ConcernType.COMMUNICATION,
        clinical_review_needed=False,
        closed_at=utcnow(),
    )

    # Exports need a recent sign-in: the page asks for the password and a code first.
    page.goto("/records/exports")
    expect(page).to_have_url(f"{base_url}/auth/confirm?next=/records/exports")
    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    tab.check("records-confirm-sign-in", emergency=False)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Security code").fill(pyotp.TOTP(SECRET).now())
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(f"{base_url}/records/exports")
    expect(page.get_by_role("heading", name="Exports", exact=True)).to_be_visible()
    expect(page.locator(".nhsuk-header__navigation-link[aria-current='page']")).to_have_text("Exports")
    tab.check("records-exports", emergency=False)

    # A reversed period comes back with a clear message, and nothing is exported.
    today = utcnow().date()
    fill_period(page, "c", today, today - timedelta(days=3))
    page.locator("#download-calls").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text(
        "The end date must be the same as or after the start date"
    )
    tab.check("records-exports-error", emergency=False)

    # Calls as CSV, without patient details, with the formula made inert.
    fill_period(page, "c", today - timedelta(days=3), today)
    rows = list(csv.DictReader(io.StringIO(download(page, "download-calls").decode("utf-8-sig"))))
    assert [row["Reference"] for row in rows] == [reference]
    assert "Patient name" not in rows[0] and rows[0]["Concern type"] == "Communication"

    # With patient details: a reason is needed.
    page.get_by_label("Include patient and caller details").check()
    page.get_by_label("Why this export needs patient details").fill("Complaint investigation C-2026-041")
    rows = list(csv.DictReader(io.StringIO(download(page, "download-calls").decode("utf-8-sig"))))
    assert rows[0]["Patient name"] == "Pat Jones" and rows[0]["Caller relationship"] == "'=HYPERLINK(1)"

    # Excel.
    page.get_by_label("Excel (.xlsx)").check()
    sheet = openpyxl.load_workbook(io.BytesIO(download(page, "download-calls")), read_only=True).active
    table = list(sheet.iter_rows(values_only=True))
    assert table[0][0] == "Reference" and table[1][0] == reference and len(table) == 2

    # The audit log as CSV, for this call.
    fill_period(page, "a", today - timedelta(days=3), today)
    page.locator("#a-reference").fill(reference)
    rows = list(csv.DictReader(io.StringIO(download(page, "download-audit").decode("utf-8-sig"))))
    assert rows and {row["Concern reference"] for row in rows} == {reference}

    # The audit log page: every export is there, and the chain verifies.
    page.get_by_role("link", name="Audit log").first.click()
    expect(page.locator("#chain-status")).to_have_text("Verified")
    page.get_by_label("Action").select_option("exported")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("tbody tr")).to_have_count(4)
    tab.check("records-audit-log", emergency=False)
    page.get_by_label("Action").select_option("")
    page.get_by_label("Call reference").fill(reference)
    page.get_by_role("button", name="Search").click()
    expect(page.locator("tbody")).to_contain_text("Raised")
    tab.check("records-audit-log-call", emergency=False)

    # A legal hold on the call.
    page.get_by_role("link", name=reference).first.click()
    expect(page.get_by_role("heading", name="Keeping this record")).to_be_visible()
    page.get_by_label("Under legal hold").check()
    page.locator("#save-retention").click()
    expect(page.locator(".tracker-flash")).to_contain_text("Retention flags saved")
    expect(page.get_by_label("Under legal hold")).to_be_checked()
    tab.check("records-concern-retention", emergency=False)
    assert read.one(Concern).legal_hold
    assert read.count(SessionRecord) == 1
    tab.assert_clean()


@at(SERVICE_MANAGER)
def test_the_records_pages_on_a_phone_and_a_desktop(tab, app, trust, base_url):
    page = tab.page
    signed_in_manager(app, tab, trust, base_url, stale=False)
    for _ in range(3):
        make_concern(app, trust["ward"])
    page.goto("/records/audit")
    expect(page.locator("#chain-status")).to_have_text("Verified")
    tab.check("records-audit-log-overview", emergency=False)
    page.goto("/records/audit?from-day=31&from-month=12&from-year=2026&to-day=1&to-month=1&to-year=2026")
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("The end date must be the same as or after")
    tab.check("records-audit-log-error", emergency=False)
    page.goto("/records/exports")
    tab.check("records-exports-overview", emergency=False)
    tab.assert_clean()
